// fetch: the prefetch window's requests. Each item (segment or init section) is downloaded into
// its streaming resource from the first byte the cache lacks, resumed after a failure that made
// progress, checked against the validators stored with its cached bytes (If-Range on resume; a
// changed entity is content_changed, never spliced), and counted for stats and pin progress.
#include "detail/engine.hpp"
#include "detail/session.hpp"

#include <kithara/assets/key.hpp>
#include <kithara/detail/log.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/net/http.hpp>

#include <algorithm>
#include <limits>

namespace kithara::hls::detail {

std::string validators_name(const std::string& url) {
    return "kithara-hls://validators/" + assets::resource_key(url).hex();
}

namespace {

constexpr std::uint64_t progress_every_bytes = 64 * 1024;

// A failure worth a new request at the first missing byte (the request made progress).
bool resumable(const kithara::error& e) {
    const auto& c = e.code();
    if (c == net::errc::connection_lost || c == net::errc::stalled) return true;
    return c == net::errc::retries_exhausted && net::http_status_of(e) == 0;
}

// Writes one response into an item's resource; reports to the engine on the executor.
class fetch_sink final : public net::sink {
public:
    fetch_sink(std::shared_ptr<engine> e, std::size_t i,
               std::shared_ptr<assets::streaming_handle> res, bool whole, bool resuming)
        : e_(std::move(e)), i_(i), res_(std::move(res)), whole_(whole), resuming_(resuming) {}
    result<> on_response(const net::response_head& head) override {
        // Validators first: a resume whose If-Range did not match (the whole new entity came)
        // or a new ETag is content_changed before any byte is written.
        if (auto r = e_->on_head(i_, head, resuming_); !r) return r;
        if (whole_ && head.entity_size) {
            auto& r = res_->resource();
            if (auto len = r.final_length(); len && *len != *head.entity_size) {
                return kithara::fail(errc::content_changed,
                                     "segment " + e_->items()[i_].label + " is " +
                                         std::to_string(*head.entity_size) +
                                         " bytes on the server, " + std::to_string(*len) +
                                         " in the cache");
            }
            if (auto c = r.commit(*head.entity_size); !c) return c;
        }
        return {};
    }
    result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) override {
        e_->on_bytes(bytes.size());
        end_ = offset + bytes.size();
        progressed_ = true;
        return res_->resource().write_at(offset, bytes);
    }
    result<> on_restart(const net::response_head& head) override {
        // net could not prove the retried response is the same entity: with validators that
        // means it is not (never splice); without, the same bytes are written again.
        if (e_->has_validators(i_)) {
            return kithara::fail(
                errc::content_changed,
                "segment " + e_->items()[i_].label + " changed on the server during its download");
        }
        return e_->on_head(i_, head, false);
    }
    void on_complete(result<net::transfer_stats> outcome) override {
        if (outcome && whole_ && !res_->resource().final_length())
            (void)res_->resource().commit(end_);
        res_.reset();  // the engine's handle closes the resource, on the thread closing the stream
        e_->on_fetch_done(i_, std::move(outcome), progressed_);
    }

private:
    std::shared_ptr<engine> e_;
    std::size_t i_;
    std::shared_ptr<assets::streaming_handle> res_;
    bool whole_;
    bool resuming_;
    std::uint64_t end_ = 0;
    bool progressed_ = false;
};

}  // namespace

std::uint64_t retries_of(const result<net::transfer_stats>& r, const net::request_options& o) {
    if (r) return r->attempts > 1 ? static_cast<std::uint64_t>(r->attempts - 1) : 0;
    if (r.error().code() == net::errc::retries_exhausted)
        return static_cast<std::uint64_t>(std::max(0, o.retry.max_retries));
    return 0;
}

std::uint64_t retries_of(const result<net::fetched>& r, const net::request_options& o) {
    if (r) return r->stats.attempts > 1 ? static_cast<std::uint64_t>(r->stats.attempts - 1) : 0;
    if (r.error().code() == net::errc::retries_exhausted)
        return static_cast<std::uint64_t>(std::max(0, o.retry.max_retries));
    return 0;
}

double engine::measured_bps() const {
    std::lock_guard lock(mutex_);
    return measured_bps_;
}

