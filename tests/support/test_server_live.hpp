// kithara::test::live_stream: a live (or EVENT) HLS media playlist served by the loopback test
// server, whose window advances in accelerated real time over a pre-made set of segments (a VOD
// fixture's, reused cyclically or once), with optional LL-HLS parts and blocking playlist reload,
// fault injection, and the publish time of every segment and part for latency measurements.
//
//   http_server srv;
//   std::string error;
//   auto source = live_source::from_vod_playlist(fixtures / "ts_aac/index.m3u8", error);
//   auto live = live_stream::create(srv, {.path = "/live/radio.m3u8", .source = *source,
//                                         .window = 4, .time_scale = 10}, error);
//   ... url: srv.url("/live/radio.m3u8"); segments radio_<msn>.ts, parts radio_<msn>.p<j>.ts,
//   ... init radio_init.mp4; live->wait_published(12, std::nullopt, 5s); live->jump(3);
//
// Time: media time runs time_scale seconds per wall second from create() on. The first
// initial_segments segments are published at once; segment k after them when media time reaches
// its end, part j of it when media time reaches the part's end. All of it is computed from
// steady_clock on demand (no thread, no tick): a request sees the state of its arrival.
// Playlist: EXT-X-MEDIA-SEQUENCE = media_sequence + index of the first segment in the window,
// EXT-X-DISCONTINUITY before each loop wrap (the tag leaves with the segment that carried it when
// it becomes first, and EXT-X-DISCONTINUITY-SEQUENCE counts it), EXT-X-PROGRAM-DATE-TIME per
// segment (pdt_epoch + the segment's media start), EXT-X-MAP when the source has an init
// section, EXT-X-ENDLIST once end_after segments (or, without loop, the source once) are out.
// A strong ETag (hash of the body) and a Last-Modified that advances one second per change of the
// body (exact at any time_scale; it can run ahead of the wall clock); If-None-Match (which wins)
// and If-Modified-Since give 304.
// Segments: <stem>_<msn>.<ext> (unique per media sequence number, so a stale fetch shows in the
// request log) served with Range/ETag; 404 before they are published and once they left the
// window more than `grace` ago (EVENT: never). LL-HLS (parts_per_segment > 0): each segment is
// cut into that many parts of equal duration and near-equal bytes (TS: at 188-byte packets;
// other formats: byte slices whose concatenation is the segment; the first is INDEPENDENT=YES);
// EXT-X-PART for the last part_segments_kept segments and the one being built,
// EXT-X-PRELOAD-HINT for the next part (a request for it is held until it is published),
// CAN-BLOCK-RELOAD=YES with PART-HOLD-BACK = 3 part targets; `?_HLS_msn=N[&_HLS_part=M]` is
// held (a timer on the server's io thread, no thread per request) until the playlist holds
// segment N (part M of N) or later, answered 400 if N is more than two segments past the last
// segment of the playlist (or _HLS_part comes without _HLS_msn), and after block_timeout answered
// with the current playlist (or block_timeout_status).
// Threads: every public member may be called from any thread; requests are answered on the
// server's io thread. Locks: one mutex per stream guards the timeline (its pieces and faults) and
// the counters; it is never held across I/O or while a reply is sent. Buffers: the source's
// segment bytes are shared immutable strings (parts are cut once at create()); a playlist body is
// built per request. Destroy a live_stream before its http_server; requests it holds then answer
// at their deadline.
#pragma once

#include "test_server.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kithara::test {

struct live_source_segment {
    std::string name;                          // where it came from (for messages)
    std::shared_ptr<const std::string> bytes;  // the segment's content
    double duration = 0;                       // seconds (its EXTINF)
};

// What a live stream cycles through: segments of one format, and an init section (fMP4).
struct live_source {
    std::vector<live_source_segment> segments;
    std::shared_ptr<const std::string> init;  // EXT-X-MAP's content, null if none
    std::string extension = ".ts";            // of the segment URIs (".ts", ".m4s", ".aac")
    std::string init_extension = ".mp4";

    // Reads a VOD media playlist and the files it names (EXT-X-BYTERANGE and an EXT-X-MAP with
    // or without BYTERANGE are understood; EXT-X-KEY other than NONE is refused). nullopt with
    // `error` naming the file and line on anything it cannot serve.
    static std::optional<live_source> from_vod_playlist(const std::filesystem::path& playlist,
                                                        std::string& error);
    // count segments of `duration` seconds and `bytes` pseudo-random bytes each (seeded by the
    // index; bytes a multiple of 188 keeps TS part cuts exact), for tests that never decode.
    static live_source synthetic(std::size_t count, double duration, std::size_t bytes,
                                 std::string extension = ".ts");
};

enum class live_playlist_type { live, event };

