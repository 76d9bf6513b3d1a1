// engine: open (master -> variant -> media playlist), the segment table, the prefetch window's
// position, failures, stall accounting, statistics and shutdown.
#include "detail/engine.hpp"
#include "detail/renditions.hpp"

#include "detail/live_reloader.hpp"
#include "detail/session.hpp"

#include <kithara/detail/log.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/hls/parser.hpp>
#include <kithara/hls/timed_metadata.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

namespace kithara::hls::detail {

std::string container_of(const std::string& uri, bool has_map) {
    if (has_map) return "mov";
    auto path = uri.substr(0, uri.find_first_of("?#"));
    auto dot = path.rfind('.');
    std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == "ts" || ext == "m2ts") return "mpegts";
    if (ext == "aac" || ext == "adts") return "aac";
    if (ext == "mp3") return "mp3";
    if (ext == "ac3") return "ac3";
    if (ext == "ec3" || ext == "eac3") return "eac3";
    if (ext == "mp4" || ext == "m4s" || ext == "m4a" || ext == "cmfa") return "mov";
    return "";
}

bool is_packed(const std::string& container) {
    return container == "aac" || container == "mp3" || container == "ac3" || container == "eac3";
}

engine::engine(net::client& client, stream_options options)
    : client_(client), opts_(std::move(options)) {}

engine::~engine() = default;

void engine::emit(event e) const {
    if (opts_.on_event) opts_.on_event(e);
}

void engine::build_items() {
    // A live table grows (append_live) at the end and lets go of blocks behind the player
    // (evict_behind); elements never move. A VOD table is sized exactly.
    const bool is_live = !media_.endlist && !opts_.offline;
    const auto n = media_.segments.size();
    const auto cap = is_live ? std::max(opts_.live.max_segments, n) : n;
    segs_ = segment_table<segment>(cap, is_live ? 0 : n);
    items_ = segment_table<item>(cap, is_live ? 0 : n);
    const auto map_cap =
        is_live ? std::max<std::size_t>(1024, media_.maps.size()) : media_.maps.size();
    maps_.reserve(map_cap);
    media_.maps.reserve(map_cap);
    if (is_live) media_.keys.reserve(std::max<std::size_t>(cap, media_.keys.size()));
    double t = 0;
    for (const auto& s : media_.segments) {
        item it;
        it.url = s.resolved_uri;
        it.range = s.range;
        it.start = t;
        it.duration = s.duration;
        it.media_sequence = s.media_sequence;
        it.label = s.uri + " (media sequence " + std::to_string(s.media_sequence) + ")";
        items_.push_back(std::move(it));
        segs_.push_back(s);
        t += s.duration;
    }
    for (const auto& m : media_.maps) {
        item it;
        it.url = m.resolved_uri;
        it.range = m.range;
        it.label = m.uri + " (init section)";
        maps_.push_back(std::move(it));
    }
    info_.duration = t;
    info_.segments = n;
    for (const auto& e : pdt_.add_playlist(media_))
        KITHARA_LOG_WARN("hls: EXT-X-PROGRAM-DATE-TIME ignored: {}", e.message());
    add_metadata(media_, 0);
    needed_.assign(n, false);
    map_needed_.assign(maps_.size(), false);
    for (std::size_t k = 0; k < n; ++k) {
        if (segs_[k].gap) continue;
        needed_[k] = true;
        if (auto m = segs_[k].map; m != no_index) map_needed_[m] = true;
    }
}

void engine::release_playlist_segments() {
    // The table holds them now (and start_live has read them): the playlist's copy goes.
    std::vector<segment>().swap(media_.segments);
}

result<> engine::load_media(const std::string& uri, const master_playlist* master) {
    auto media = load_playlist(uri);
    if (!media) return kithara::fail(media.error());
    parse_options po;
    if (master) po.imports = master->variables;
    auto mp = parse_playlist(media->body, media->final_url, po);
    if (!mp) return kithara::fail(mp.error());
    if (mp->is_master()) {
        if (master) return kithara::fail(errc::bad_response, "variant URI names a master playlist");
        return kithara::fail(errc::bad_response, "expected a media playlist");
    }
    if (auto r = check_unchanged(*media, mp->media()); !r) return kithara::fail(r.error());
    store_playlist(*media);
    media_ = mp->media();
    build_items();
    if (!media_.endlist && !opts_.offline) {
        if (auto r = start_live(*media); !r) return r;
    }
    release_playlist_segments();
    return {};
}

