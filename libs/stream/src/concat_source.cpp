#include <kithara/stream/concat_source.hpp>

#include <kithara/stream/error.hpp>

#include <algorithm>
#include <string>

namespace kithara::stream {

namespace {

auto released_at(std::uint64_t offset) {
    return fail(errc::invalid_seek, "concat_source: offset " + std::to_string(offset) +
                                        " is in a part released behind the reader");
}

}  // namespace

std::shared_ptr<concat_source> concat_source::create(media_hints hints) {
    return std::make_shared<concat_source>(std::move(hints));
}

concat_source::concat_source(media_hints hints) : hints_(std::move(hints)) {}

result<> concat_source::append(std::shared_ptr<source> src, std::optional<byte_range> range,
                               std::optional<media_hints> boundary) {
    if (src == nullptr) return fail(errc::invalid_seek, "concat_source: null part");
    if (range && !range->valid()) return fail(errc::invalid_seek, "concat_source: inverted range");
    {
        std::lock_guard lock(mutex_);
        if (finished_) return fail(errc::invalid_seek, "concat_source: append after finish");
        if (parts_.size() >= max_parts) {
            return fail(errc::invalid_seek,
                        "concat_source: more than " + std::to_string(max_parts) + " parts");
        }
        part p;
        p.src = std::move(src);
        if (range) {
            p.from = range->begin;
            p.to = range->end;
        }
        p.boundary = std::move(boundary);
        if (parts_.empty() && dropped_ == 0) p.start = 0;
        if (parts_.empty() && dropped_ > 0) p.start = dropped_bytes_;
        parts_.push_back(std::move(p));
    }
    appended_.notify_all();
    return {};
}

void concat_source::finish() {
    {
        std::lock_guard lock(mutex_);
        finished_ = true;
    }
    appended_.notify_all();
}

void concat_source::on_demand(std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    demand_ = std::move(fn);
}

std::size_t concat_source::part_count() const {
    std::lock_guard lock(mutex_);
    return dropped_ + parts_.size();
}

void concat_source::release_parts_before(std::size_t index) {
    std::vector<std::shared_ptr<source>> gone;  // let go of after the lock
    {
        std::lock_guard lock(mutex_);
        (void)locate(dropped_bytes_);  // fills in the starts and sizes that are known
        std::size_t n = 0;
        while (n < parts_.size() && dropped_ + n < index && parts_[n].start && parts_[n].size) ++n;
        for (std::size_t i = 0; i < n; ++i) {
            dropped_bytes_ = *parts_[i].start + *parts_[i].size;
            gone.push_back(std::move(parts_[i].src));
        }
        parts_.erase(parts_.begin(), parts_.begin() + static_cast<std::ptrdiff_t>(n));
        dropped_ += n;
    }
}

void concat_source::learn_size(part& p) const {
    if (p.size) return;
    if (p.to) {  // a declared range is taken as declared
        p.size = *p.to - p.from;
        return;
    }
    if (auto len = p.src->length()) p.size = *len > p.from ? *len - p.from : 0;
}

concat_source::place concat_source::locate(std::uint64_t offset) const {
    if (offset < dropped_bytes_) return {0, 0, false, true};
    std::uint64_t start = dropped_bytes_;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
        part& p = parts_[i];
        if (!p.start) p.start = start;
        learn_size(p);
        if (!p.size) return {i, offset - *p.start, false};
        if (offset < *p.start + *p.size) return {i, offset - *p.start, true};
        start = *p.start + *p.size;
    }
    return {parts_.size(), offset - start, false};
}

std::optional<std::uint64_t> concat_source::length() const {
    std::lock_guard lock(mutex_);
    if (!finished_) return std::nullopt;
    std::uint64_t total = dropped_bytes_;
    for (auto& p : parts_) {
        learn_size(p);
        if (!p.size) return std::nullopt;
        total += *p.size;
    }
    return total;
}

