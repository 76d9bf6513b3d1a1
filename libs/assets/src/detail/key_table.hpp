// Internal: an open-addressing map from a 128-bit key to a uint32 slot, with linear probing and
// backward-shift deletion (no tombstones). Keys are SHA-256 prefixes, so their first 8 bytes are
// already a uniform hash. Not thread-safe: the store's mutex guards it.
#pragma once

#include <kithara/assets/key.hpp>

#include <cstdint>
#include <cstring>
#include <vector>

namespace kithara::assets::detail {

class key_table {
public:
    static constexpr std::uint32_t npos = 0xFFFFFFFFu;

    void reserve(std::size_t n) {
        std::size_t cap = 16;
        while (cap * 3 < n * 4) cap *= 2;  // load factor <= 3/4
        if (cap > entries_.size()) rehash(cap);
    }

    [[nodiscard]] std::uint32_t find(const key& k) const noexcept {
        if (entries_.empty()) return npos;
        const std::size_t mask = entries_.size() - 1;
        for (std::size_t i = home(k) & mask;; i = (i + 1) & mask) {
            const entry& e = entries_[i];
            if (e.value == npos) return npos;
            if (same(e.k, k)) return e.value;
        }
    }

    // Inserts k -> v; returns false (and changes nothing) when k is present.
    bool insert(const key& k, std::uint32_t v) {
        if ((size_ + 1) * 4 > entries_.size() * 3) {
            rehash(entries_.empty() ? 16 : entries_.size() * 2);
        }
        const std::size_t mask = entries_.size() - 1;
        for (std::size_t i = home(k) & mask;; i = (i + 1) & mask) {
            entry& e = entries_[i];
            if (e.value == npos) {
                e.k = k;
                e.value = v;
                ++size_;
                return true;
            }
            if (same(e.k, k)) return false;
        }
    }

    void erase(const key& k) noexcept {
        if (entries_.empty()) return;
        const std::size_t mask = entries_.size() - 1;
        std::size_t i = home(k) & mask;
        for (;; i = (i + 1) & mask) {
            if (entries_[i].value == npos) return;
            if (same(entries_[i].k, k)) break;
        }
        // Backward-shift: move later entries of the cluster into the hole when allowed.
        for (std::size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
            if (entries_[j].value == npos) break;
            const std::size_t h = home(entries_[j].k) & mask;
            // Entry j may move to i when its home is not in the cyclic range (i, j].
            const bool in_range = i <= j ? (h > i && h <= j) : (h > i || h <= j);
            if (!in_range) {
                entries_[i] = entries_[j];
                i = j;
            }
        }
        entries_[i].value = npos;
        --size_;
    }

    void clear() noexcept {
        entries_.clear();
        size_ = 0;
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    struct entry {
        key k;
        std::uint32_t value = npos;
    };

    static std::size_t home(const key& k) noexcept {
        std::uint64_t h;
        std::memcpy(&h, k.bytes.data(), sizeof h);
        return static_cast<std::size_t>(h);
    }
    static bool same(const key& a, const key& b) noexcept {
        std::uint64_t a0, a1, b0, b1;
        std::memcpy(&a0, a.bytes.data(), 8);
        std::memcpy(&a1, a.bytes.data() + 8, 8);
        std::memcpy(&b0, b.bytes.data(), 8);
        std::memcpy(&b1, b.bytes.data() + 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }

    void rehash(std::size_t cap) {
        std::vector<entry> old(cap);
        old.swap(entries_);
        size_ = 0;
        for (const entry& e : old) {
            if (e.value != npos) insert(e.k, e.value);
        }
    }

    std::vector<entry> entries_;
    std::size_t size_ = 0;
};

}  // namespace kithara::assets::detail
