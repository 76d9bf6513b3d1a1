// engine: the download side of an hls_stream. It holds the chosen media playlist, the table of
// fetchable items (segments, then init sections), the prefetch window, keys, counters, and builds
// the sources the decoder reads (segment parts over the asset's streaming resources, wrapped for
// AES-128 and packed audio). Split by seam: engine.cpp (open, variant choice, window, state),
// playlist_cache.cpp (playlists through the cache, revalidation, change detection), fetch.cpp
// (segment requests into the cache: resume, validators, progress), segment_sources.cpp (what the
// decoder reads: parts, keys, stall/resume), pin.cpp (hls::pin), engine_live.cpp (live tables;
// LL-HLS segments read from their parts through part_fetcher.cpp).
//
// Threads: demand()/set_position()/sources from the decoding thread, fetch completions on the
// client's executor. Locks: mutex_ guards items_' states, the window, keys_, counters and the
// first failure; it is never held across I/O (resource opens, request starts), waits or events.
// Buffers: segment bytes live in the asset's streaming resources; keys in keys_ (16 bytes each).
#pragma once

#include "emsg.hpp"
#include "live.hpp"
#include "part_fetcher.hpp"
#include "renditions.hpp"
#include "segment_table.hpp"

#include <kithara/assets/asset_store.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <kithara/hls/playlist.hpp>
#include <kithara/net/client.hpp>
#include <kithara/stream/source.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls::detail {

class session;
class live_reloader;

struct item {
    enum class state { idle, fetching, done, failed };
    std::string url;                  // resolved URI (the resource's name in the asset)
    std::optional<byte_range> range;  // EXT-X-BYTERANGE / the map's BYTERANGE
    double start = 0;                 // presentation time (segments), seconds
    double duration = 0;
    std::uint64_t media_sequence = 0;
    std::string label;  // "<uri> (media sequence N)" for errors and events
    state st = state::idle;
    bool cache_counted = false;  // its cached bytes were counted in stats (once per stream)
    std::shared_ptr<assets::streaming_handle> res;
    net::request_handle request;
    std::optional<error> failure;  // why it failed (state::failed)
    bool lost = false;             // live: the server no longer has it (404/410), not fatal
    // Validators of the cached bytes (ETag / Last-Modified of the response that brought them),
    // persisted beside the resource; loaded when the item is first started.
    bool validators_loaded = false;
    std::string etag;
    std::string last_modified;
    // LL-HLS: the segment the server was building when the player reached it, read from its
    // parts (part_fetcher) into a resource named after its media sequence (url); the fetcher
    // owns it while by_parts (the window does not request it). fetch_url: the segment's own
    // URI once the playlist lists it whole (a later need resumes from it); empty: url.
    bool by_parts = false;
    std::string fetch_url;
};

// A playlist as loaded through the cache (see engine::load_playlist).
struct loaded_playlist {
    std::string body;
    std::string final_url;
    std::optional<std::string> previous;  // the cached body a new network copy replaces
    std::string stored;                   // what store_playlist() writes (empty: nothing new)
    std::string etag;                     // validators of the copy loaded (live reloads use them)
    std::string last_modified;
    steady_time started{};  // when the request began and ended (the live reload schedule)
    steady_time finished{};
    std::optional<assets::atomic_handle> res;
};

// An event with the common fields (the progress fields stay zero).
inline event make_event(event_kind kind, std::string uri, std::uint64_t media_sequence,
                        std::size_t variant, double time, std::string message) {
    event e;
    e.kind = kind;
    e.uri = std::move(uri);
    e.media_sequence = media_sequence;
    e.variant = variant;
    e.time = time;
    e.message = std::move(message);
    return e;
}

// net's retries of one request: attempts - 1, or every retry the policy allows when it gave up.
std::uint64_t retries_of(const result<net::transfer_stats>& r, const net::request_options& o);
std::uint64_t retries_of(const result<net::fetched>& r, const net::request_options& o);

// The cache resource holding a segment's validators (ETag, Last-Modified).
std::string validators_name(const std::string& url);

// FFmpeg demuxer name for a segment URI ("mov" with an EXT-X-MAP), "" when unknown.
std::string container_of(const std::string& uri, bool has_map);
// Packed audio (an elementary stream with a leading ID3 tag).
bool is_packed(const std::string& container);

