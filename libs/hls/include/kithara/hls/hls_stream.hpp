// kithara::hls::hls_stream: HLS audio as PCM. open() loads the (master and) media playlists
// and returns a stream that downloads segments into the asset store (one asset keyed by the URL
// opened) while decoding them in order. On a master with several variants it adapts the bitrate
// (abr_options): each segment's variant is chosen from the network's measured throughput, the
// buffer and a cap; switches happen at segment boundaries with a continuous PCM timeline (the
// new variant's decoder primed on its previous segment, a 5 ms crossfade, the output format
// kept); a download that would stall is abandoned for a lower variant. Variants naming an AUDIO
// group play the alternate audio rendition options.audio picks (language, name, channels).
// A live or event playlist (no EXT-X-ENDLIST) starts at the live edge (live_options), is
// reloaded on the RFC 8216 schedule while it plays, keeps a sliding window in the cache, and
// ends cleanly after EXT-X-ENDLIST; next() waits for the next reload at the live edge. A live
// master plays one track at a time and switches (select_audio, lock_variant, adaptation to the
// measured throughput) at a segment boundary by media sequence number, the timeline continuous.
// LL-HLS: where the server publishes parts, the segment being built is read part by part.
//
//   auto s = kithara::hls::open(url, store, client, {}).value();
//   while (auto c = s->next()) { if (!*c) break; play((*c)->samples, (*c)->start); }
//   s->seek(42.0);  // the next chunk starts at 42 s exactly (sample-accurate)
//   s->set_max_bandwidth(200'000);  // e.g. on a cellular link; lock_variant(1) to pin one
//   auto pinned = kithara::hls::pin(url, store, client, {});  // whole variant, for offline play
//   s->seek_to_live_edge();  // a live stream: back to the edge; s->wall_clock(t): its PDT
//
// Threads: open() and pin() block (never call them on the client's executor thread); live
// reloads run on the executor (a timer and a request, no thread of their own). next(),
// seek(), info() and stats() are called by one application thread at a time; AES-128 keys are
// fetched on that thread, never on the executor. The download runs on the client's executor;
// events (options.on_event) are called on the executor or on the thread calling open(), pin(),
// next() or seek(), without any lock of the stream held; lock_variant() and set_max_bandwidth()
// from any thread. Locks: one mutex per variant guards its segment table and counters, one ABR
// mutex the plan, the estimate and the prefetch window (taken before a variant's); neither is
// held across I/O, a wait or an event callback. Buffers: chunks come from options.decode.pool (bufpool) and belong to the caller;
// segments are streaming resources of the asset (disk), read while they download; the only memory
// that grows with a segment is an AES-128 segment's clear bytes (bounded by the segment size).
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/core/result.hpp>
#include <kithara/decode/types.hpp>
#include <kithara/hls/export.hpp>
#include <kithara/hls/timed_metadata.hpp>
#include <kithara/net/bandwidth.hpp>
#include <kithara/net/client.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls {

namespace detail {
class engine;
struct player;
}  // namespace detail

enum class gap_policy {
    silence,  // render an EXT-X-GAP segment as silence of its EXTINF duration (keeps the timeline)
    skip,     // leave it out (the timeline jumps over it)
};

enum class event_kind {
    playlist_loaded,    // uri: the playlist (from the network or the cache: message says which)
    variant_chosen,     // variant: index into info().variants
    segment_requested,  // a request for a segment, init section or key started
    segment_complete,   // every byte of the segment is in the cache
    discontinuity,      // the decoder was reset at this segment
    gap,                // a gap segment (EXT-X-GAP, or a failed one with failed_segment_as_gap)
    stall,              // next() has to wait for the network (uri: the segment waited for)
    resume,             // data arrived after a stall; message: "after N ms"
    error,              // message: the error (also returned by next())
    progress,           // hls::pin: bytes_done/bytes_total, segments_done/segments_total
    // Adaptive bitrate. abr_decision: segments from `time` on (uri: the first of them) come from
    // `variant`; message: why (estimate, buffer, rule; "emergency" for an abandoned download).
    abr_decision,
    // The first chunk of `variant` is returned (time: its start); message: when it was decided.
    variant_switched,
    // The first chunk of another alternate audio rendition is returned (select_audio());
    // message: its NAME and LANGUAGE.
    rendition_switched,
    // Live and event playlists. live_reloaded: a reload brought new segments (message: how
    // many, the newest media sequence). live_stuck: unchanged for 3.5 target durations (the
    // reloads go on); live_recovered: it changed again. live_anomaly: the media sequence went
    // backwards, skipped segments never seen, or a segment changed (message says which).
    // live_jump: playback was behind the server's window (a long pause): it resumes at the
    // oldest segment still available (time: where). live_ended: EXT-X-ENDLIST appeared; the
    // stream ends after its last segment. live_reload_failed: a reload failed (message: why;
    // the reloads back off and go on).
    live_reloaded,
    live_stuck,
    live_recovered,
    live_anomaly,
    live_jump,
    live_ended,
    live_reload_failed,
};

