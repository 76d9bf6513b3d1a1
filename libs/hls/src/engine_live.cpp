// engine (live): the segment table of a live or event playlist. The reloads (live_reloader) run
// on the executor; the decoding thread folds what they publish into the table (refresh), which
// grows at the end; segments behind the player that left the server's window leave the cache
// and, a block of 64 at a time, the table (evict_behind, drop_behind).
#include "detail/engine.hpp"
#include "detail/live_reloader.hpp"

#include <kithara/detail/log.hpp>
#include <kithara/hls/error.hpp>

#include <algorithm>

namespace kithara::hls::detail {

result<> engine::start_live(const loaded_playlist& p) {
    live_timeline_options to;
    to.keep_all = opts_.live.keep_event && media_.type == playlist_type::event;
    timeline_ = live_timeline(to);
    (void)timeline_.merge(media_);  // the table already holds these segments (build_items)
    // LL-HLS where the server offers it: the segment being built is read part by part.
    const bool parts = opts_.live.low_latency && media_.control &&
                       media_.control->can_block_reload && media_.part_target.has_value();
    start_options so;
    so.event_from_beginning = opts_.live.event_from_beginning;
    so.low_latency = parts;
    auto st = live_start(media_, so);
    if (!st) return kithara::fail(st.error());
    live_start_ = index_of_msn(st->msn);
    latest_ = std::make_shared<const media_playlist>(media_);
    ended_ = false;
    info_.live = true;
    info_.ended = false;
    update_window();
    auto on_event = opts_.on_event;
    live_ =
        std::make_shared<live_reloader>(client_, p.final_url, opts_, [on_event](const event& e) {
            if (on_event) on_event(e);
        });
    if (parts) {
        part_fetcher::hooks h;
        std::weak_ptr<engine> weak = weak_from_this();
        h.on_bytes = [weak](std::uint64_t n) {
            if (auto e = weak.lock()) e->on_bytes(n);
        };
        h.on_request = [weak] {
            if (auto e = weak.lock()) {
                std::lock_guard lock(e->mutex_);
                ++e->stats_.requests;
            }
        };
        h.on_transfer = [weak](const net::transfer_stats& t) {
            if (auto e = weak.lock()) {
                std::lock_guard lock(e->mutex_);
                e->note_transfer_locked(t);
            }
        };
        h.on_done = [weak](std::uint64_t msn, std::optional<error> failure, bool lost) {
            if (auto e = weak.lock()) e->on_parts_done(msn, std::move(failure), lost);
        };
        parts_ =
            std::make_shared<part_fetcher>(client_, opts_.headers, opts_.request, std::move(h));
        parts_->on_playlist(latest_);
        live_->set_on_publish([f = parts_](std::shared_ptr<const media_playlist> m) {
            f->on_playlist(std::move(m));
        });
    }
    live_->start(media_, p.started, p.finished, p.etag, p.last_modified);
    // The start rule's part: audio starts that far into its segment (the segment being built
    // joins the table now when the part is one of its own).
    if (st->part && !items_.empty()) {
        const double first_start = items_[items_.first()].start;
        if (live_start_ >= items_.size() && extend_by_parts()) live_start_ = items_.size() - 1;
        if (live_start_ < items_.size() && items_[live_start_].media_sequence == st->msn)
            live_start_skip_ = std::max(0.0, st->time - (items_[live_start_].start - first_start));
        live_start_ = std::min(live_start_, items_.size() - 1);
    }
    KITHARA_LOG_DEBUG("hls: live playlist, {} segments, starting at media sequence {}",
                      segs_.size(), st->msn);
    return {};
}

std::size_t engine::index_of_msn(std::uint64_t msn) const {
    // Segments are in ascending media sequence (a lost range leaves a hole in the numbers).
    return items_.partition_point([msn](const item& x) { return x.media_sequence < msn; });
}

void engine::update_window() {
    if (items_.empty()) return;
    const auto first = std::min(index_of_msn(timeline_.window_first()), items_.size() - 1);
    info_.window_start = items_[first].start;
    info_.window_end = items_.back().start + items_.back().duration;
    info_.duration = info_.window_end;
    info_.segments = items_.size();
    info_.ended = ended_;
}

void engine::interrupt() {
    if (live_) live_->interrupt();  // set at open, before any other thread sees the engine
}

bool engine::refresh(bool wait) {
    if (!live_) return false;
    auto p = live_->take(merged_, wait);
    if (!p) return false;
    merged_ = p->seq;
    latest_ = p->playlist;
    auto r = timeline_.merge(*p->playlist);
    for (const auto& a : r.anomalies) {
        KITHARA_LOG_WARN("hls: live playlist: {}", a.message);
        emit(make_event(event_kind::live_anomaly, media_.url, a.first_msn, info_.variant, 0,
                        std::string(to_string(a.kind)) + ": " + a.message));
    }
    append_live(r);
    if (!r.appended.empty() && !p->playlist->segments.empty()) {
        const auto first = index_of_msn(p->playlist->media_sequence);
        if (first < items_.size() && items_[first].media_sequence == p->playlist->media_sequence)
            add_metadata(*p->playlist, items_[first].start);
    }
    // Segments the timeline forgot (out of the window and played) leave the cache.
    if (!r.dropped.empty() && !(opts_.live.keep_event && media_.type == playlist_type::event)) {
        std::vector<std::string> urls;
        for (const auto& d : r.dropped) urls.push_back(d.resolved_uri);
        remove_cached(urls, index_of_msn(r.dropped.back().msn + 1));
    }
    if (r.ended && !ended_) {
        {
            std::lock_guard lock(mutex_);
            ended_ = true;
            info_.ended = true;
        }
        emit(make_event(event_kind::live_ended, media_.url, timeline_.last_msn(), info_.variant,
                        info_.window_end, "EXT-X-ENDLIST: the stream ends after its last segment"));
    }
    return true;
}

std::uint32_t engine::map_index(const std::shared_ptr<const init_section>& m) {
    for (std::size_t k = 0; k < media_.maps.size(); ++k) {
        const auto& x = media_.maps[k];
        if (x.resolved_uri == m->resolved_uri && x.range.has_value() == m->range.has_value() &&
            (!x.range ||
             (x.range->offset == m->range->offset && x.range->length == m->range->length)))
            return static_cast<std::uint32_t>(k);
    }
    if (maps_.size() == maps_.capacity()) return no_index;  // checked by the caller
    media_.maps.push_back(*m);
    item it;
    it.url = m->resolved_uri;
    it.range = m->range;
    it.label = m->uri + " (init section)";
    maps_.push_back(std::move(it));
    return static_cast<std::uint32_t>(maps_.size() - 1);
}

std::uint32_t engine::key_index(const std::shared_ptr<const hls::key>& k) {
    // Keys rotate forward: the last one is the likely match.
    for (std::size_t j = media_.keys.size(); j-- > 0;) {
        const auto& x = media_.keys[j];
        if (x.method == k->method && x.resolved_uri == k->resolved_uri && x.iv == k->iv &&
            x.keyformat == k->keyformat)
            return static_cast<std::uint32_t>(j);
    }
    if (media_.keys.size() == media_.keys.capacity()) return no_index;
    media_.keys.push_back(*k);
    return static_cast<std::uint32_t>(media_.keys.size() - 1);
}

void engine::append_live(const live_merge_result& r) {
    if (r.appended.empty()) return;
    std::optional<error> full;
    {
        std::lock_guard lock(mutex_);
        for (const auto& ls : r.appended) {
            if (!items_.empty() && items_.back().media_sequence == ls.msn &&
                items_.back().url != ls.resolved_uri) {
                // The segment read from its parts, now listed whole: its entry completes.
                auto& s = segs_[items_.size() - 1];
                auto& it = items_.back();
                s.duration = ls.duration;
                s.title = ls.title;
                s.uri = ls.uri;
                s.resolved_uri = ls.resolved_uri;
                s.discontinuity_sequence = ls.discontinuity_sequence;
                it.duration = ls.duration;
                // A later need (the resource evicted, a seek back) fetches it whole from its URI;
                // a sub-range of a larger resource cannot land at offset 0 of its own.
                if (!ls.range) it.fetch_url = ls.resolved_uri;
                it.label = ls.label() + " (read from its parts)";
                pdt_.add(ls.start + live_shift_, ls.duration, ls.discontinuity,
                         ls.program_date_time);
                continue;
            }
            if (items_.full() || segs_.full()) {
                full = error(errc::limit_exceeded,
                             "live stream holding more than live_options::max_segments (" +
                                 std::to_string(opts_.live.max_segments) + ") segments: reopen it");
                break;
            }
            segment s;
            s.duration = ls.duration;
            s.title = ls.title;
            s.uri = ls.uri;
            s.resolved_uri = ls.resolved_uri;
            s.range = ls.range;
            s.media_sequence = ls.msn;
            s.discontinuity_sequence = ls.discontinuity_sequence;
            s.discontinuity = ls.discontinuity;
            s.gap = ls.gap;
            if (ls.map) {
                s.map = map_index(ls.map);
                if (s.map == no_index) {
                    full = error(errc::limit_exceeded, "live stream with too many EXT-X-MAPs");
                    break;
                }
            }
            if (ls.key) {
                s.key = key_index(ls.key);
                if (s.key == no_index) {
                    full = error(errc::limit_exceeded, "live stream with too many keys");
                    break;
                }
                s.key_count = 1;
            }
            item it;
            it.url = ls.resolved_uri;
            it.range = ls.range;
            it.start = ls.start + live_shift_;
            it.duration = ls.duration;
            it.media_sequence = ls.msn;
            it.label = ls.label();
            segs_.push_back(std::move(s));
            items_.push_back(std::move(it));
            pdt_.add(ls.start + live_shift_, ls.duration, ls.discontinuity, ls.program_date_time);
        }
        update_window();
        if (full && !failure_) failure_ = *full;
    }
    if (full) emit(make_event(event_kind::error, media_.url, 0, info_.variant, 0, full->message()));
    pump();  // the window may reach the new segments
}

bool engine::extend_by_parts() {
    if (!parts_ || ended_ || !latest_ || items_.empty() || failure()) return false;
    const auto& m = *latest_;
    if (m.endlist || m.trailing_parts.empty() || m.segments.empty()) return false;
    const std::uint64_t msn = m.segments.back().media_sequence + 1;
    const auto& last = m.segments.back();
    // The table must end where the playlist does (the newest reload folded in), and the parts
    // be clear: AES-128 applies to whole segments.
    // A new init section or key for the segment being built: it plays whole (its entry then
    // carries them).
    if (items_.back().media_sequence + 1 != msn || m.key_of(last) != nullptr ||
        m.trailing_key_or_map)
        return false;
    std::size_t k = 0;
    {
        std::lock_guard lock(mutex_);
        if (items_.full() || segs_.full()) return false;  // append_live reports the limit
        segment s;
        s.uri = m.trailing_parts.front().uri;
        s.resolved_uri = m.trailing_parts.front().resolved_uri;
        s.media_sequence = msn;
        s.discontinuity = m.trailing_discontinuity;
        s.discontinuity_sequence = segs_.back().discontinuity_sequence + (s.discontinuity ? 1 : 0);
        s.map = segs_.back().map;
        for (const auto& pt : m.trailing_parts) s.duration += pt.duration;
        item it;
        it.url = part_fetcher::resource_name(media_.url, msn);
        it.start = items_.back().start + items_.back().duration;
        it.duration = s.duration;
        it.media_sequence = msn;
        it.label = "media sequence " + std::to_string(msn) + " (read from its parts)";
        it.st = item::state::fetching;  // the part fetcher's, not the window's
        it.by_parts = true;
        segs_.push_back(std::move(s));
        items_.push_back(std::move(it));
        k = items_.size() - 1;
        update_window();
    }
    auto res = resource_for(k);
    if (!res) {
        fail_item(k, res.error());
        return true;  // the player finds the failure
    }
    if (auto len = (*res)->resource().final_length()) {
        // Complete in the cache already (a stream opened again).
        on_parts_done(msn, std::nullopt, false);
        return true;
    }
    emit(make_event(event_kind::segment_requested, items_[k].url, msn, info_.variant,
                    items_[k].start, "parts"));
    parts_->follow(msn, *res, items_[k].label);
    return true;
}

void engine::on_parts_done(std::uint64_t msn, std::optional<error> failure, bool lost) {
    std::size_t k = 0;
    std::string url;
    double start = 0;
    {
        std::lock_guard lock(mutex_);
        k = index_of_msn(msn);
        if (k >= items_.size() || items_[k].media_sequence != msn || !items_[k].by_parts) return;
        items_[k].by_parts = false;
        url = items_[k].url;
        start = items_[k].start;  // rebase_live moves it on the decoding thread, under mutex_
        if (!failure) {
            items_[k].st = item::state::done;
            ++stats_.segments_from_network;
            ++stats_.segments_from_parts;
        }
    }
    if (failure) {
        fail_item(k, *failure, lost);
        return;
    }
    idle_.notify_all();
    emit(make_event(event_kind::segment_complete, url, msn, info_.variant, start, "parts"));
}

std::optional<std::size_t> engine::segment_of_msn(std::uint64_t msn) const {
    const auto k = index_of_msn(msn);
    if (k >= items_.size() || items_[k].media_sequence != msn) return std::nullopt;
    return k;
}

bool engine::rebase_live(std::uint64_t msn, double at) {
    const auto k = segment_of_msn(msn);
    if (!k) return false;
    std::lock_guard lock(mutex_);
    const double delta = at - items_[*k].start;
    if (delta == 0) return true;
    for (auto i = items_.first(); i < items_.size(); ++i) items_[i].start += delta;
    live_shift_ += delta;
    pdt_.shift(delta);
    for (auto& m : meta_) m.time += delta;
    if (playlist_meta_after_ >= 0) playlist_meta_after_ += delta;
    update_window();
    return true;
}

std::size_t engine::window_first() const {
    if (items_.empty()) return 0;
    return std::min(index_of_msn(timeline_.window_first()), items_.size() - 1);
}

std::size_t engine::live_edge() const {
    if (!latest_ || items_.empty()) return live_start_;
    start_options so;
    so.event_from_beginning = false;
    so.low_latency = false;
    auto st = live_start(*latest_, so);
    if (!st) return items_.size() - 1;
    return std::min(index_of_msn(st->msn), items_.size() - 1);
}

std::optional<std::chrono::system_clock::time_point> engine::wall_clock_at(double t) const {
    std::lock_guard lock(mutex_);
    return pdt_.wall_clock_at(t);
}

void engine::evict_behind(std::size_t seg) {
    if (!live_ || seg >= items_.size()) return;
    const auto playing = items_[seg].media_sequence;
    timeline_.set_playing(playing);
    const bool event = media_.type == playlist_type::event;
    const bool keep = opts_.live.keep_event && event;
    // An EVENT playlist's window never moves: what the player passed goes (but the two segments
    // just behind it, for a short rewind); the server still has it for a longer one.
    const std::uint64_t behind = event ? (playing > 2 ? playing - 2 : 0) : playing;
    auto plan = sliding_window_eviction(timeline_, behind, evict_from_, keep, event);
    evict_from_ = plan.next_from;
    std::vector<std::string> urls = std::move(plan.resources);
    urls.insert(urls.end(), plan.maps.begin(), plan.maps.end());
    if (!urls.empty()) remove_cached(urls, seg);
    drop_behind(std::min(seg, window_first()));
}

void engine::drop_behind(std::size_t seg) {
    // The table lets go of its blocks wholly behind both the player and the server's window
    // (nothing can seek there, nothing reads there) once no request uses them: a stream that
    // plays for days holds a few blocks, not every segment it passed.
    std::vector<std::shared_ptr<assets::streaming_handle>> handles;
    {
        std::lock_guard lock(mutex_);
        auto d = std::min(seg, read_seg_);
        for (auto k = items_.first(); k < d; ++k) {
            if (items_[k].st == item::state::fetching) {
                d = k;
                break;
            }
        }
        if (d / segment_table<item>::block <= items_.first() / segment_table<item>::block) return;
        for (auto k = items_.first(); k < d; ++k)
            if (items_[k].res) handles.push_back(std::move(items_[k].res));
        items_.drop_before(d);
        segs_.drop_before(d);
    }
    handles.clear();  // closing a handle writes its range map: no lock held
}

void engine::release_behind(std::size_t seg) {
    std::vector<std::shared_ptr<assets::streaming_handle>> handles;
    {
        std::lock_guard lock(mutex_);
        if (live_) return;
        seg = std::min(seg, read_seg_);
        auto k = std::max(items_.first(), released_to_);
        for (; k < seg && k < items_.size(); ++k) {
            auto& it = items_[k];
            if (it.st == item::state::fetching) break;  // released by a later call
            if (it.res) handles.push_back(std::move(it.res));
        }
        released_to_ = std::max(released_to_, k);
    }
    handles.clear();  // closing a handle writes its range map: no lock held
}

void engine::reopen_from(std::size_t seg) {
    std::lock_guard lock(mutex_);
    released_to_ = std::min(released_to_, seg);
}

std::optional<std::size_t> engine::lost_segment(std::size_t first, std::size_t end) const {
    std::lock_guard lock(mutex_);
    first = std::max(first, items_.first());
    end = std::min(end, items_.size());
    for (std::size_t k = first; k < end; ++k)
        if (items_[k].lost) return k;
    return std::nullopt;
}

void engine::remove_cached(const std::vector<std::string>& urls, std::size_t keep_from) {
    // Close the handles (their range maps are written: I/O) and remove the files, no lock held.
    std::vector<std::shared_ptr<assets::streaming_handle>> handles;
    std::vector<std::string> names;
    {
        std::lock_guard lock(mutex_);
        // A segment read from its parts is cached under its parts name (item::by_parts).
        std::vector<std::string> all = urls;
        for (const auto& url : urls)
            for (auto k = items_.first(); k < items_.size(); ++k)
                if (segs_[k].resolved_uri == url && items_[k].url != url)
                    all.push_back(items_[k].url);
        for (const auto& url : all) {
            bool keep = false;
            for (std::size_t k = keep_from; k < items_.size() && !keep; ++k) {
                keep = items_[k].url == url;
                if (!keep) {
                    const auto m = segs_[k].map;
                    keep = m != no_index && maps_[m].url == url;
                }
            }
            for_each_item([&](item& it) {
                if (it.url != url) return;
                if (it.st == item::state::fetching) keep = true;
            });
            if (keep) continue;
            for_each_item([&](item& it) {
                if (it.url != url) return;
                if (it.res) handles.push_back(std::move(it.res));
                // Gone from the cache: a later need fetches again (and fails when the server
                // no longer has it), never reads an empty resource as complete.
                if (it.st == item::state::done) it.st = item::state::idle;
                it.cache_counted = false;
            });
            names.push_back(url);
        }
    }
    handles.clear();
    for (const auto& u : names) {
        if (auto r = asset_.remove_resource(u); !r)
            KITHARA_LOG_DEBUG("hls: live segment not removed from the cache: {}",
                              r.error().message());
        (void)asset_.remove_resource(validators_name(u));
    }
}

}  // namespace kithara::hls::detail
