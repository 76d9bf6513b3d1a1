// segment_table<T>: the engine's per-segment table (items, segments) indexed by an absolute
// segment index that never changes, stored in blocks so that it can grow at the end and let go
// of its beginning without moving an element: a live stream that plays for days keeps only the
// blocks from the oldest segment still in use, and a reference to element i stays valid on
// every thread until the block holding i is dropped.
//
//   segment_table<item> items(/*max_retained=*/100'000);  // a live table: blocks of 64
//   items.push_back(item{});          // index 0
//   items.drop_before(300);           // frees the blocks wholly before index 300
//   for (auto i = items.first(); i < items.size(); ++i) use(items[i]);
//
// Threads: one writer (push_back, drop_before) at a time, under the owner's lock; readers of
// an index below size() (read under that lock, or known to the reader) may read its element
// on any thread without the lock: elements never move. Buffers: blocks of `block` elements
// (the first one sized for a short table), at most max_retained / block + 2 of them at once.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

namespace kithara::hls::detail {

template <class T>
class segment_table {
public:
    static constexpr std::size_t block = 64;

    segment_table() : segment_table(0) {}
    // Room for `max_retained` elements at once (their indices grow without bound); the first
    // block holds min(block, first_hint) elements when first_hint is not 0 (a table that never
    // grows past first_hint, as a VOD playlist's: exact).
    explicit segment_table(std::size_t max_retained, std::size_t first_hint = 0)
        : slots_(max_retained / block + 2), first_size_(first_hint) {}

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    // The first index still held (0 until drop_before() let go of blocks).
    [[nodiscard]] std::size_t first() const noexcept { return first_block_ * block; }
    [[nodiscard]] bool empty() const noexcept { return size_ == first(); }
    // Whether push_back() has room (the retained elements span fewer blocks than the slots).
    [[nodiscard]] bool full() const noexcept {
        return size_ % block == 0 && size_ / block - first_block_ >= slots_.size();
    }

    [[nodiscard]] T& operator[](std::size_t i) noexcept {
        assert(i >= first() && i < size_);
        return slots_[(i / block) % slots_.size()][i % block];
    }
    [[nodiscard]] const T& operator[](std::size_t i) const noexcept {
        assert(i >= first() && i < size_);
        return slots_[(i / block) % slots_.size()][i % block];
    }
    [[nodiscard]] T& back() noexcept { return (*this)[size_ - 1]; }
    [[nodiscard]] const T& back() const noexcept { return (*this)[size_ - 1]; }

    // The first index in [first(), size()) whose element fails `pred`, for a predicate true on a
    // prefix of the elements and false after it (as std::partition_point); size() when none.
    template <class Pred>
    [[nodiscard]] std::size_t partition_point(Pred pred) const {
        std::size_t lo = first(), hi = size_;
        while (lo < hi) {
            const std::size_t mid = lo + (hi - lo) / 2;
            if (pred((*this)[mid]))
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    // Appends (precondition: !full(), and not past a short first block).
    void push_back(T v) {
        assert(!full());
        auto& slot = slots_[(size_ / block) % slots_.size()];
        if (size_ % block == 0) {
            const bool short_first = size_ == 0 && first_size_ > 0 && first_size_ < block;
            slot = std::make_unique<T[]>(short_first ? first_size_ : block);
        }
        assert(size_ >= block || first_size_ == 0 || first_size_ >= block || size_ < first_size_);
        slot[size_ % block] = std::move(v);
        ++size_;
    }

    // Lets go of the blocks whose elements all precede index i.
    void drop_before(std::size_t i) {
        while ((first_block_ + 1) * block <= std::min(i, size_)) {
            slots_[first_block_ % slots_.size()].reset();
            ++first_block_;
        }
    }

private:
    std::vector<std::unique_ptr<T[]>> slots_;  // block b in slot b % size (fixed count)
    std::size_t first_size_ = 0;
    std::size_t size_ = 0;
    std::size_t first_block_ = 0;
};

}  // namespace kithara::hls::detail
