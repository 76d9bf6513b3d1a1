// A file's download on the executor: first request, demand and sequential gap fetching,
// response/validator handling, resume, invalidation, and background flushes and metadata writes.
#include "detail/controller.hpp"

#include <kithara/assets/error.hpp>
#include <kithara/detail/log.hpp>
#include <kithara/net/error.hpp>

#include "detail/http_policy.hpp"

#include <algorithm>

namespace kithara::file::detail {

using storage::byte_range;

namespace {

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::int64_t now_unix() {
    return unix_seconds(std::chrono::system_clock::now());
}

}  // namespace

worker::blocking_pool& controller::shared_background() {
    static auto* pool =
        new worker::blocking_pool({.threads = 1, .max_queued = 64, .name = "kithara-flush"});
    return *pool;
}

void controller::finish_background() {
    {
        std::unique_lock lock(tasks_mutex_);
        tasks_done_.wait(lock, [&] { return tasks_ == 0; });
    }
    write_pending_meta();
}

std::string controller::data_name(std::uint64_t gen) {
    return "kithara-file://data/" + std::to_string(gen);
}

result<> controller::open_data() {
    auto h = asset_.open_streaming(data_name(meta_.gen), {.flush_every_bytes = 0});
    if (!h) return fail(h.error());
    auto d = std::make_shared<data_state>();
    d->h = std::move(*h);
    if (meta_.length && !d->res().final_length()) {
        if (auto r = d->res().commit(*meta_.length); !r) return fail(r.error());
    }
    data_ = std::move(d);
    return {};
}

bool controller::fresh() const {
    if (!had_meta_) return false;
    const auto now = now_unix();
    if (opts_.trust_cache && now - meta_.fetched_at <= opts_.trust_cache->count()) return true;
    return meta_.fresh_until > now;
}

void controller::emit(event_kind k, std::uint64_t offset, std::optional<kithara::error> e) {
    if (!opts_.on_event) return;
    event ev;
    ev.kind = k;
    ev.offset = offset;
    auto avail = res().available();
    ev.downloaded = avail.covered_bytes();
    ev.ranges = avail.size();
    ev.length = res().final_length();
    ev.failure = std::move(e);
    opts_.on_event(ev);
}

void controller::start_first(std::promise<result<>>* done) {
    exec_thread = std::this_thread::get_id();
    exec_used = true;
    first_done_ = done;
    auto avail = res().available();
    std::uint64_t at = 0;
    std::uint64_t end = no_end;
    if (res().complete()) {
        // Revalidate with one byte (If-Range); it is cached, so the fetch stops there.
        at = *res().final_length() - 1;
        end = at + 1;
    } else if (auto g = avail.first_gap({0, res().final_length().value_or(no_end)})) {
        at = g->begin;
        end = g->end;
    }
    start_fetch(at, end, /*demand=*/false, /*first=*/true);
}

void controller::start_fetch(std::uint64_t at, std::uint64_t end, bool demand, bool first) {
    auto f = std::make_shared<fetcher>();
    f->owner = weak_from_this();
    f->start = f->pos = at;
    f->end = end;
    f->first = first;
    f->demand = demand;
    net::request req;
    req.url = url_;
    req.headers = opts_.headers;
    req.options = opts_.request;
    if (first && res().complete()) req.options.retry.max_retries = 1;  // fall back to cache
    if (at > 0 || end != no_end) {
        std::optional<std::uint64_t> len;
        if (end != no_end) len = end - at;
        req.range = net::byte_range{at, len};
    }
    if (meta_.has_validator() && (at > 0 || res().available_bytes() > 0))
        req.if_range = meta_.if_range();
    active_.push_back(f);
    ++requests_;
    if (demand) ++demand_requests_;
    f->handle = client_.start(std::move(req), f);
    emit(event_kind::request_started, at);
}

result<> controller::on_response(fetcher& f, const net::response_head& head) {
    if (closed_) return fail(errc::closed, url_);
    const bool whole = head.body_offset == 0 && f.start > 0 && !head.range_ignored;
    if (f.first) {
        const bool had_data = res().available_bytes() > 0;
        bool changed = whole && had_data;
        if (had_data && had_meta_ && validators_differ(meta_, head)) changed = true;
        if (changed) {
            // Never splice: a new data resource for the new entity; the old one is deleted
            // (once its last handle, e.g. a queued flush, is gone).
            ++meta_.gen;
            meta_.length.reset();
            if (auto r = open_data(); !r) return r;
            remove_old_generation();
            emit(event_kind::invalidated);
        }
        meta_.etag = head.etag;
        meta_.last_modified = head.last_modified;
        const auto received = std::chrono::system_clock::now();
        meta_.fetched_at = unix_seconds(received);
        meta_.fresh_until = fresh_until_unix(head, received);
        meta_.ranges = serves_ranges(head);
        if (head.range_ignored) meta_.ranges = false;
        meta_.container = infer_container(head.content_type, url_);
        if (head.entity_size) {
            meta_.length = head.entity_size;
            if (!res().final_length()) {
                if (auto r = res().commit(*head.entity_size); !r) return r;
            }
        }
        had_meta_ = true;
        save_meta();
    } else {
        if (whole) return fail(errc::content_changed, "If-Range failed for " + url_);
        if (!meta_.etag.empty() && !head.etag.empty() && head.etag != meta_.etag)
            return fail(errc::content_changed, "ETag changed for " + url_);
        if (head.range_ignored) meta_.ranges = false;
    }
    f.pos = head.body_offset;
    if (whole) f.end = no_end;
    if (f.first) signal_first({});
    return {};
}

result<> controller::on_data(fetcher& f, std::uint64_t offset, std::span<const std::byte> bytes) {
    if (closed_) return fail(errc::closed, url_);
    const byte_range r{offset, offset + bytes.size()};
    auto avail = res().available();
    if (avail.contains(r)) {
        // Ran into bytes cached (by another request or an earlier run): stop here.
        f.caught_up = true;
        return fail(errc::closed, "caught up");
    }
    if (auto w = res().write_at(offset, bytes); !w) return w;
    f.pos = r.end;
    fetched_ += bytes.size();
    since_flush_ += bytes.size();
    since_progress_ += bytes.size();
    if (since_flush_ >= opts_.flush_every_bytes) {
        since_flush_ = 0;
        schedule_flush();
    }
    if (since_progress_ >= opts_.progress_every_bytes) {
        since_progress_ = 0;
        emit(event_kind::progress);
    }
    if (f.end != no_end && f.pos >= f.end) f.caught_up = true;
    check_complete();
    return {};
}

result<> controller::on_restart(fetcher& f, const net::response_head& head) {
    // Validators changed (or a whole new entity came): the cached bytes are another file.
    if (meta_.has_validator() || head.body_offset != f.start)
        return fail(errc::content_changed, "restarted with different content: " + url_);
    f.pos = head.body_offset;  // no validators: the same bytes are rewritten
    return {};
}

void controller::on_complete(fetcher& f, result<net::transfer_stats> outcome) {
    std::erase_if(active_, [&](const auto& p) { return p.get() == &f; });
    bool ok = outcome || f.caught_up || f.cancelled_by_us ||
              (closed_ && is_cancellation(outcome.error()));
    if (outcome && !res().final_length() && f.end == no_end) {
        // Unknown length (chunked): the end of an open-ended response is the end.
        if (auto r = res().commit(f.pos); !r) {
            fail_all(r.error());
            return;
        }
        meta_.length = f.pos;
        save_meta();
        check_complete();
    }
    if (!ok && f.pos > f.start && resumable(outcome.error())) {
        // The net client's retry budget is per request; a request that made progress is
        // resumed by a new one at its position (each resume needs progress: no loop).
        KITHARA_LOG_DEBUG("file: resuming at {} after: {}", f.pos, outcome.error().message());
        ok = true;
    }
    if (!ok) {
        kithara::error e = outcome.error();
        if (f.first && first_done_) {
            signal_first(fail(e));
            return;
        }
        fail_all(std::move(e));
        return;
    }
    if (f.first && first_done_) signal_first({});
    schedule_next();
}

void controller::demand(std::uint64_t offset, bool advisory) {
    if (closed_ || failed_) return;
    if (advisory && active_.size() >= opts_.max_requests) return;
    if (!advisory) last_demand_ = offset;
    auto avail = res().available();
    if (avail.contains(offset)) return;
    const auto len = res().final_length();
    if (len && offset >= *len) return;
    for (auto& f : active_) {
        if (f->pos <= offset && offset < f->pos + opts_.prefetch_bytes && offset < f->end)
            return;  // a running request gets there soon
    }
    if (!meta_.ranges) {
        if (active_.empty()) schedule_next();
        return;  // sequential only
    }
    if (active_.size() >= opts_.max_requests) {
        // Make room: cancel the request that is not serving a demand, else the oldest.
        auto victim = active_.begin();
        for (auto it = active_.begin(); it != active_.end(); ++it) {
            if (!(*it)->demand) {
                victim = it;
                break;
            }
        }
        (*victim)->cancelled_by_us = true;
        (*victim)->handle.cancel();
        active_.erase(victim);
    }
    std::uint64_t end = len.value_or(no_end);
    if (auto g = avail.first_gap({offset, end})) end = g->end;
    for (auto& f : active_)
        if (f->pos > offset) end = std::min(end, f->pos);
    // A small gap of known extent (an MP4 moov or Ogg's last pages at the end) is split
    // across the free request slots: each response is then limited by its own connection's
    // throughput (per-connection rate limits, TCP windows on long paths), not all of them.
    std::uint64_t parts = 1;
    const std::uint64_t free_slots =
        opts_.max_requests > active_.size() ? opts_.max_requests - active_.size() : 1;
    if (end != no_end && end - offset <= opts_.split_limit_bytes && opts_.split_min_bytes > 0) {
        parts = std::clamp<std::uint64_t>((end - offset) / opts_.split_min_bytes, 1, free_slots);
    }
    const std::uint64_t step = end == no_end ? 0 : (end - offset + parts - 1) / parts;
    for (std::uint64_t i = 0; i < parts; ++i) {
        const std::uint64_t b = offset + i * step;
        const std::uint64_t e = i + 1 == parts ? end : std::min(end, b + step);
        if (b < e || end == no_end) start_fetch(b, e, /*demand=*/true, /*first=*/false);
    }
}

void controller::schedule_next() {
    if (closed_ || failed_ || !active_.empty()) return;
    if (res().complete()) return;
    const auto len = res().final_length();
    auto gaps = res().available().gaps({0, len.value_or(no_end)});
    if (gaps.empty()) return;
    auto pick = gaps.front();
    for (auto& g : gaps) {
        if (g.end > last_demand_) {
            pick = g;
            if (g.begin < last_demand_ && meta_.ranges) pick.begin = last_demand_;
            break;
        }
    }
    if (!meta_.ranges) pick = gaps.front();
    start_fetch(pick.begin, pick.end, /*demand=*/false, /*first=*/false);
}

void controller::check_complete() {
    if (complete_reported_ || !res().complete()) return;
    complete_reported_ = true;
    save_meta();
    schedule_flush();
    emit(event_kind::complete);
}

void controller::fail_all(kithara::error e) {
    if (failed_) return;
    failed_ = true;
    KITHARA_LOG_WARN("file: download failed: {}", e.message());
    for (auto& f : active_) {
        f->cancelled_by_us = true;
        f->handle.cancel();
    }
    active_.clear();
    res().fail(e);
    emit(event_kind::error, 0, std::move(e));
}

void controller::close() {
    closed_ = true;
    for (auto& f : active_) {
        f->cancelled_by_us = true;
        f->handle.cancel();
    }
    active_.clear();
}

void controller::remove_old_generation() {
    if (meta_.gen == 0) return;
    run_background([this, name = data_name(meta_.gen - 1)] {
        if (auto r = asset_.remove_resource(name); !r && r.error() != assets::errc::removal_pending)
            KITHARA_LOG_WARN("file: removing an old data generation failed: {}",
                             r.error().message());
    });
}

void controller::save_meta() {
    {
        std::lock_guard lock(meta_mutex_);
        meta_pending_ = meta_.serialize();
        meta_pending_gen_ = meta_.gen;
        meta_dirty_ = true;
        if (meta_queued_) return;
        meta_queued_ = true;
    }
    if (!run_background([this] { write_pending_meta(); })) {
        std::lock_guard lock(meta_mutex_);
        meta_queued_ = false;
    }
}

void controller::write_pending_meta() {
    std::string s;
    std::uint64_t gen = 0;
    {
        std::lock_guard lock(meta_mutex_);
        meta_queued_ = false;
        if (!meta_dirty_) return;
        meta_dirty_ = false;
        s = std::move(meta_pending_);
        gen = meta_pending_gen_;
    }
    // Another source of the same URL may have moved to a newer generation (and deleted
    // ours): its metadata stays.
    if (auto cur = meta_res_.read(); cur && !cur->empty()) {
        std::string_view text(reinterpret_cast<const char*>(cur->data()), cur->size());
        if (auto stored = meta::parse(text); stored && stored->gen > gen) return;
    }
    auto w = meta_res_.replace(std::as_bytes(std::span(s.data(), s.size())));
    if (!w) KITHARA_LOG_WARN("file: storing metadata failed: {}", w.error().message());
}

void controller::schedule_flush() {
    if (flush_pending_.exchange(true)) return;
    const bool queued = run_background([this, d = data_] {
        flush_pending_.store(false);
        if (auto f = d->res().flush(); !f)
            KITHARA_LOG_WARN("file: flush failed: {}", f.error().message());
    });
    if (!queued) flush_pending_ = false;
}

void controller::signal_first(result<> r) {
    if (!first_done_) return;
    auto* p = std::exchange(first_done_, nullptr);
    p->set_value(std::move(r));
}

result<> fetcher::on_response(const net::response_head& head) {
    auto c = owner.lock();
    if (!c) return fail(errc::closed, "source gone");
    return c->on_response(*this, head);
}
result<> fetcher::on_data(std::uint64_t offset, std::span<const std::byte> bytes) {
    auto c = owner.lock();
    if (!c) return fail(errc::closed, "source gone");
    return c->on_data(*this, offset, bytes);
}
result<> fetcher::on_restart(const net::response_head& head) {
    auto c = owner.lock();
    if (!c) return fail(errc::closed, "source gone");
    return c->on_restart(*this, head);
}
void fetcher::on_complete(result<net::transfer_stats> outcome) {
    if (auto c = owner.lock()) c->on_complete(*this, std::move(outcome));
}

}  // namespace kithara::file::detail
