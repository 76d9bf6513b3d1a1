// The pure core of live and event playback: what a reload adds to the timeline (live_timeline),
// when to reload next (reload_schedule, delivery directives), where to start (live_start),
// which cached segments may go (sliding_window_eviction), and the wall clock of any timeline
// position (pdt_map, parse_program_date_time). See docs/HLS.md "Live (core logic)".
//
//   live_timeline tl;
//   auto r = tl.merge(parse_playlist(body, url)->media());  // r.appended: items to fetch
//   sched.on_result(r.changed ? reload_outcome::changed : reload_outcome::unchanged, t0, t1, &m);
//   auto next = sched.next();  // when (and whether blocking, with which _HLS_msn/_HLS_part)
//
// No I/O, no threads, no clock reads: times are passed in. Threads: each object belongs to one
// thread at a time (the caller's lock guards it); none has locks of its own. Buffers: the
// timeline owns copies of what it keeps of the playlists (bounded by live_timeline_options in
// count and bytes); pdt_map keeps one span per discontinuity or date tag (bounded).
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/hls/playlist.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::hls::detail {

using wall_time = std::chrono::system_clock::time_point;
using steady_time = std::chrono::steady_clock::time_point;

// EXT-X-PROGRAM-DATE-TIME (ISO 8601 / RFC 3339): "2026-12-05T09:00:00.250Z", "...+01:00",
// "...+0100", "...-05"; fractional seconds up to nanoseconds; no zone = UTC (the spec lets a
// client assume local time; a pure function cannot know it). Errors: errc::invalid_value naming
// the value and what is wrong. (The timed-metadata helpers may parse dates too: unify there.)
[[nodiscard]] result<wall_time> parse_program_date_time(std::string_view text);

// ---------------------------------------------------------------------------------------------
// live_timeline: the segments known so far, keyed by media sequence number (MSN), on one
// continuous timeline (seconds since the first segment known; a discontinuity or a lost range
// does not open a hole in it).

struct live_segment {
    std::uint64_t msn = 0;
    std::uint64_t discontinuity_sequence = 0;  // the timeline's own count (see merge)
    bool discontinuity = false;  // the decoder restarts here (a tag, a gap before it, a restart)
    bool after_gap = false;      // segments were lost just before this one
    double start = 0;            // seconds on the timeline
    double duration = 0;
    std::string uri;  // as written, and resolved (the resource's name in the cache)
    std::string resolved_uri;
    std::optional<byte_range> range;
    std::shared_ptr<const hls::init_section> map;  // EXT-X-MAP in effect, shared
    std::shared_ptr<const hls::key> key;           // key_of(): nullptr = clear
    std::optional<wall_time> program_date_time;    // only when a valid tag applies to it directly
    std::optional<std::string> title;
    bool gap = false;         // EXT-X-GAP: do not load
    std::vector<part> parts;  // LL-HLS parts as last listed
    std::size_t bytes = 0;    // what it costs in memory (accounting)

    [[nodiscard]] double end() const noexcept { return start + duration; }
    // "<uri> (media sequence N)", the engine's item label.
    [[nodiscard]] std::string label() const;
};

enum class live_anomaly_kind {
    media_sequence_backwards,  // an older playlist than the last: ignored
    media_sequence_restart,    // backwards several times in a row: taken as a new stream
    gap,                       // the window skipped segments never seen: lost
    segment_changed,           // a known MSN with another URI, byte range or duration
    discontinuity_mismatch,    // EXT-X-DISCONTINUITY-SEQUENCE disagrees with what we counted
    delta_without_base,        // EXT-X-SKIP over segments we do not have: reload in full
    bad_program_date_time,     // an EXT-X-PROGRAM-DATE-TIME that does not parse: ignored
};
[[nodiscard]] const char* to_string(live_anomaly_kind k) noexcept;

struct live_anomaly {
    live_anomaly_kind kind;
    std::uint64_t first_msn = 0;  // the MSNs concerned ([first, last])
    std::uint64_t last_msn = 0;
    std::string message;  // human readable, names MSNs and URIs
};

struct live_slid_out {
    std::uint64_t msn = 0;
    std::string resolved_uri;
};

struct live_merge_result {
    std::vector<live_segment> appended;                     // new segments, in MSN order (copies)
    std::uint64_t parts_msn = 0;                            // the MSN the trailing parts belong to
    std::vector<std::pair<std::uint32_t, part>> new_parts;  // (part index, part), new ones
    std::vector<live_slid_out> slid_out;  // left the server's window with this reload
    std::vector<live_slid_out> dropped;   // forgotten by the timeline (retention)
    std::vector<live_anomaly> anomalies;
    bool changed = false;            // new segments or parts, or ENDLIST (for reload_schedule)
    bool ended = false;              // ENDLIST appeared with this reload: the VOD transition
    bool ignored = false;            // the reload was not used (backwards, delta without base)
    bool needs_full_reload = false;  // reload without _HLS_skip (RFC 8216bis 6.3.7)
};

struct live_timeline_options {
    std::size_t max_segments = 20'000;  // hard caps on what is kept behind the window
    std::size_t max_bytes = 16u << 20;
    double retain_behind = 0;                   // seconds of played slid-out segments still kept
    bool keep_all = false;                      // EVENT rewind: keep all (up to the caps)
    std::uint32_t restart_after_backwards = 3;  // consecutive backwards reloads = a new stream
    double duration_tolerance = 0.001;          // seconds; a larger EXTINF change is reported
};

class live_timeline {
public:
    explicit live_timeline(live_timeline_options o = {}) : opts_(o) {}

    // Folds a reloaded (or the first) media playlist in. Segments at known MSNs are checked,
    // not replaced; delta updates (EXT-X-SKIP) must skip only segments already seen.
    live_merge_result merge(const media_playlist& m);
    // The segment the player reads now: segments before it count as played (retention).
    void set_playing(std::uint64_t msn) noexcept { playing_ = msn; }
    // Applies retention now (merge does it too); returns what was forgotten.
    std::vector<live_slid_out> trim();

    [[nodiscard]] const std::deque<live_segment>& segments() const noexcept { return segs_; }
    [[nodiscard]] const live_segment* find(std::uint64_t msn) const noexcept;
    // The segment playing at timeline time t (the last starting at or before it), or nullptr.
    [[nodiscard]] const live_segment* at(double t) const noexcept;
    [[nodiscard]] bool loaded() const noexcept { return loaded_; }
    [[nodiscard]] bool ended() const noexcept { return ended_; }
    [[nodiscard]] std::uint64_t window_first() const noexcept { return window_first_; }
    [[nodiscard]] std::uint64_t last_msn() const noexcept { return last_msn_; }
    [[nodiscard]] double end_time() const noexcept { return end_time_; }
    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::optional<std::uint64_t> target_duration() const noexcept { return target_; }
    [[nodiscard]] const live_timeline_options& options() const noexcept { return opts_; }

private:
    void append(const media_playlist& m, const segment& s, live_merge_result& r, bool disc,
                bool after_gap, std::uint64_t disc_seq);
    void check_known(const live_segment& known, const segment& s, std::uint64_t disc_seq,
                     live_merge_result& r) const;
    void take_parts(const media_playlist& m, live_merge_result& r);

    live_timeline_options opts_;
    std::deque<live_segment> segs_;  // ascending MSN (not always contiguous: gaps)
    bool loaded_ = false;
    bool ended_ = false;
    bool restart_pending_ = false;
    std::uint64_t first_seen_ = 0;    // first MSN ever known (since the last restart)
    std::uint64_t last_msn_ = 0;      // last MSN known
    std::uint64_t last_disc_ = 0;     // its discontinuity sequence
    std::uint64_t window_first_ = 0;  // EXT-X-MEDIA-SEQUENCE of the last reload used
    std::uint64_t playing_ = 0;
    std::uint32_t backwards_ = 0;
    double end_time_ = 0;
    std::size_t bytes_ = 0;
    std::optional<std::uint64_t> target_;
    std::uint64_t parts_msn_ = 0;
    std::size_t parts_known_ = 0;  // trailing parts of parts_msn_ already reported
};

// ---------------------------------------------------------------------------------------------
// sliding_window_eviction: which cached resources may be removed now. Candidates are retained
// segments in [from_msn, min(playing_msn, window_first)): out of the server's window and behind
// the player (played, or skipped over). A resource (URI) or init section still used by a later
// segment stays. keep_all (EVENT rewind): nothing. server_keeps_all (an EVENT playlist: its
// window never moves, and the server keeps every segment for a later rewind to fetch again):
// [from_msn, playing_msn), the window not considered. Call again with from_msn = next_from.

struct eviction_plan {
    std::vector<std::uint64_t> msns;     // segments whose bytes may go
    std::vector<std::string> resources;  // distinct resolved URIs to remove from the cache
    std::vector<std::string> maps;       // init sections no later segment uses
    std::uint64_t next_from = 0;
};
[[nodiscard]] eviction_plan sliding_window_eviction(const live_timeline& tl,
                                                    std::uint64_t playing_msn,
                                                    std::uint64_t from_msn, bool keep_all,
                                                    bool server_keeps_all = false);

// ---------------------------------------------------------------------------------------------
// live_start: where playback begins (RFC 8216 6.3.3; rfc8216bis 4.4.2.2 EXT-X-START, 4.4.3.8
// HOLD-BACK / PART-HOLD-BACK).

struct start_options {
    bool event_from_beginning = false;       // EVENT: the first segment (wins over EXT-X-START)
    bool low_latency = true;                 // with parts and PART-HOLD-BACK: start at a part
    bool require_independent_parts = false;  // only INDEPENDENT=YES parts (video); audio: any
};

struct start_position {
    enum class rule { start_tag, hold_back, part_hold_back, event_beginning, playlist_start };
    std::uint64_t msn = 0;
    std::optional<std::uint32_t> part;  // LL-HLS: the part index within msn
    double offset = 0;  // seconds to drop inside that segment/part (PRECISE=YES only)
    double time = 0;    // seconds from the playlist's first segment where audio starts
    rule why = rule::playlist_start;
};
[[nodiscard]] result<start_position> live_start(const media_playlist& m,
                                                const start_options& o = {});
// HOLD-BACK (absent: 3 x target duration), and the target duration the playlist implies.
[[nodiscard]] double hold_back_of(const media_playlist& m) noexcept;
[[nodiscard]] double target_of(const media_playlist& m) noexcept;

// ---------------------------------------------------------------------------------------------
// reload_schedule: RFC 8216 6.3.4 timing, error backoff, the stuck rule, and LL-HLS blocking
// reloads (rfc8216bis 6.2.5.2, 6.3.8) with a fallback to polling.

enum class reload_outcome {
    changed,           // new segments, parts or ENDLIST (live_merge_result::changed)
    unchanged,         // the same playlist
    not_modified,      // a 304: an unchanged reload, not an error
    error,             // transport error, 4xx/5xx, unparsable body
    blocking_timeout,  // a blocking request timed out (the caller's timer) or a 503 to it
};

struct reload_options {
    double stuck_factor = 3.5;   // x target duration without a change: stuck
    double backoff_first = 0.5;  // x target duration after the first error
    double backoff_max = 4.0;    // x target duration, the cap
    double jitter = 0.1;         // +- this fraction of each backoff delay
    std::uint64_t seed = 0;      // jitter is a pure function of (seed, error count)
    std::uint32_t blocking_timeouts_to_fallback = 3;  // consecutive: stop blocking reloads
    std::uint32_t partless_to_fallback = 3;  // blocking part answers without parts: ask by MSN
    bool after_change_last_segment = false;  // rfc8216bis: wait the last segment's duration
    std::chrono::milliseconds blocking_slack{500};  // added to the blocking request timeout
};

// The next expected segment or part (the blocking request's target).
struct delivery_target {
    std::uint64_t msn = 0;
    std::optional<std::uint32_t> part;
    friend bool operator==(const delivery_target&, const delivery_target&) = default;
};

struct reload_request {
    steady_time at;                                 // not before
    std::optional<delivery_target> blocking;        // a blocking reload with these directives
    std::chrono::steady_clock::duration timeout{};  // for a blocking one: give up after
};

struct reload_report {
    bool stuck_began = false;  // the playlist just became stuck (once per episode)
    bool stuck = false;        // unchanged for stuck_factor x target duration
    bool recovered = false;    // it changed again after being stuck
    bool fell_back = false;    // blocking reloads were just given up
    std::uint32_t consecutive_errors = 0;
};

class reload_schedule {
public:
    explicit reload_schedule(reload_options o = {}) : opts_(o) {}

    // A request that began at `started` and ended at `finished` had `outcome`; `m` is the
    // playlist now in effect (the new one, or the previous after an error/unchanged; nullptr
    // keeps what the schedule knew). The first load counts as changed.
    reload_report on_result(reload_outcome outcome, steady_time started, steady_time finished,
                            const media_playlist* m);
    [[nodiscard]] reload_request next() const noexcept { return next_; }
    [[nodiscard]] bool blocking() const noexcept { return blocking_; }
    [[nodiscard]] bool stuck() const noexcept { return stuck_; }
    [[nodiscard]] bool fell_back() const noexcept { return fallen_back_; }
    // ENDLIST: no more reloads (the caller stops asking).
    [[nodiscard]] bool finished() const noexcept { return endlist_; }

private:
    std::chrono::steady_clock::duration backoff(std::uint32_t errors) const;

    reload_options opts_;
    reload_request next_{};
    double target_ = 0;        // seconds
    double part_target_ = 0;   // seconds, 0 = no parts
    double last_segment_ = 0;  // seconds
    bool can_block_ = false;
    bool blocking_ = false;
    bool fallen_back_ = false;
    bool ask_parts_ = true;
    bool endlist_ = false;
    bool stuck_ = false;
    bool seen_change_ = false;
    steady_time last_change_{};
    std::uint32_t errors_ = 0;
    std::uint32_t timeouts_ = 0;
    std::uint32_t partless_ = 0;
    std::optional<delivery_target> target_next_;
};

// The next segment or part a blocking reload of `m` asks for (rfc8216bis 6.2.5.2): the part
// after the last published one when the playlist has parts (and `parts`), else the segment
// after the last one (for an empty playlist, its first).
[[nodiscard]] delivery_target next_delivery_target(const media_playlist& m, bool parts = true);

enum class skip_directive { none, yes, v2 };
// `url` with _HLS_msn/_HLS_part/_HLS_skip set (any present before are replaced), every query
// parameter in UTF-8 byte order (rfc8216bis 6.3.2), the fragment kept.
[[nodiscard]] std::string with_delivery_directives(std::string_view url,
                                                   const std::optional<delivery_target>& t,
                                                   skip_directive skip = skip_directive::none);
// May a delta update be asked for (rfc8216bis 6.3.7): CAN-SKIP-UNTIL, no ENDLIST, and our copy
// no older than half the skip boundary. v2 when CAN-SKIP-DATERANGES=YES.
[[nodiscard]] skip_directive delta_update_directive(const media_playlist& m, double age_seconds);

// ---------------------------------------------------------------------------------------------
// pdt_map: timeline position -> wall clock from EXT-X-PROGRAM-DATE-TIME (RFC 8216 4.3.2.6,
// rfc8216bis 6.3.3): a date applies to the start of its segment and carries forward; segments
// before the first date of a discontinuity run extrapolate backward from it; a discontinuity
// without a date starts a run with no wall clock until one appears.

class pdt_map {
public:
    explicit pdt_map(std::size_t max_spans = 100'000) : max_spans_(max_spans) {}

    // Segments in timeline order (start must not decrease).
    void add(double start, double duration, bool discontinuity, std::optional<wall_time> pdt);
    void add(const live_segment& s) {
        add(s.start, s.duration, s.discontinuity, s.program_date_time);
    }
    // A whole (VOD or first) playlist from time 0; bad dates are skipped and returned as errors.
    std::vector<error> add_playlist(const media_playlist& m, double start = 0);

    [[nodiscard]] std::optional<wall_time> wall_clock_at(double t) const;
    // The first timeline position whose wall clock is `w` (for EXT-X-DATERANGE), or nullopt.
    [[nodiscard]] std::optional<double> position_of(wall_time w) const;
    // Forgets spans that end at or before t.
    void forget_before(double t);
    // Moves every span by delta seconds (a timeline rebased onto another track's).
    void shift(double delta) noexcept {
        for (auto& sp : spans_) {
            sp.begin += delta;
            sp.end += delta;
        }
    }
    [[nodiscard]] std::size_t spans() const noexcept { return spans_.size(); }

private:
    struct span {
        double begin = 0;
        double end = 0;
        std::size_t run = 0;              // discontinuity run
        std::optional<wall_time> anchor;  // wall clock at `begin`
    };
    std::deque<span> spans_;
    std::size_t run_ = 0;
    std::size_t max_spans_;
};

}  // namespace kithara::hls::detail
