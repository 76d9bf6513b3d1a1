// kithara::storage::byte_range and range_set: a coalescing set of half-open byte intervals.
//
//   kithara::storage::range_set s;
//   s.insert({0, 100}); s.insert({100, 200});          // coalesced into [0, 200); returns 100
//   bool ok = s.contains({50, 150}); auto end = s.contiguous_end(10);   // true, 200
//
// Ranges are half-open [begin, end) over uint64 offsets. Adjacent and overlapping inserts
// coalesce, so the set always holds disjoint, non-adjacent, non-empty ranges in order.
// insert/contains/contiguous_end are O(log n); the common one-range case needs no allocation.
// A plain value type with no locking: one thread at a time (resources guard theirs with a mutex).
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/storage/export.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace kithara::storage {

struct byte_range {
    std::uint64_t begin = 0;
    std::uint64_t end = 0;  // one past the last byte

    // [offset, offset + length), or errc::invalid_range when the sum overflows 64 bits.
    [[nodiscard]] KITHARA_STORAGE_EXPORT static result<byte_range> at(std::uint64_t offset,
                                                                      std::uint64_t length);

    [[nodiscard]] constexpr bool valid() const noexcept { return begin <= end; }
    [[nodiscard]] constexpr bool empty() const noexcept { return begin >= end; }
    [[nodiscard]] constexpr std::uint64_t size() const noexcept {
        return empty() ? 0 : end - begin;
    }
    friend constexpr bool operator==(const byte_range&, const byte_range&) noexcept = default;
};

class KITHARA_STORAGE_EXPORT range_set {
public:
    range_set() = default;

    // Adds r (empty or invalid ranges are ignored); returns the number of bytes newly covered.
    std::uint64_t insert(byte_range r);
    void clear() noexcept;

    // True when every byte of r is covered (an empty r is always contained).
    [[nodiscard]] bool contains(byte_range r) const noexcept;
    [[nodiscard]] bool contains(std::uint64_t offset) const noexcept;
    // The end of the covered run that holds `from`, or `from` itself when it is not covered.
    [[nodiscard]] std::uint64_t contiguous_end(std::uint64_t from) const noexcept;
    // The first uncovered sub-range of `within`, if any.
    [[nodiscard]] std::optional<byte_range> first_gap(byte_range within) const noexcept;
    // All uncovered sub-ranges of `within`, in order (at most size() + 1 of them).
    [[nodiscard]] std::vector<byte_range> gaps(byte_range within) const;

    [[nodiscard]] std::uint64_t covered_bytes() const noexcept { return covered_; }
    [[nodiscard]] std::size_t size() const noexcept {
        return many_.empty() ? (one_ ? 1 : 0) : many_.size();
    }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    // The highest covered offset + 1, or 0 when empty.
    [[nodiscard]] std::uint64_t max_end() const noexcept;
    // The disjoint ranges in ascending order.
    [[nodiscard]] std::vector<byte_range> ranges() const;

    friend bool operator==(const range_set& a, const range_set& b) {
        return a.ranges() == b.ranges();
    }

private:
    // At most one range lives inline in one_; from the second disjoint range on, all live in
    // many_ (begin -> end) and one_ is unused.
    std::optional<byte_range> one_;
    std::map<std::uint64_t, std::uint64_t> many_;
    std::uint64_t covered_ = 0;
};

}  // namespace kithara::storage