class engine : public std::enable_shared_from_this<engine> {
public:
    // Chooses the variant of a master when options name none (default: the lowest BANDWIDTH).
    using chooser = std::function<std::size_t(const master_playlist&)>;
    static result<std::shared_ptr<engine>> create(std::string url, assets::asset_store& store,
                                                  net::client& client, stream_options options,
                                                  const chooser& choose = {},
                                                  master_playlist* master_out = nullptr);
    // Variant `v` of `master` (loaded from `asset_url`): its media playlist, in that asset.
    static result<std::shared_ptr<engine>> create_variant(
        const std::string& asset_url, assets::asset_store& store, net::client& client,
        stream_options options, const master_playlist& master, std::size_t v,
        const hls::rendition* like = nullptr);
    engine(net::client& client, stream_options options);
    ~engine();

    // Map items (EXT-X-MAP) have indices from map_base on; segment k is item k.
    static constexpr std::size_t map_base = std::size_t{1} << 30;

    // The media playlist as loaded at open, without its segments (see segments()).
    [[nodiscard]] const media_playlist& media() const noexcept { return media_; }
    [[nodiscard]] const stream_options& options() const noexcept { return opts_; }
    // Segment k's playlist entry and item, k from segments().first() (a live table lets go of
    // the segments far behind the player: see evict_behind) to size().
    [[nodiscard]] const segment_table<segment>& segments() const noexcept { return segs_; }
    [[nodiscard]] const segment_table<item>& items() const noexcept { return items_; }
    [[nodiscard]] stream_info info() const { return info_; }
    // The alternate audio rendition it plays (an index into the master's renditions), if any.
    [[nodiscard]] std::optional<std::size_t> rendition() const noexcept { return rendition_; }
    // Counters, and buffered_seconds ahead of `position` (the player's position, seconds).
    [[nodiscard]] stream_stats stats(double position) const;
    // The init section item of segment `seg`, or no_index.
    [[nodiscard]] std::uint32_t map_item(std::size_t seg) const noexcept;

    // The clear media bytes of segment `seg` (or of init item `i`, read before segment `seg`):
    // parts over the cache, wrapped for AES-128 and packed audio. Errors: not_supported for
    // SAMPLE-AES / other KEYFORMATs.
    result<std::shared_ptr<stream::source>> segment_source(std::size_t seg);
    result<std::shared_ptr<stream::source>> map_source(std::uint32_t item_index, std::size_t seg);
    // The media timescale of init section `map` (read through map_source; nullopt when it is
    // not readable or has no moov/trak/mdia/mdhd): for placing emsg version 1 events.
    std::optional<std::uint32_t> init_timescale(std::uint32_t map, std::size_t seg);

    // The decoder reads segment `seg`: the window moves there (never backwards) and fills.
    void demand(std::size_t seg);
    // A seek: the window restarts at `seg`.
    void set_position(std::size_t seg);
    // The first failure of a needed item (segment_failed / offline_miss), if any. With
    // failed_segment_as_gap a media segment's failure is not fatal: see failed_segment().
    [[nodiscard]] std::optional<error> failure() const;
    // With failed_segment_as_gap: the first failed segment in [first, end), or nullopt.
    [[nodiscard]] std::optional<std::size_t> failed_segment(std::size_t first,
                                                            std::size_t end) const;
    [[nodiscard]] std::optional<error> item_failure(std::size_t i) const;
    void emit(event e) const;
    // Cancels running requests and waits until their sinks completed.
    void shutdown();
    // The end of the stream: waits until every segment request whose bytes have all arrived has
    // reported its completion (the io thread counts it after the last byte, which the decoder may
    // already have read), so stats() then counts every segment played. Requests still missing
    // bytes are not waited for.
    void await_complete_requests();

    // Stall accounting of the decoder's waits (segment_parts, on the decoding thread): a wait
    // for bytes not yet downloaded emits stall once, the end of that wait resume.
    void note_stall(std::size_t seg);
    // The player returned a chunk: waits from now on count as stalls in stats (the wait for the
    // first bytes at start is start-up, not a stall).
    void note_playing() noexcept { playing_.store(true, std::memory_order_relaxed); }
    void note_resume();
    // A read of the decoder failed (a failed item's resource). The demuxer may still hand out a
    // packet cut short by the failure (mpegts flushes its partial PES): the player drops what
    // the decoder produces after this. take_read_failure() returns and clears the flag.
    void note_read_failure();
    bool take_read_failure();