void engine::note_transfer_locked(const net::transfer_stats& t) {
    // Live adaptation's measure: wire bytes over wire time, gathered until 8 KiB (a small
    // request, an LL-HLS part, is mostly round trip on its own).
    if (t.bytes_on_wire == 0 || t.wire_duration.count() <= 0) return;
    measure_bytes_ += t.bytes_on_wire;
    measure_seconds_ += std::chrono::duration<double>(t.wire_duration).count();
    if (measure_bytes_ < 8 * 1024) return;
    const double bps = static_cast<double>(measure_bytes_) * 8.0 / measure_seconds_;
    measured_bps_ = measured_bps_ > 0 ? 0.7 * measured_bps_ + 0.3 * bps : bps;
    measure_bytes_ = 0;
    measure_seconds_ = 0;
}

bool engine::has_validators(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return !at(i).etag.empty() || !at(i).last_modified.empty();
}

void engine::load_validators(std::size_t i) {
    {
        std::lock_guard lock(mutex_);
        if (at(i).validators_loaded) return;
    }
    std::string etag, last_modified;
    if (auto h = asset_.open_atomic(validators_name(at(i).url)); h && h->exists()) {
        if (auto b = h->read()) {
            std::string all(reinterpret_cast<const char*>(b->data()), b->size());
            for (std::size_t p = 0; p < all.size();) {
                auto nl = all.find('\n', p);
                auto line = all.substr(p, nl == std::string::npos ? nl : nl - p);
                if (line.starts_with("etag ")) etag = line.substr(5);
                if (line.starts_with("last_modified ")) last_modified = line.substr(14);
                if (nl == std::string::npos) break;
                p = nl + 1;
            }
        }
    }
    std::lock_guard lock(mutex_);
    if (at(i).validators_loaded) return;
    at(i).validators_loaded = true;
    at(i).etag = std::move(etag);
    at(i).last_modified = std::move(last_modified);
}