result<std::shared_ptr<engine>> engine::create(std::string url, assets::asset_store& store,
                                               net::client& client, stream_options options,
                                               const chooser& choose, master_playlist* master_out) {
    auto e = std::make_shared<engine>(client, std::move(options));
    auto asset = store.open_asset(url);
    if (!asset) return kithara::fail(asset.error());
    e->asset_ = std::move(*asset);

    auto top = e->load_playlist(url);
    if (!top) return kithara::fail(top.error());
    auto parsed = parse_playlist(top->body, top->final_url);
    if (!parsed) return kithara::fail(parsed.error());
    if (!parsed->is_master()) {
        if (auto r = e->check_unchanged(*top, parsed->media()); !r) return kithara::fail(r.error());
        e->store_playlist(*top);
        e->media_ = parsed->media();
        e->build_items();
        if (!e->media_.endlist && !e->opts_.offline) {
            if (auto r = e->start_live(*top); !r) return kithara::fail(r.error());
        }
        e->release_playlist_segments();
        return e;
    }
    e->store_playlist(*top);
    const auto& m = parsed->master();
    if (m.variants.empty()) return kithara::fail(errc::not_supported, "no playable variant");
    for (const auto& v : m.variants)
        e->info_.variants.push_back({v.bandwidth, v.codecs, v.resolved_uri});
    std::size_t pick = 0;
    if (e->opts_.variant) {
        if (*e->opts_.variant >= m.variants.size())
            return kithara::fail(errc::invalid_value, "variant index out of range");
        pick = *e->opts_.variant;
    } else if (e->opts_.variant_bandwidth) {
        auto it = std::find_if(m.variants.begin(), m.variants.end(), [&](const auto& v) {
            return v.bandwidth == *e->opts_.variant_bandwidth;
        });
        if (it == m.variants.end())
            return kithara::fail(errc::invalid_value, "no variant with that BANDWIDTH");
        pick = static_cast<std::size_t>(it - m.variants.begin());
    } else if (choose) {
        pick = std::min(choose(m), m.variants.size() - 1);
    } else {
        for (std::size_t i = 1; i < m.variants.size(); ++i)
            if (m.variants[i].bandwidth < m.variants[pick].bandwidth) pick = i;
    }
    e->info_.variant = pick;
    const auto audio = audio_for(m, pick, e->opts_.audio);
    e->set_audio(m, pick, audio);
    e->emit(make_event(event_kind::variant_chosen, m.variants[pick].resolved_uri, 0, pick, 0,
                       audio_label(m, audio)));
    if (auto r = e->load_media(audio.uri, &m); !r) return kithara::fail(r.error());
    if (master_out) *master_out = m;
    return e;
}

result<std::shared_ptr<engine>> engine::create_variant(const std::string& asset_url,
                                                       assets::asset_store& store,
                                                       net::client& client, stream_options options,
                                                       const master_playlist& master, std::size_t v,
                                                       const hls::rendition* like) {
    auto e = std::make_shared<engine>(client, std::move(options));
    auto asset = store.open_asset(asset_url);
    if (!asset) return kithara::fail(asset.error());
    e->asset_ = std::move(*asset);
    for (const auto& mv : master.variants)
        e->info_.variants.push_back({mv.bandwidth, mv.codecs, mv.resolved_uri});
    e->info_.variant = v;
    const auto audio = audio_for(master, v, e->opts_.audio, like);
    e->set_audio(master, v, audio);
    if (auto r = e->load_media(audio.uri, &master); !r) return kithara::fail(r.error());
    return e;
}

void engine::set_audio(const master_playlist& m, std::size_t v, const audio_choice& c) {
    describe_audio(m, v, c, info_.renditions, info_.rendition);
    rendition_ = c.rendition;
}

std::string audio_label(const master_playlist& m, const audio_choice& c) {
    if (!c.rendition) return {};
    const auto& r = m.renditions[*c.rendition];
    std::string out = "audio \"" + r.name + "\"";
    if (r.language) out += " (" + *r.language + ")";
    if (!r.uri) out += " in the variant's stream";
    return out;
}

void engine::add_metadata(const media_playlist& m, double start) {
    auto found = playlist_metadata(m, start);
    for (const auto& why : found.skipped) KITHARA_LOG_DEBUG("hls: timed metadata: {}", why);
    // A reload repeats what the window still holds: only items after the newest one known are
    // new (a DATERANGE by its ID).
    const double after = playlist_meta_after_;
    for (auto& it : found.items) {
        if (it.time < after) continue;
        if (it.daterange && std::any_of(meta_.begin(), meta_.end(), [&](const timed_metadata& x) {
                return x.daterange && x.daterange->id == it.daterange->id;
            }))
            continue;
        playlist_meta_after_ = std::max(playlist_meta_after_, it.time + 1e-6);
        insert_metadata(std::move(it));
    }
}