    // --- Adaptive bitrate: a session drives this engine's window (see session.hpp). ---
    // From now on demand() and the fetch completions call the session instead of pump(), and
    // media segment requests report throughput samples to it.
    // `track`: the session's index of this engine (a variant, or a variant's rendition), passed
    // back with every call; info().variant stays the master's variant index.
    void attach(std::weak_ptr<session> s, std::size_t track);
    [[nodiscard]] std::size_t variant() const noexcept { return info_.variant; }
    // Claims item i for a request when idle (counted in flight); start_claimed() starts it (I/O:
    // no session lock held) and returns true when it finished without a request.
    bool claim(std::size_t i);
    bool start_claimed(std::size_t i) { return start_item(i); }
    [[nodiscard]] item::state state_of(std::size_t i) const;
    [[nodiscard]] std::size_t in_flight() const;
    // The item's size once known (BYTERANGE, or the resource's final length), else nullopt.
    [[nodiscard]] std::optional<std::uint64_t> size_of(std::size_t i) const;
    // Cancels item i's running request (its bytes stay cached; the item becomes idle).
    void cancel_item(std::size_t i);
    // The last segment starting at or before t (1 ms tolerance), 0 when none.
    [[nodiscard]] std::size_t segment_at(double t) const noexcept;
    [[nodiscard]] stream_stats counters() const;

    // hls::pin: every segment, init section and key into the cache, with progress events.
    result<> download_all();

    // Called by the fetch sinks on the executor.
    void on_bytes(std::uint64_t n);
    // A response head of item i: checks it against the stored validators (content_changed when
    // the entity changed), stores them when new. `resuming`: cached bytes precede the request.
    result<> on_head(std::size_t i, const net::response_head& head, bool resuming);
    void on_fetch_done(std::size_t i, result<net::transfer_stats> outcome, bool progressed);
    [[nodiscard]] bool has_validators(std::size_t i) const;

    // Timed metadata of the playlist(s) (playlist_metadata: EXTINF titles, DATERANGE) by time;
    // live reloads append what their new segments bring (decoding thread). Bounded: the oldest
    // go first beyond max_metadata; meta_dropped() counts them (the player's cursor offset).
    [[nodiscard]] const std::deque<timed_metadata>& metadata() const noexcept { return meta_; }
    [[nodiscard]] std::uint64_t meta_dropped() const noexcept { return meta_dropped_; }
    static constexpr std::size_t max_metadata = 4096;
    // In-band items (ID3 in packed audio, fMP4 emsg) found by the segment taps as segments are
    // read (any thread): queued, at most max_inband_queue (the oldest dropped beyond).
    void queue_inband(std::vector<timed_metadata> items);
    static constexpr std::size_t max_inband_queue = 256;
    // Decoding thread: the queued items into metadata(), by time. A segment read again brings
    // its items again: an item equal to a known one (same source, time within 1 ms and frames;
    // an emsg by scheme, value and id: a repeated id fires once) is dropped. Returns the newest
    // new item placed before `before` (found after the player passed its time), if any.
    std::optional<timed_metadata> merge_inband(double before);