struct event {
    event_kind kind = event_kind::error;
    std::string uri;
    std::uint64_t media_sequence = 0;
    std::size_t variant = 0;
    double time = 0;  // presentation time of the segment, seconds
    std::string message;
    // progress events (hls::pin). bytes_total counts the sizes known so far (BYTERANGE lengths,
    // Content-Length once a response arrived) plus an estimate (EXT-X-BITRATE, else BANDWIDTH,
    // times EXTINF) for the rest; bytes_total_exact once every size is known.
    std::uint64_t bytes_done = 0;
    std::uint64_t bytes_total = 0;
    bool bytes_total_exact = false;
    std::size_t segments_done = 0;
    std::size_t segments_total = 0;
};

enum class abr_mode {
    automatic,  // switch variants by the bandwidth estimate and the buffer (a master only)
    fixed,      // stay on the variant chosen at open
};

// What a custom policy (abr_options::policy) sees when a segment's variant is chosen.
struct abr_status {
    std::vector<std::uint64_t> bandwidths;  // per variant, bits/s: measured, AVERAGE-, or BANDWIDTH
    std::vector<bool> available;            // per variant: its playlist loaded (others never play)
    std::size_t current = 0;                // the variant of the segment before
    std::optional<double> estimate;         // bits/s of the link (empty: not warm yet)
    double buffer_seconds = 0;              // media downloaded ahead of the play position
    double playback_speed = 1.0;
    std::uint64_t max_bandwidth = 0;  // the cap (0 = none)
};

struct abr_options {
    abr_mode mode = abr_mode::automatic;
    // Never a variant whose bandwidth exceeds this (bits/s; 0 = no cap; e.g. a cellular cap).
    // The lowest variant plays when none fits. Changeable while playing: set_max_bandwidth().
    std::uint64_t max_bandwidth = 0;
    // Media seconds played per wall-clock second (audiobooks at 1.5x need 1.5x the bitrate).
    double playback_speed = 1.0;
    // Trusted after one reading (at start the first segments come back to back: waiting for a
    // second held the stream on the lowest variant for 12 s of schedule A).
    net::estimator_options estimator{
        .fast_half_life = 2.0, .slow_half_life = 8.0, .warmup_weight = 1.0, .warmup_samples = 1};
    // Up only to a variant whose bandwidth <= estimate * up_safety, with at least min_buffer_up
    // seconds buffered (less with more headroom: min_buffer_up * 2 * need / (estimate *
    // up_safety) when that is smaller, so a fast link leaves the lowest variant after one
    // segment); down (to the best variant within up_safety) when the current variant's
    // bandwidth > estimate * down_safety, or when the buffer drains faster than it fills.
    double up_safety = 0.7;
    double down_safety = 0.95;
    double min_buffer_up = 4.0;
    // Media seconds between two switches up (downs are never held back).
    double min_switch_interval = 8.0;
    // A segment download that cannot finish before the buffer runs out at the measured rate is
    // abandoned (its bytes stay cached) and fetched from a variant that fits.
    bool emergency_abort = true;
    // A switch decodes the new variant's previous segment first (dropped), so its decoder is warm
    // at the switch point: no cold-start transient. Costs one extra segment per switch.
    bool prime_decoder = true;
    // The estimate is kept in the asset store (per host) and seeds the next session's first
    // variant; an estimate older than estimate_max_age is ignored.
    bool persist_estimate = true;
    std::chrono::seconds estimate_max_age{6 * 3600};
    // A custom policy: returns the variant for the next segment. Called on the io thread or the
    // decoding thread under the stream's ABR lock: keep it quick and never call the stream from
    // it. Empty: the built-in rules above.
    std::function<std::size_t(const abr_status&)> policy;
};