result<wait_status> concat_source::wait_range(byte_range r, std::optional<deadline> until,
                                              std::stop_token stop) {
    std::uint64_t pos = r.begin;
    while (pos < r.end) {
        if (stop.stop_requested()) return wait_status::cancelled;
        std::shared_ptr<source> src;
        std::uint64_t from = 0, local = 0;
        std::optional<std::uint64_t> size;
        std::size_t index = 0;
        {
            std::unique_lock lock(mutex_);
            const place pl = locate(pos);
            if (pl.released) return released_at(pos);
            if (pl.index == parts_.size()) {
                if (finished_) return pos == r.begin ? wait_status::eof : wait_status::ready;
                const std::size_t n = dropped_ + parts_.size();
                if (demand_ && demanded_at_ != n) {
                    demanded_at_ = n;
                    auto fn = demand_;
                    lock.unlock();
                    fn();
                    continue;
                }
                auto more = [&] { return dropped_ + parts_.size() > n || finished_; };
                const bool ok = until ? appended_.wait_until(lock, stop, *until, more)
                                      : appended_.wait(lock, stop, more);
                if (!ok) {
                    return stop.stop_requested() ? wait_status::cancelled : wait_status::timed_out;
                }
                continue;
            }
            const part& p = parts_[pl.index];
            src = p.src;  // held for the call: a release may let go of the part meanwhile
            from = p.from;
            local = pl.local;
            size = p.size;
            index = pl.index;
        }
        std::uint64_t end_local = local + (r.end - pos);
        if (size) end_local = std::min(end_local, *size);
        auto w = src->wait_range({from + local, from + end_local}, until, stop);
        if (!w) return fail(w.error());
        if (*w == wait_status::cancelled || *w == wait_status::timed_out) return *w;
        if (*w == wait_status::ready && size) {
            pos += end_local - local;
            continue;
        }
        // A part of unknown size answered: ready (up to its end, if it learned one) or eof.
        // Parts of unknown extent are never released, so it is still at index.
        std::lock_guard lock(mutex_);
        part& p = parts_[index];
        learn_size(p);
        if (!p.size) {
            if (*w == wait_status::ready) return wait_status::ready;  // r lies inside it
            return fail(errc::source_failed, "concat_source: a part ended without a length");
        }
        pos = *p.start + (*w == wait_status::ready ? std::min(*p.size, end_local) : *p.size);
    }
    return wait_status::ready;
}

result<std::size_t> concat_source::read_at(std::uint64_t offset, std::span<std::byte> out) {
    if (out.empty()) return std::size_t{0};
    for (int attempt = 0; attempt < 2; ++attempt) {
        std::shared_ptr<source> src;
        std::uint64_t from = 0, local = 0;
        std::optional<std::uint64_t> size;
        std::size_t index = 0;
        {
            std::lock_guard lock(mutex_);
            const place pl = locate(offset);
            if (pl.released) return released_at(offset);
            if (pl.index == parts_.size()) {
                if (finished_) return std::size_t{0};
                return fail(errc::not_available);
            }
            const part& p = parts_[pl.index];
            src = p.src;
            from = p.from;
            local = pl.local;
            size = p.size;
            index = dropped_ + pl.index;
        }
        std::span<std::byte> want = out;
        if (size) {
            want = out.first(
                static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), *size - local)));
        }
        auto n = src->read_at(from + local, want);
        if (!n) return n;
        if (*n > 0) return n;
        if (size) {
            return fail(errc::source_failed, "concat_source: part " + std::to_string(index) +
                                                 " ended before its declared size");
        }
        // The unknown-size part ended at `offset`: its length is known now; retry past it.
    }
    return fail(errc::source_failed, "concat_source: a part ended without a length");
}

void concat_source::will_need(byte_range r) {
    std::uint64_t pos = r.begin;
    while (pos < r.end) {
        std::shared_ptr<source> src;
        std::uint64_t from = 0, local = 0, take = 0;
        {
            std::lock_guard lock(mutex_);
            const place pl = locate(pos);
            if (pl.released || pl.index == parts_.size()) return;
            const part& p = parts_[pl.index];
            src = p.src;
            from = p.from;
            local = pl.local;
            take = p.size ? std::min(*p.size - local, r.end - pos) : r.end - pos;
            if (!p.size) pos = r.end;  // unknown extent: advise what is asked and stop
        }
        src->will_need({from + local, from + local + take});
        if (pos < r.end) pos += take;
    }
}

media_hints concat_source::hints() const {
    std::lock_guard lock(mutex_);
    return hints_;
}

std::optional<format_boundary> concat_source::boundary_after(std::uint64_t after) const {
    std::lock_guard lock(mutex_);
    std::uint64_t start = dropped_bytes_;
    for (auto& p : parts_) {
        if (!p.start) p.start = start;
        if (p.boundary && *p.start > after) return format_boundary{*p.start, *p.boundary};
        learn_size(p);
        if (!p.size) return std::nullopt;  // later parts have no offset yet
        start = *p.start + *p.size;
    }
    return std::nullopt;
}

}  // namespace kithara::stream