void engine::insert_metadata(timed_metadata m) {
    auto at = std::upper_bound(meta_.begin(), meta_.end(), m.time,
                               [](double t, const timed_metadata& x) { return t < x.time; });
    meta_.insert(at, std::move(m));
    if (meta_.size() > max_metadata) {
        meta_.pop_front();
        ++meta_dropped_;
    }
}

void engine::queue_inband(std::vector<timed_metadata> items) {
    std::lock_guard lock(inband_mutex_);
    for (auto& m : items) inband_.push_back(std::move(m));
    if (inband_.size() > max_inband_queue) {
        const auto drop = inband_.size() - max_inband_queue;
        inband_.erase(inband_.begin(), inband_.begin() + static_cast<std::ptrdiff_t>(drop));
        KITHARA_LOG_DEBUG("hls: {} in-band metadata items dropped (not consumed in time)", drop);
    }
}

std::optional<timed_metadata> engine::merge_inband(double before) {
    std::vector<timed_metadata> got;
    {
        std::lock_guard lock(inband_mutex_);
        if (inband_.empty()) return std::nullopt;
        got.swap(inband_);
    }
    std::optional<timed_metadata> late;
    for (auto& m : got) {
        if (m.emsg) {
            if (!emsg_seen_.first_time(*m.emsg)) continue;
        } else if (std::any_of(meta_.begin(), meta_.end(), [&](const timed_metadata& x) {
                       return x.from == m.from && std::abs(x.time - m.time) < 1e-3 &&
                              x.frames == m.frames;
                   })) {
            continue;
        }
        if (m.time < before && (!late || late->time <= m.time)) late = m;
        insert_metadata(std::move(m));
    }
    return late;
}

std::uint32_t engine::map_item(std::size_t seg) const noexcept {
    const auto m = segs_[seg].map;
    if (m == no_index) return no_index;
    return static_cast<std::uint32_t>(map_base + m);
}

stream_stats engine::stats(double position) const {
    std::lock_guard lock(mutex_);
    stream_stats s = counters_locked();
    // The end of the contiguous complete (or gap) segments from the one holding `position`.
    const auto n = segs_.size();
    std::size_t k =
        items_.partition_point([&](const item& it) { return it.start + it.duration <= position; });
    double until = k < n ? at(k).start : info_.duration;
    for (; k < n; ++k) {
        if (!segs_[k].gap && at(k).st != item::state::done) break;
        if (auto m = map_item(k); m != no_index && at(m).st != item::state::done) break;
        until = at(k).start + at(k).duration;
    }
    s.buffered_seconds = std::max(0.0, until - position);
    return s;
}

std::optional<error> engine::failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
}

std::optional<std::size_t> engine::failed_segment(std::size_t first, std::size_t end) const {
    if (!opts_.failed_segment_as_gap) return std::nullopt;
    std::lock_guard lock(mutex_);
    first = std::max(first, segs_.first());
    end = std::min(end, segs_.size());
    for (std::size_t k = first; k < end; ++k)
        if (at(k).st == item::state::failed) return k;
    return std::nullopt;
}

std::optional<error> engine::item_failure(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return at(i).failure;
}

void engine::demand(std::size_t seg) {
    if (attached_) {
        {
            // The session schedules; the reader's position still bounds release_behind.
            std::lock_guard lock(mutex_);
            read_seg_ = std::max(read_seg_, seg);
        }
        if (auto s = session_.lock()) s->on_demand(track_, seg);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        if (started_ && seg <= read_seg_) return;
        started_ = true;
        read_seg_ = std::max(read_seg_, seg);
    }
    pump();
}

void engine::set_position(std::size_t seg) {
    {
        std::lock_guard lock(mutex_);
        read_seg_ = seg;
        released_to_ = std::min(released_to_, seg);  // a seek back reopens what it reads
        started_ = true;
        failure_.reset();
        stalled_since_.reset();
        read_failed_ = false;
    }
    pump();
}

void engine::note_stall(std::size_t seg) {
    {
        std::lock_guard lock(mutex_);
        if (stalled_since_) return;
        stalled_since_ = std::chrono::steady_clock::now();
        stalled_seg_ = seg;
        stall_counted_ = playing_.load(std::memory_order_relaxed);
        if (stall_counted_) ++stats_.stalls;
    }
    const auto& it = at(seg);
    emit(make_event(event_kind::stall, it.url, it.media_sequence, info_.variant, it.start,
                    "waiting for the network"));
}

