#include <kithara/storage/range_set.hpp>

#include <kithara/storage/error.hpp>

#include <algorithm>
#include <iterator>
#include <string>

namespace kithara::storage {

result<byte_range> byte_range::at(std::uint64_t offset, std::uint64_t length) {
    if (length > UINT64_MAX - offset) {
        return fail(errc::invalid_range, "range " + std::to_string(offset) + "+" +
                                             std::to_string(length) + " overflows 64 bits");
    }
    return byte_range{offset, offset + length};
}

std::uint64_t range_set::insert(byte_range r) {
    if (r.empty()) return 0;
    if (many_.empty()) {
        if (!one_) {
            one_ = r;
            covered_ += r.size();
            return r.size();
        }
        byte_range& o = *one_;
        if (r.begin <= o.end && o.begin <= r.end) {  // overlapping or adjacent: coalesce inline
            const std::uint64_t before = o.size();
            o.begin = std::min(o.begin, r.begin);
            o.end = std::max(o.end, r.end);
            const std::uint64_t added = o.size() - before;
            covered_ += added;
            return added;
        }
        many_.emplace(o.begin, o.end);
        one_.reset();
    }

    // First range whose begin is > r.begin; the one before it may overlap or touch r.
    auto it = many_.upper_bound(r.begin);
    if (it != many_.begin()) {
        auto prev = std::prev(it);
        if (prev->second >= r.begin) it = prev;
    }
    std::uint64_t begin = r.begin;
    std::uint64_t end = r.end;
    std::uint64_t absorbed = 0;
    while (it != many_.end() && it->first <= end) {
        begin = std::min(begin, it->first);
        end = std::max(end, it->second);
        absorbed += it->second - it->first;
        it = many_.erase(it);
    }
    many_.emplace_hint(it, begin, end);
    const std::uint64_t added = (end - begin) - absorbed;
    covered_ += added;
    if (many_.size() == 1) {  // back to the inline form
        one_ = byte_range{many_.begin()->first, many_.begin()->second};
        many_.clear();
    }
    return added;
}

void range_set::clear() noexcept {
    one_.reset();
    many_.clear();
    covered_ = 0;
}

std::uint64_t range_set::contiguous_end(std::uint64_t from) const noexcept {
    if (many_.empty()) {
        if (one_ && one_->begin <= from && from < one_->end) return one_->end;
        return from;
    }
    auto it = many_.upper_bound(from);
    if (it == many_.begin()) return from;
    --it;
    return from < it->second ? it->second : from;
}

bool range_set::contains(std::uint64_t offset) const noexcept {
    return contiguous_end(offset) > offset;
}

bool range_set::contains(byte_range r) const noexcept {
    if (r.empty()) return true;
    return contiguous_end(r.begin) >= r.end;
}

std::optional<byte_range> range_set::first_gap(byte_range within) const noexcept {
    if (within.empty()) return std::nullopt;
    const std::uint64_t run_end = contiguous_end(within.begin);
    if (run_end >= within.end) return std::nullopt;
    const std::uint64_t gap_begin = run_end;  // == within.begin when not covered
    // The gap ends where the next covered range begins (or at within.end).
    std::uint64_t gap_end = within.end;
    if (many_.empty()) {
        if (one_ && one_->begin > gap_begin) gap_end = std::min(gap_end, one_->begin);
    } else {
        auto next = many_.upper_bound(gap_begin);
        if (next != many_.end()) gap_end = std::min(gap_end, next->first);
    }
    return byte_range{gap_begin, gap_end};
}

std::vector<byte_range> range_set::gaps(byte_range within) const {
    std::vector<byte_range> out;
    while (auto g = first_gap(within)) {
        out.push_back(*g);
        if (g->end >= within.end) break;
        within.begin = contiguous_end(g->end);
        if (within.begin >= within.end) break;
    }
    return out;
}

std::uint64_t range_set::max_end() const noexcept {
    if (many_.empty()) return one_ ? one_->end : 0;
    return many_.rbegin()->second;
}

std::vector<byte_range> range_set::ranges() const {
    std::vector<byte_range> out;
    if (many_.empty()) {
        if (one_) out.push_back(*one_);
        return out;
    }
    out.reserve(many_.size());
    for (const auto& [b, e] : many_) out.push_back({b, e});
    return out;
}

}  // namespace kithara::storage