    // --- Live and event playlists (no EXT-X-ENDLIST at open; see live_reloader). ---
    // The segment table grows at the end as reloads add segments and lets go of blocks far
    // behind the player (drop_behind). Both happen on the decoding thread only, under mutex_:
    // elements never move, so a reference to item k stays valid on every thread until its
    // block goes (never while a request uses it); the io thread reads the table's size only
    // under mutex_.
    [[nodiscard]] bool live() const noexcept { return live_ != nullptr; }
    // Any thread: a refresh(true) waiting now or later returns false at once (terminal).
    void interrupt();
    // The newest playlist a reload published, folded into the table (decoding thread). `wait`:
    // blocks until there is one newer than what the table holds, the playlist ended, the reloads
    // failed for good, or shutdown. Returns false when nothing new came (ended or shut down).
    bool refresh(bool wait);
    // ENDLIST seen: no segment will be added (decoding thread).
    [[nodiscard]] bool ended() const noexcept { return ended_; }
    // The first segment whose bytes may still be had from the server (its window), and the
    // segment the live start rules pick (3 target durations from the end, EXT-X-START, ...).
    [[nodiscard]] std::size_t window_first() const;
    [[nodiscard]] std::size_t live_edge() const;
    [[nodiscard]] std::size_t start_segment() const noexcept { return live_start_; }
    // Seconds into start_segment() where the start rule put the first audio (LL-HLS: the part
    // PART-HOLD-BACK picked; 0 otherwise).
    [[nodiscard]] double start_skip() const noexcept { return live_start_skip_; }
    // LL-HLS (decoding thread): the player reached the end of the table while the server builds
    // the next segment and has published parts of it: that segment joins the table now, read
    // from its parts as they come out (item::by_parts). False when the stream has no parts, the
    // segment is not begun, or it is encrypted (then: wait for the next reload).
    bool extend_by_parts();
    // Wall clock of timeline position t (EXT-X-PROGRAM-DATE-TIME), if the playlist dates it.
    [[nodiscard]] std::optional<std::chrono::system_clock::time_point> wall_clock_at(
        double t) const;
    // The player reads segment `seg`: live segments behind it that left the server's window
    // leave the cache (sliding window), unless options.live.keep_event.
    void evict_behind(std::size_t seg);
    // The segment table lets go of its blocks before `seg` that no request uses (the player
    // passed them and the server's window left them: see evict_behind).
    void drop_behind(std::size_t seg);
    // VOD (decoding thread): the player passed the segments before `seg`: their cache handles
    // close (a later read, after a seek back, opens the file again). Items being fetched keep
    // theirs.
    void release_behind(std::size_t seg);
    // VOD: a run starts at `seg` (it may reopen segments released before): release_behind
    // looks at them again.
    void reopen_from(std::size_t seg);
    // Live: the segment with media sequence `msn`, if the table holds it (decoding thread).
    [[nodiscard]] std::optional<std::size_t> segment_of_msn(std::uint64_t msn) const;
    // Live (decoding thread): moves this engine's timeline so that segment `msn` starts at `at`
    // (another track's position for it: a switch of rendition or variant continues the PCM
    // timeline). Items, the window, playlist metadata and the wall-clock map move with it, and
    // so does every segment a reload adds later. False when the table does not hold msn.
    bool rebase_live(std::uint64_t msn, double at);
    // The network throughput of the last media segment requests (bits/s; an exponentially
    // weighted mean of net's per-request wire throughput), 0 before any: live adaptation.
    [[nodiscard]] double measured_bps() const;
    // Live: the first segment in [first, end) the server no longer had (see item::lost).
    [[nodiscard]] std::optional<std::size_t> lost_segment(std::size_t first, std::size_t end) const;

    // Item i's streaming resource, opened (cache files: I/O) on first use.
    result<std::shared_ptr<assets::streaming_handle>> resource_for(std::size_t i);
    // Item i's resource if it is open already, else null (no I/O).
    [[nodiscard]] std::shared_ptr<assets::streaming_handle> opened_resource(std::size_t i) const;

private:
    friend class live_reloader;
    [[nodiscard]] item& at(std::size_t i) {
        return i >= map_base ? maps_[i - map_base] : items_[i];
    }
    [[nodiscard]] const item& at(std::size_t i) const {
        return i >= map_base ? maps_[i - map_base] : items_[i];
    }
    [[nodiscard]] bool needed(std::size_t i) const {
        return i >= map_base ? map_needed_[i - map_base] : needed_[i];
    }
    template <class F>
    void for_each_item(F&& f) {
        for (auto i = items_.first(); i < items_.size(); ++i) f(items_[i]);
        for (auto& it : maps_) f(it);
    }
    void build_items();
    [[nodiscard]] stream_stats counters_locked() const;  // counters(), mutex_ held
    void release_playlist_segments();                    // after build_items (and start_live)
    // Live: a reloaded playlist's new segments appended (decoding thread).
    void append_live(const live_merge_result& r);
    [[nodiscard]] std::size_t index_of_msn(std::uint64_t msn) const;  // first at or after msn
    void update_window();  // info_'s window from the table (mutex_ held, or at open)
    std::uint32_t map_index(const std::shared_ptr<const init_section>& m);
    std::uint32_t key_index(const std::shared_ptr<const hls::key>& k);
    result<> start_live(const loaded_playlist& p);
    void set_audio(const master_playlist& m, std::size_t v, const audio_choice& c);
    // Loads, checks and stores a media playlist, and builds the segment table.
    result<> load_media(const std::string& uri, const master_playlist* master);
    result<loaded_playlist> load_playlist(const std::string& url);
    void store_playlist(loaded_playlist& p);
    result<> check_unchanged(const loaded_playlist& p, const media_playlist& now) const;
    result<std::array<std::uint8_t, 16>> key_for(const key& k, const std::string& what);
    void pump();
    // Starts item i's request; true when it finished without one (cached, failed, closing).
    bool start_item(std::size_t i, bool resumed = false);
    void fail_item(std::size_t i, const error& e, bool lost = false);
    // Live: closes the handles of these cached resources and removes them (behind the player,
    // out of the server's window), except those a segment at or after `keep_from` still uses.
    void remove_cached(const std::vector<std::string>& urls, std::size_t keep_from);
    void load_validators(std::size_t i);
    // A media request's wire bytes and time into measured_bps_ (mutex_ held).
    void note_transfer_locked(const net::transfer_stats& t);
    // The part fetcher finished segment `msn` (executor).
    void on_parts_done(std::uint64_t msn, std::optional<error> failure, bool lost);
    void emit_progress();
    [[nodiscard]] bool all_settled() const;  // download_all: every item done or failed (locked)