struct live_stream_options {
    std::string path = "/live/stream.m3u8";  // must end in .m3u8; its stem names the segments
    live_source source;
    int target_duration = 0;  // seconds; 0 = the longest source EXTINF rounded to nearest, >= 1
    std::size_t window = 6;   // segments in the playlist (live type)
    std::size_t initial_segments = 0;  // published at create(); 0 = window
    double time_scale = 1.0;           // media seconds per wall second
    std::uint64_t media_sequence = 0;  // of the stream's first segment
    std::uint64_t discontinuity_sequence = 0;
    bool loop = true;                        // cycle the source (else it plays once, then ENDLIST)
    std::optional<std::uint64_t> end_after;  // segments in all, then EXT-X-ENDLIST
    live_playlist_type type = live_playlist_type::live;  // event: nothing leaves the playlist
    bool program_date_time = true;
    // PDT of the stream's media position 0; nullopt = now minus the initial segments' duration.
    std::optional<std::chrono::system_clock::time_point> pdt_epoch;
    std::optional<double> start_offset;  // EXT-X-START:TIME-OFFSET
    bool start_precise = false;
    // LL-HLS.
    int parts_per_segment = 0;           // 0: no parts, no blocking reload
    std::size_t part_segments_kept = 3;  // complete segments that keep their EXT-X-PART lines
    bool parts_never_published = false;  // advertise LL-HLS, never publish parts; hold blocking
                                         // reloads until block_timeout
    // How long a blocking reload is held; nullopt = 3 target durations of media time.
    std::optional<std::chrono::milliseconds> block_timeout;
    int block_timeout_status = 200;  // 200: the current playlist; else that status
    // How long a segment stays fetchable after it left the window; nullopt = the window's
    // duration in media time.
    std::optional<std::chrono::milliseconds> grace;
};

class live_stream {
public:
    using clock = std::chrono::steady_clock;

    // Registers the stream's route on srv (the playlist path's directory + stem). nullptr with
    // `error` when the options cannot make a stream.
    static std::unique_ptr<live_stream> create(http_server& srv, live_stream_options options,
                                               std::string& error);
    ~live_stream();
    live_stream(const live_stream&) = delete;
    live_stream& operator=(const live_stream&) = delete;

    [[nodiscard]] const live_stream_options& options() const;
    // Relative URIs as the playlist writes them.
    [[nodiscard]] std::string segment_uri(std::uint64_t msn) const;
    [[nodiscard]] std::string part_uri(std::uint64_t msn, int part) const;
    [[nodiscard]] std::string init_uri() const;  // "" without init section
    // The server path of a relative URI ("/live/radio_7.ts").
    [[nodiscard]] std::string path_of(const std::string& uri) const;

    // The state now (faults included; the next rewind not).
    [[nodiscard]] std::uint64_t media_sequence() const;  // first segment of the playlist
    // The newest complete segment's number; its count is last_media_sequence() + 1 - the first.
    [[nodiscard]] std::uint64_t last_media_sequence() const;
    [[nodiscard]] std::uint64_t discontinuity_sequence() const;
    [[nodiscard]] int published_parts() const;   // of the segment being built
    [[nodiscard]] bool ended() const;            // EXT-X-ENDLIST is out
    [[nodiscard]] std::string playlist() const;  // the body a plain request gets now
    // Which source segment a media sequence number carries (index into source.segments).
    [[nodiscard]] std::size_t source_index(std::uint64_t msn) const;

    // When a segment (part) was published or will be (steady_clock), as the timeline stands;
    // nullopt for one that never is (past end_after) or a part without LL-HLS.
    [[nodiscard]] std::optional<clock::time_point> published_at(std::uint64_t msn) const;
    [[nodiscard]] std::optional<clock::time_point> part_published_at(std::uint64_t msn,
                                                                     int part) const;
    // Waits (condition variable, woken by faults) until the segment (or the part) is published;
    // returns its publish time, or nullopt after timeout.
    std::optional<clock::time_point> wait_published(std::uint64_t msn, std::optional<int> part,
                                                    std::chrono::milliseconds timeout);

    // Counters since create().
    [[nodiscard]] std::uint64_t playlist_requests() const;  // every playlist answer
    [[nodiscard]] std::uint64_t not_modified() const;       // 304s among them
    [[nodiscard]] std::uint64_t blocked_requests() const;   // reloads held (blocking, hints)
    [[nodiscard]] std::uint64_t bad_requests() const;       // 400s

    // Faults. The next n playlist requests answer `status`.
    void fail_next_reloads(int n, int status = 503);
    // The window stops for `wall` while time goes on; then it jumps to where it would have been
    // (catch_up) or resumes from where it stopped. A freeze replaces a pending one.
    void freeze(std::chrono::milliseconds wall, bool catch_up = true);
    // The window jumps ahead by `segments` at once (they are published now).
    void jump(std::uint64_t segments);
    // The next playlist answer shows the window as it was `segments` segments ago (its media
    // sequence goes backwards once; a misbehaving origin behind a load balancer).
    void rewind_next_reload(std::uint64_t segments);

    struct state;

private:
    live_stream(http_server& srv, std::shared_ptr<state> s);
    http_server& srv_;
    std::shared_ptr<state> state_;
};

}  // namespace kithara::test