result<> engine::on_head(std::size_t i, const net::response_head& head, bool resuming) {
    std::string etag, last_modified;
    {
        std::lock_guard lock(mutex_);
        etag = at(i).etag;
        last_modified = at(i).last_modified;
    }
    const bool had = !etag.empty() || !last_modified.empty();
    auto changed = [&](const std::string& why) {
        return kithara::fail(errc::content_changed,
                             "segment " + at(i).label + " changed on the server (" + why +
                                 "): the cached bytes are not mixed with the new ones");
    };
    if (had) {
        if (resuming && head.status == 200 && head.body_offset == 0 && !head.range_ignored)
            return changed("If-Range did not match, the whole new entity came");
        if (!etag.empty() && !head.etag.empty() && head.etag != etag)
            return changed("ETag " + etag + ", now " + head.etag);
        if (etag.empty() && !last_modified.empty() && !head.last_modified.empty() &&
            head.last_modified != last_modified)
            return changed("Last-Modified " + last_modified + ", now " + head.last_modified);
        return {};
    }
    if (head.etag.empty() && head.last_modified.empty()) return {};
    {
        std::lock_guard lock(mutex_);
        at(i).etag = head.etag;
        at(i).last_modified = head.last_modified;
        // BYTERANGE siblings share the file, hence its validators.
        const std::string url = at(i).url;
        for_each_item([&](item& it) {
            if (it.url == url) {
                it.validators_loaded = true;
                it.etag = head.etag;
                it.last_modified = head.last_modified;
            }
        });
    }
    // One small atomic write per downloaded file (on the executor: the resource opens here too).
    const std::string text = "etag " + head.etag + "\nlast_modified " + head.last_modified + "\n";
    if (auto h = asset_.open_atomic(validators_name(at(i).url)); h) {
        if (auto r =
                h->replace(std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
            !r)
            KITHARA_LOG_WARN("hls: storing validators failed: {}", r.error().message());
    }
    return {};
}

void engine::pump() {
    if (attached_) {
        if (auto s = session_.lock()) s->pump();
        return;
    }
    for (;;) {
        std::vector<std::size_t> to_start;
        {
            std::lock_guard lock(mutex_);
            if (shut_down_) return;
            // A live track opened to be switched to requests nothing before the player places
            // it (set_position): its window would begin at the oldest segment.
            if (live_ && !started_) return;
            double secs = 0;
            std::uint64_t bytes = 0;
            std::size_t running = in_flight_;
            const auto n = segs_.size();
            auto take = [&](std::size_t i) {
                if (at(i).st != item::state::idle || running >= opts_.max_requests) return;
                at(i).st = item::state::fetching;
                ++running;
                ++in_flight_;
                to_start.push_back(i);
            };
            for (std::size_t k = read_seg_; k < n && running < opts_.max_requests; ++k) {
                if (segs_[k].gap) continue;
                if (!downloading_all_ && k > read_seg_ &&
                    (secs >= opts_.prefetch_seconds || bytes >= opts_.prefetch_bytes))
                    break;
                if (auto m = map_item(k); m != no_index) take(m);
                take(k);
                secs += at(k).duration;
                if (at(k).range)
                    bytes += at(k).range->length;
                else if (segs_[k].bitrate_kbps)
                    bytes += static_cast<std::uint64_t>(static_cast<double>(segs_[k].bitrate_kbps) *
                                                        125.0 * at(k).duration);
                else if (at(k).res && at(k).res->resource().final_length())
                    bytes += *at(k).res->resource().final_length();
                else if (!info_.variants.empty())  // the variant's BANDWIDTH (a peak) as estimate
                    bytes += static_cast<std::uint64_t>(
                        static_cast<double>(info_.variants[info_.variant].bandwidth) / 8.0 *
                        at(k).duration);
            }
        }
        // Items complete in the cache finish at once: select again (a loop, not a recursion).
        bool finished_any = false;
        for (auto i : to_start) finished_any |= start_item(i);
        if (!finished_any) return;
    }
}

void engine::fail_item(std::size_t i, const error& e, bool lost) {
    std::shared_ptr<assets::streaming_handle> res;
    // With failed_segment_as_gap a media segment that cannot be had becomes a gap (the player
    // renders it and emits the gap event); changed content, keys and init sections stay fatal.
    const bool as_gap = lost || (opts_.failed_segment_as_gap && i < map_base &&
                                 e.code() == make_error_code(errc::segment_failed));
    double start = 0;  // read under the lock: a live rebase moves it (rebase_live)
    {
        std::lock_guard lock(mutex_);
        at(i).st = item::state::failed;
        at(i).failure = e;
        at(i).lost = lost;
        if (!failure_ && !as_gap) failure_ = e;
        res = at(i).res;
        start = at(i).start;
    }
    idle_.notify_all();
    if (!as_gap)
        emit(make_event(event_kind::error, at(i).url, at(i).media_sequence, info_.variant, start,
                        e.message()));
    // Wake the decoder waiting on it (in memory: the cached bytes stay on disk).
    if (res) res->resource().fail(e);
}

bool engine::start_item(std::size_t i, bool resumed) {
    auto finish_without_request = [&] {
        {
            std::lock_guard lock(mutex_);
            --in_flight_;
        }
        idle_.notify_all();
    };
    bool closing = false;
    {
        std::lock_guard lock(mutex_);
        closing = shut_down_;
        if (closing) at(i).st = item::state::idle;
    }
    if (closing) {
        finish_without_request();
        return false;
    }
    auto res = resource_for(i);
    if (!res) {
        fail_item(i, res.error());
        finish_without_request();
        return true;
    }
    auto& r = (*res)->resource();
    const item& it = at(i);
    const std::uint64_t b = it.range ? it.range->offset : 0;
    std::optional<std::uint64_t> e =
        it.range ? std::optional(it.range->offset + it.range->length) : r.final_length();
    const auto avail = r.available();
    std::optional<std::uint64_t> from;
    std::optional<std::uint64_t> length;
    std::uint64_t cached = 0;
    if (e) {
        auto gap = avail.first_gap({b, *e});
        if (!gap) {
            cached = *e - b;
        } else {
            from = gap->begin;
            length = *e - gap->begin;
            cached = gap->begin - b;
        }
    } else {
        from = avail.contiguous_end(0);
        cached = *from;
    }
    {
        std::lock_guard lock(mutex_);
        // Once per item: a follow-up request for a later gap must not count what the first
        // request brought.
        if (!at(i).cache_counted) {
            stats_.bytes_from_cache += cached;
            progress_bytes_ += cached;
        }
        at(i).cache_counted = true;
    }
    if (!from) {
        {
            std::lock_guard lock(mutex_);
            at(i).st = item::state::done;
            if (i < map_base) ++stats_.segments_from_cache;
        }
        // Events first: while this item counts in flight, shutdown() cannot return (and the
        // application's callback go away) under them.
        emit(make_event(event_kind::segment_complete, it.url, it.media_sequence, info_.variant,
                        it.start, "cache"));
        emit_progress();
        finish_without_request();
        return true;
    }
    if (opts_.offline) {
        fail_item(i, error(errc::offline_miss, "segment " + it.label));
        finish_without_request();
        return true;
    }
    load_validators(i);
    net::request req;
    req.url = it.fetch_url.empty() ? it.url : it.fetch_url;
    req.headers = opts_.headers;
    req.options = opts_.request;
    const bool resuming = *from > b;
    if (it.range || *from > 0) req.range = net::byte_range{*from, length};
    if (resuming) {
        std::lock_guard lock(mutex_);
        req.if_range = net::http::if_range_validator(at(i).etag, at(i).last_modified);
    }
    {
        std::lock_guard lock(mutex_);
        ++stats_.requests;
    }
    if (!resumed)
        emit(make_event(event_kind::segment_requested, it.url, it.media_sequence, info_.variant,
                        it.start, {}));
    if (attached_ && i < map_base) {
        // Samples often enough to see a collapsing link within a fraction of a segment, also
        // when playing faster than real time.
        const double speed = opts_.abr.playback_speed > 1 ? opts_.abr.playback_speed : 1.0;
        req.options.sampling.every =
            std::max(std::chrono::milliseconds(20),
                     std::chrono::milliseconds(static_cast<long>(250.0 / speed)));
        req.options.sampling.every_bytes = 16 * 1024;
        req.on_sample = [weak = session_, v = track_, i](const net::throughput_sample& t) {
            if (auto s = weak.lock()) s->on_sample(v, i, t);
        };
    }
    auto sink = std::make_shared<fetch_sink>(shared_from_this(), i, *res, !it.range, resuming);
    auto h = client_.start(std::move(req), std::move(sink));
    std::lock_guard lock(mutex_);
    at(i).request = h;
    return false;
}

void engine::on_bytes(std::uint64_t n) {
    bool report = false;
    {
        std::lock_guard lock(mutex_);
        stats_.bytes_from_network += n;
        progress_bytes_ += n;
        report = downloading_all_ && progress_bytes_ - progress_emitted_ >= progress_every_bytes;
    }
    if (report) emit_progress();
}

void engine::on_fetch_done(std::size_t i, result<net::transfer_stats> outcome, bool progressed) {
    bool again = false;
    bool failed = false;
    {
        std::lock_guard lock(mutex_);
        at(i).request = {};  // ended: nothing to cancel
        stats_.retries += retries_of(outcome, opts_.request);
        if (!outcome) {
            if (shut_down_ || outcome.error().code() == net::errc::cancelled) {
                at(i).st = item::state::idle;
            } else if (progressed && resumable(outcome.error())) {
                // net's retry budget is per request: one that made progress is resumed by a new
                // one at the first missing byte (each resume needs progress: no endless loop).
                ++stats_.retries;
                again = true;
            } else {
                failed = true;
            }
        }
    }
    if (failed) {
        const auto& err = outcome.error();
        if (err.code() == make_error_code(errc::content_changed)) {
            fail_item(i, err);
        } else {
            const int status = net::http_status_of(err);
            std::string what = (i < map_base ? "segment " : "") + at(i).label;
            if (status > 0) what += ": HTTP status " + std::to_string(status);
            // A live segment the server no longer has (it left the window while we were away):
            // lost, not fatal; the player resumes at the window (live_jump).
            const bool lost = live_ && i < map_base && (status == 404 || status == 410);
            fail_item(i, error(errc::segment_failed, what + ": " + err.message()), lost);
        }
    } else if (outcome) {
        // A response bounded by the next cached byte may leave later gaps: fetch them too.
        auto& r = at(i).res->resource();
        const std::uint64_t b = at(i).range ? at(i).range->offset : 0;
        auto e = at(i).range ? std::optional(at(i).range->offset + at(i).range->length)
                             : r.final_length();
        std::lock_guard lock(mutex_);
        if (e && r.available().first_gap({b, *e})) {
            again = true;  // stays "fetching"
        } else {
            at(i).st = item::state::done;
            if (i < map_base) ++stats_.segments_from_network;
        }
        if (i < map_base) note_transfer_locked(*outcome);
    }
    if (again) {
        if (!start_item(i, true)) return;  // keeps the in-flight count of this item
        pump();
        return;
    }
    if (outcome) {
        emit(make_event(event_kind::segment_complete, at(i).url, at(i).media_sequence,
                        info_.variant, at(i).start, "network"));
        emit_progress();
    }
    // This request is over before the window selects more: counted in flight, a request that
    // completed while another was finishing could leave both pumps seeing the window full and
    // nobody selecting again (the prefetch stopped short). A pump after shutdown() returned
    // starts nothing: start_item() on a shut-down engine finishes without a request, and the
    // sink keeps this engine alive until it returns.
    auto s = attached_ ? session_.lock() : nullptr;
    {
        std::lock_guard lock(mutex_);
        --in_flight_;
    }
    idle_.notify_all();
    if (attached_) {
        if (s) s->on_item_done(track_, i, outcome.has_value());
        return;
    }
    pump();
}

void engine::emit_progress() {
    event ev;
    ev.kind = event_kind::progress;
    ev.variant = info_.variant;
    {
        std::lock_guard lock(mutex_);
        if (!downloading_all_) return;
        ev.bytes_done = progress_bytes_;
        progress_emitted_ = progress_bytes_;
        bool exact = true;
        std::uint64_t total = 0;
        auto count = [&](std::size_t i) {
            if (!needed(i)) return;
            const auto& it = at(i);
            const bool seg = i < map_base;
            if (seg) {
                ++ev.segments_total;
                if (it.st == item::state::done) ++ev.segments_done;
            }
            if (it.range) {
                total += it.range->length;
            } else if (it.res && it.res->resource().final_length()) {
                total += *it.res->resource().final_length();
            } else {
                exact = false;
                const double kbps =
                    seg && segs_[i].bitrate_kbps ? static_cast<double>(segs_[i].bitrate_kbps)
                    : info_.variants.empty()
                        ? 0.0
                        : static_cast<double>(info_.variants[info_.variant].bandwidth) / 1000.0;
                total += static_cast<std::uint64_t>(kbps * 125.0 * it.duration);
            }
        };
        for (std::size_t i = items_.first(); i < items_.size(); ++i) count(i);
        for (std::size_t m = 0; m < maps_.size(); ++m) count(map_base + m);
        ev.bytes_total = std::max(total, ev.bytes_done);
        ev.bytes_total_exact = exact;
    }
    emit(ev);
}

bool engine::all_settled() const {
    auto settled = [&](std::size_t i) {
        return !needed(i) || at(i).st == item::state::done || at(i).st == item::state::failed;
    };
    for (std::size_t i = items_.first(); i < items_.size(); ++i)
        if (!settled(i)) return false;
    for (std::size_t m = 0; m < maps_.size(); ++m)
        if (!settled(map_base + m)) return false;
    return in_flight_ == 0;
}

result<> engine::download_all() {
    {
        std::lock_guard lock(mutex_);
        downloading_all_ = true;
        started_ = true;
        read_seg_ = 0;
    }
    // Keys first, from this thread (never the io thread); stored in the asset (cache_keys).
    for (std::size_t k = segs_.first(); k < segs_.size(); ++k) {
        const key* kk = media_.key_of(segs_[k]);
        if (!kk || kk->method != key_method::aes_128 || kk->keyformat != "identity") continue;
        if (auto r = key_for(*kk, at(k).label); !r) return kithara::fail(r.error());
    }
    pump();
    {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [&] { return shut_down_ || all_settled(); });
        if (failure_) return kithara::fail(*failure_);
        std::optional<error> failed;
        for_each_item([&](const item& it) {
            if (!failed && it.st == item::state::failed && it.failure) failed = *it.failure;
        });
        if (failed) return kithara::fail(*failed);
    }
    emit_progress();
    return {};
}

}  // namespace kithara::hls::detail