    net::client& client_;
    stream_options opts_;
    assets::asset_handle asset_;
    media_playlist media_;
    stream_info info_;
    // Segments (item k = segment k: segs_[k], items_[k]) and init sections (item map_base + m).
    // The segment tables grow at the end and, live, let go of blocks far behind the player (at
    // most options.live.max_segments held); maps_ is reserved at open and only grows.
    segment_table<segment> segs_;
    segment_table<item> items_;
    std::vector<item> maps_;
    std::vector<bool> needed_;      // per segment: fetched at all (VOD: not a gap)
    std::vector<bool> map_needed_;  // per init section: some non-gap segment uses it
    // Live (null for VOD): the reloads, the timeline they build, the wall clock of positions.
    std::shared_ptr<live_reloader> live_;
    live_timeline timeline_;
    pdt_map pdt_;
    std::shared_ptr<const media_playlist> latest_;  // the newest playlist folded in
    std::deque<timed_metadata> meta_;
    std::uint64_t meta_dropped_ = 0;
    double playlist_meta_after_ = -1;  // the newest playlist item's time (reloads add later ones)
    void add_metadata(const media_playlist& m, double start);
    void insert_metadata(timed_metadata m);  // by time; bounded by max_metadata
    emsg_dedup emsg_seen_;                   // decoding thread (merge_inband)
    std::mutex inband_mutex_;                // guards inband_ (a leaf)
    std::vector<timed_metadata> inband_;
    std::uint64_t merged_ = 0;         // the reloader's publication folded in last
    bool ended_ = true;                // VOD; live until ENDLIST
    std::uint64_t evict_from_ = 0;     // sliding_window_eviction's cursor (an MSN)
    std::size_t live_start_ = 0;       // the start rule's segment at open
    double live_start_skip_ = 0;       // and the seconds into it where audio starts
    double live_shift_ = 0;            // rebase_live's: added to the timeline's segment starts
    double measured_bps_ = 0;          // measured_bps() (mutex_)
    std::uint64_t measure_bytes_ = 0;  // transfers not in measured_bps_ yet (mutex_)
    double measure_seconds_ = 0;
    std::shared_ptr<part_fetcher> parts_;  // LL-HLS with live_options::low_latency, else null

    mutable std::mutex mutex_;
    std::condition_variable idle_;  // in-flight requests reached 0; download_all's progress
    std::size_t read_seg_ = 0;
    std::size_t released_to_ = 0;  // VOD: release_behind() closed the handles before this
    bool started_ = false;
    bool shut_down_ = false;
    std::size_t in_flight_ = 0;
    std::map<std::string, std::array<std::uint8_t, 16>> keys_;
    std::optional<error> failure_;
    stream_stats stats_;
    std::optional<std::chrono::steady_clock::time_point> stalled_since_;
    std::size_t stalled_seg_ = 0;
    bool read_failed_ = false;
    bool downloading_all_ = false;      // download_all: the window is the whole playlist
    std::uint64_t progress_bytes_ = 0;  // download_all: bytes in the cache (cached + fetched)
    std::uint64_t progress_emitted_ = 0;
    std::atomic<bool> playing_{false};
    bool stall_counted_ = false;  // the current stall counts (it began while playing)
    std::weak_ptr<session> session_;
    bool attached_ = false;
    std::size_t track_ = 0;
    std::optional<std::size_t> rendition_;
};

// "audio "English" (en)" for the variant_chosen event; "" without a rendition.
std::string audio_label(const master_playlist& m, const audio_choice& c);

// Adds the additive counters of `from` (bytes, requests, retries, segments, stalls, parts) to
// `to`: the totals of several engines (ABR variants, live tracks played one after another).
void add_counters(stream_stats& to, const stream_stats& from);

}  // namespace kithara::hls::detail