// Alternate audio (EXT-X-MEDIA TYPE=AUDIO): which rendition of a variant's AUDIO group plays.
// A variant naming an AUDIO group plays a rendition of that group (its own URI may be video, or
// a muxed stream); the choice is made once at open and applies to every variant, so that ABR
// across variants with different groups (one per bitrate tier) keeps the same language and name.
// Order: a rendition whose NAME equals `name`; else the first of `languages` that matches a
// rendition's LANGUAGE, then one that matches its ASSOC-LANGUAGE (RFC 4647 lookup: "de-AT" also
// takes "de", and "de" takes "de-AT"); else DEFAULT=YES, then AUTOSELECT=YES, then the first.
// Among equal candidates, the one whose CHANNELS count is `channels` (stereo by default).
struct audio_preferences {
    std::string name;
    std::vector<std::string> languages;  // RFC 5646 tags, most preferred first
    unsigned channels = 2;
};

// One audio rendition of a group (stream_info::renditions).
struct rendition_info {
    std::string group;  // GROUP-ID
    std::string name;
    std::string language;  // "" when absent
    std::string assoc_language;
    unsigned channels = 0;  // CHANNELS' count, 0 when absent
    bool is_default = false;
    bool autoselect = false;
    std::string uri;  // the rendition's media playlist; "" when it is in the variant's stream
};

// Live and event playlists (no EXT-X-ENDLIST): where playback starts and what the cache keeps.
// A live stream starts at the live edge RFC 8216 prescribes (HOLD-BACK, three target durations
// from the end) or at EXT-X-START; its playlist is reloaded on the target-duration schedule with
// conditional requests (blocking reloads where the server offers CAN-BLOCK-RELOAD).
struct live_options {
    bool event_from_beginning = false;  // EVENT playlists: start at the first segment
    // EVENT playlists: keep every segment in the cache (to rewind to the start offline).
    // Otherwise played segments leave the cache: a live playlist's once they left the server's
    // window, an EVENT playlist's (whose window never moves) once the player is two segments
    // past them (a rewind fetches them again); so a 24-hour stream uses bounded disk.
    bool keep_event = false;
    // Segments the table may hold at once. A live stream lets go of those behind the player and
    // out of the server's window (stream_stats::segments_held), so only a window this long (55
    // hours of 2 s segments; an EVENT playlist kept whole with keep_event) ends the stream with
    // errc::limit_exceeded (reopen to continue).
    std::size_t max_segments = 100'000;
    // Media seconds the server publishes per wall-clock second: 1 for every real server. A test
    // or benchmark generator that runs a live stream faster than real time (the project's test
    // server, kithara_serve --live-time-scale) sets it, so that the reload timing (target
    // durations, backoff, the stuck rule) runs on the same clock.
    double time_scale = 1.0;
    // LL-HLS, where the server publishes parts (EXT-X-PART with CAN-BLOCK-RELOAD): start
    // PART-HOLD-BACK from the end of the playlist (at a part), and read the segment the server
    // is building part by part as its parts come out, each fetched as soon as a blocking reload
    // announces it. false: whole segments only, HOLD-BACK from the end.
    bool low_latency = true;
};