void engine::note_resume() {
    std::chrono::steady_clock::duration waited{};
    std::size_t seg = 0;
    {
        std::lock_guard lock(mutex_);
        if (!stalled_since_) return;
        waited = std::chrono::steady_clock::now() - *stalled_since_;
        seg = stalled_seg_;
        stalled_since_.reset();
        if (stall_counted_) stats_.stall_seconds += std::chrono::duration<double>(waited).count();
    }
    const auto& it = at(seg);
    const auto ms = std::chrono::duration<double, std::milli>(waited).count();
    char msg[64];
    std::snprintf(msg, sizeof msg, "after %.1f ms", ms);
    emit(make_event(event_kind::resume, it.url, it.media_sequence, info_.variant, it.start, msg));
}

void engine::attach(std::weak_ptr<session> s, std::size_t track) {
    session_ = std::move(s);
    attached_ = true;
    track_ = track;
}

bool engine::claim(std::size_t i) {
    std::lock_guard lock(mutex_);
    if (shut_down_ || at(i).st != item::state::idle) return false;
    at(i).st = item::state::fetching;
    started_ = true;
    ++in_flight_;
    return true;
}

item::state engine::state_of(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return at(i).st;
}

std::size_t engine::in_flight() const {
    std::lock_guard lock(mutex_);
    return in_flight_;
}

std::optional<std::uint64_t> engine::size_of(std::size_t i) const {
    if (at(i).range) return at(i).range->length;
    std::lock_guard lock(mutex_);
    if (at(i).res) return at(i).res->resource().final_length();
    return std::nullopt;
}

void engine::cancel_item(std::size_t i) {
    net::request_handle h;
    {
        std::lock_guard lock(mutex_);
        if (at(i).st != item::state::fetching) return;
        h = at(i).request;
    }
    h.cancel();
}

std::size_t engine::segment_at(double t) const noexcept {
    const auto n = segs_.size();
    std::size_t k = segs_.first();
    while (k + 1 < n && at(k + 1).start <= t + 1e-3) ++k;
    return k;
}

stream_stats engine::counters() const {
    std::lock_guard lock(mutex_);
    return counters_locked();
}

void add_counters(stream_stats& to, const stream_stats& from) {
    to.bytes_from_network += from.bytes_from_network;
    to.bytes_from_cache += from.bytes_from_cache;
    to.requests += from.requests;
    to.retries += from.retries;
    to.segments_from_network += from.segments_from_network;
    to.segments_from_cache += from.segments_from_cache;
    to.stalls += from.stalls;
    to.stall_seconds += from.stall_seconds;
    to.parts_fetched += from.parts_fetched;
    to.segments_from_parts += from.segments_from_parts;
}

stream_stats engine::counters_locked() const {
    stream_stats s = stats_;
    s.segments_held = segs_.size() - segs_.first();
    if (parts_) s.parts_fetched = parts_->parts_fetched();  // its lock is a leaf
    return s;
}

void engine::note_read_failure() {
    std::lock_guard lock(mutex_);
    read_failed_ = true;
}

bool engine::take_read_failure() {
    std::lock_guard lock(mutex_);
    return std::exchange(read_failed_, false);
}

void engine::await_complete_requests() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] {
        if (shut_down_) return true;
        for (std::size_t k = segs_.first(); k < segs_.size(); ++k) {
            const auto& it = at(k);
            if (it.st != item::state::fetching || !it.res) continue;
            auto& r = it.res->resource();
            const std::uint64_t b = it.range ? it.range->offset : 0;
            const auto e =
                it.range ? std::optional(it.range->offset + it.range->length) : r.final_length();
            if (e && !r.available().first_gap({b, *e})) return false;  // reports soon
        }
        return true;
    });
}

void engine::shutdown() {
    if (live_) live_->close();    // no reload runs from here on
    if (parts_) parts_->close();  // nor a part request
    std::vector<net::request_handle> running;
    {
        std::lock_guard lock(mutex_);
        shut_down_ = true;
        for_each_item([&](item& it) {
            if (it.st == item::state::fetching) running.push_back(it.request);
        });
    }
    for (auto& h : running) h.cancel();
    std::vector<std::shared_ptr<assets::streaming_handle>> handles;
    {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [&] { return in_flight_ == 0; });
        for_each_item([&](item& it) { handles.push_back(std::move(it.res)); });
    }
    // Close the resources (range maps written) and end the lease here, not on the io thread
    // after the caller has moved on (e.g. closed the store).
    handles.clear();
    asset_.reset();
}

}  // namespace kithara::hls::detail