struct stream_options {
    // The variant to play: an index into the master's variants, or the variant with this
    // BANDWIDTH; either one locks it (no adaptation). Neither: adaptive bitrate (abr) over the
    // master's variants, starting on the one a persisted estimate fits, else the lowest.
    std::optional<std::size_t> variant;
    std::optional<std::uint64_t> variant_bandwidth;
    // Decoder output (rate, channels, chunk size, pool). sequential and start_offset are set by
    // the stream itself.
    decode::decoder_options decode;
    // The prefetch window ahead of the segment being decoded: segments are requested while both
    // bounds hold, with at most max_requests running at once.
    double prefetch_seconds = 20;
    std::uint64_t prefetch_bytes = 2 * 1024 * 1024;
    std::size_t max_requests = 2;
    bool offline = false;     // no request at all: what is not cached fails with offline_miss
    bool cache_keys = false;  // store AES-128 keys in the asset (otherwise memory only)
    gap_policy gaps = gap_policy::silence;
    // A media segment that cannot be had (after net's retries) is rendered like a gap (per
    // `gaps`, with a gap event naming it and the error) instead of ending playback. Keys, init
    // sections and changed content still end playback.
    bool failed_segment_as_gap = false;
    std::vector<net::header> headers;  // sent with every request (never logged)
    net::request_options request;
    std::function<void(const event&)> on_event;
    // Timed metadata (see timed_metadata.hpp) at its presentation time: the playlists' (EXTINF
    // titles, EXT-X-DATERANGE placed through EXT-X-PROGRAM-DATE-TIME) and the segments' own
    // (ID3 tags anywhere in packed audio, ID3 messages and other events in fMP4 `emsg` boxes
    // of version 0; a repeated emsg id fires once). Called on the thread calling next(), just
    // before next() returns the chunk during which the item starts (an in-band item found only
    // as its chunk was decoded: with the next chunk); after a seek: the item in effect at the
    // target first. Live playlists add the items of each reload's new segments. Setting it
    // makes segment reads scan for in-band items (no extra I/O). Keep it quick; never call the
    // stream from it.
    std::function<void(const timed_metadata&)> on_metadata;
    abr_options abr;
    audio_preferences audio;  // which alternate audio rendition plays (see audio_preferences)
    live_options live;
};

struct variant_info {
    std::uint64_t bandwidth = 0;
    std::optional<std::string> codecs;
    std::string uri;
};

struct stream_info {
    std::vector<variant_info> variants;  // empty when a media playlist was opened
    std::size_t variant = 0;             // the variant of the last chunk returned (or at open)
    double duration = 0;                 // sum of EXTINF, seconds
    std::size_t segments = 0;
    // The AUDIO group of the playing variant (empty without one) and the rendition playing.
    std::vector<rendition_info> renditions;
    std::optional<std::size_t> rendition;
    // Live and event playlists: live until EXT-X-ENDLIST appears (then `ended`). Times are
    // seconds on the stream's timeline (0 = the start of the first segment seen); the window is
    // what the server still offers, [window_start, window_end); duration is window_end.
    bool live = false;
    bool ended = true;
    double window_start = 0;
    double window_end = 0;
};

struct stream_stats {
    // Body bytes received from the network (playlists, keys, init sections, segments).
    std::uint64_t bytes_from_network = 0;
    // Bytes already cached when needed: playlists played from the cache, and each segment's and
    // init section's cached bytes, counted once per stream when it is first needed.
    std::uint64_t bytes_from_cache = 0;
    std::uint64_t requests = 0;  // HTTP requests started (playlists, keys, segments, inits)
    // net's retries summed over every request (attempts - 1 each), plus the stream's own resumes
    // of a segment whose request failed after making progress.
    std::uint64_t retries = 0;
    std::uint64_t segments_from_network = 0;  // media segments completed by a request
    std::uint64_t segments_from_cache = 0;    // media segments complete in the cache when needed
    // Seconds of media ahead of the last chunk returned that need no network: the contiguous run
    // of complete (or gap) segments from the one being decoded, minus what was already played.
    double buffered_seconds = 0;
    // Adaptive bitrate: switches that took effect (chunks of another variant returned), aborted
    // downloads, the link estimate (bits/s, 0 before it is warm) and the stalls next() waited.
    std::uint64_t switches = 0;
    std::uint64_t aborts = 0;
    double estimate_bps = 0;
    std::uint64_t stalls = 0;
    double stall_seconds = 0;
    // Segments whose entries the stream holds (playlist entry, cache handle, state). A live
    // stream lets go of those behind both the player and the server's window, in blocks of 64:
    // it stays bounded however long the stream plays.
    std::uint64_t segments_held = 0;
    // LL-HLS: parts fetched (EXT-X-PART requests that completed), and segments the player read
    // part by part as the server built them.
    std::uint64_t parts_fetched = 0;
    std::uint64_t segments_from_parts = 0;
};

class KITHARA_HLS_EXPORT hls_stream {
public:
    ~hls_stream();
    hls_stream(const hls_stream&) = delete;
    hls_stream& operator=(const hls_stream&) = delete;

    // The next chunk (start: the presentation time), nullopt at the end of the playlist. A segment
    // that cannot be had ends playback with errc::segment_failed naming URI, media sequence and
    // the HTTP status (net's error), unless options.failed_segment_as_gap; a segment whose
    // validator changed on the server (or a changed VOD playlist at open) is
    // errc::content_changed; a wrong key is errc::decrypt_failed naming the segment.
    [[nodiscard]] result<std::optional<decode::pcm_chunk>> next();
    // Any thread (an application shutting down, a user pressing stop): a next() waiting now
    // (for segment bytes, for a live reload that keeps failing or a frozen live playlist) and
    // every later one returns at once with an error equal to kithara::condition::cancelled.
    // Terminal: destroy the stream afterwards (reopen to play again).
    void interrupt();
    // The next chunk starts at `seconds` (clamped to the duration). Fetches only the segment that
    // holds it (and its init section and key).
    result<> seek(double seconds);
    [[nodiscard]] stream_info info() const;
    // Live: the next chunk starts at the live edge (the position the start rules pick on the
    // newest playlist). A VOD stream: not_supported.
    result<> seek_to_live_edge();
    // The wall-clock time of timeline position `seconds` (EXT-X-PROGRAM-DATE-TIME, carried
    // forward from the newest date before it), or nullopt when the playlist dates nothing there.
    [[nodiscard]] std::optional<std::chrono::system_clock::time_point> wall_clock(
        double seconds) const;
    [[nodiscard]] stream_stats stats() const;
    // Adaptive bitrate at run time (any thread): lock a variant (nullopt: adapt again), cap the
    // bandwidth (bits/s, 0 = none). They apply from the next segment downloaded (a live master:
    // from the next segment boundary the decoder reaches).
    void lock_variant(std::optional<std::size_t> variant);
    void set_max_bandwidth(std::uint64_t bits_per_second);
    // Alternate audio at run time (the application's thread; blocks while the new rendition's
    // playlists load): plays the rendition `preferences` picks (see audio_preferences) from the
    // end of the segment being played, seamlessly (primed and crossfaded like a variant switch;
    // a rendition_switched event marks its first chunk; a live master: from the next segment the
    // decoder reaches, primed, not crossfaded). Errors: not_supported when the stream has no
    // AUDIO group with two renditions, the playlist's error when it cannot load.
    result<> select_audio(const audio_preferences& preferences);

private:
    friend KITHARA_HLS_EXPORT result<std::unique_ptr<hls_stream>> open(std::string,
                                                                       assets::asset_store&,
                                                                       net::client&,
                                                                       stream_options);
    explicit hls_stream(std::shared_ptr<detail::engine> e);
    std::shared_ptr<detail::engine> engine_;
    std::unique_ptr<detail::player> player_;
};

// Opens a master or media playlist URL. Blocks until the media playlist is loaded.
[[nodiscard]] KITHARA_HLS_EXPORT result<std::unique_ptr<hls_stream>> open(
    std::string url, assets::asset_store& store, net::client& client, stream_options options = {});

// Offline download: pins the asset of `url` (assets' pin: never evicted by the LRU budget), then
// downloads the chosen variant whole — playlists, init sections, every segment (resuming what is
// cached) and its keys (stored in the asset, as with cache_keys) — with progress events
// (event_kind::progress, on options.on_event, from the io thread and this one). Blocks until
// done; returns the download's counters. open(url, ..., {.offline = true}) then plays it with
// zero requests. On failure the asset stays pinned with what was downloaded (a later pin()
// resumes). Never call it on the client's executor thread.
[[nodiscard]] KITHARA_HLS_EXPORT result<stream_stats> pin(std::string url,
                                                          assets::asset_store& store,
                                                          net::client& client,
                                                          stream_options options = {});

}  // namespace kithara::hls
