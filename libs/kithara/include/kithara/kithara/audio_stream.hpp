// kithara::audio_stream: one stream of PCM from any URL, progressive (an MP3, AAC, FLAC, Ogg,
// WAV or MP4 file over HTTP) or HLS (a master or media playlist, VOD or live), with the same
// surface for both. A context (context.hpp) opens it; the layers below do the work: a
// progressive URL is a file::file_source read by a decode::decoder, an HLS URL an
// hls::hls_stream.
//
//   auto s = ctx.open(url).value();                       // picks file or HLS itself
//   while (auto c = s->next()) { if (!*c) break; play((*c)->samples, (*c)->start); }
//   s->seek(std::chrono::seconds(30));                    // the next chunk starts at 30 s
//   auto i = s->info();                                   // format, duration, HLS variants
//   if (i.kind == kithara::stream_kind::hls) s->set_max_bandwidth(128'000);
//
// Format: chunks are interleaved float32 at open_options::decode's rate and channels (0: the
// source's own). info() knows the output format from open() on: an HLS stream decodes its first
// chunk inside open() and returns it from the first next().
// Ending: next() returns nullopt at the proven end of the media, an error when audio cannot be
// delivered whole (the layers below retry and resume first); never a silent short result.
//
// Decoding ahead (the default): the context's decode pool (a few threads shared by every
// stream) decodes each stream's next chunks into a bounded queue (open_options::decode_ahead_*),
// one chunk per turn, streams taking turns in order (fairness). A stream whose queue is full, or
// whose next bytes are not downloaded yet, is not scheduled: it costs no CPU until the consumer
// takes a chunk or its bytes arrive (its layer's events wake it). next() takes the queue's head
// (waiting when it is empty); try_next() never waits, and on_ready tells when a chunk came, so
// one application thread can serve hundreds of streams. decode_ahead_chunks = 0 decodes on the
// thread calling next() instead (no queue; try_next() then blocks like next()).
//
// Threads: next(), try_next(), seek(), info(), stats(), pin(), unpin(), select_audio(),
// seek_to_live_edge(), wall_clock() and close() from one application thread at a time.
// interrupt(), lock_variant() and set_max_bandwidth() from any thread. With decoding ahead, a
// seek (and seek_to_live_edge) takes effect in the pool's next turn for the stream: it returns at
// once, chunks of the old position are dropped (a new epoch), and an error of the seek itself
// comes from the next next() or try_next(), once (the stream goes on from where it was); info()
// and stats() are the state after the newest decoded chunk. Events (open_options::on_event) run
// on the context's io thread, a pool thread or the thread in open()/next()/seek(); on_ready on a
// pool thread; both without a lock of the stream held; keep them quick and never call the
// stream's blocking calls from them. Locks: one mutex per stream
// guards its queue, its pending seek and its snapshot of info and stats; it is never held
// across decoding, I/O or a wait (the consumer waits on a condition variable). as_hls() and
// as_file() name the layer below, which the pool drives while decoding ahead: only its
// any-thread calls are safe then. Buffers: chunks come from open_options::decode.pool (bufpool's
// shared sample pool by default) and belong to the caller once returned; the queue holds at
// most decode_ahead_chunks of them and decode_ahead_bytes of samples.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/decode/types.hpp>
#include <kithara/file/file_source.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <kithara/kithara/error.hpp>
#include <kithara/kithara/export.hpp>
#include <kithara/net/client.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kithara {

enum class stream_kind {
    file,  // progressive: one media file, read while it downloads
    hls,   // an HLS playlist (master or media, VOD, event or live)
};

// The common meaning of the layers' events; `detail` has the layer's own event.
enum class audio_event_kind {
    request_started,  // a request for media bytes (a file range, a segment, a key) started
    progress,         // bytes were stored in the cache
    cached,           // the whole file is cached (file), a segment is complete (HLS)
    stall,            // next() waits for the network
    resume,           // data came after a stall
    switched,         // another HLS variant or rendition plays from here
    live,             // an HLS live playlist reload, end, jump, anomaly or failed reload
    error,            // the download failed for good (next() returns the error too)
    other,            // anything else: see detail
};

struct audio_event {
    audio_event_kind kind = audio_event_kind::other;
    std::variant<file::event, hls::event> detail;
};

// decode::decoder_options with the first chunk after ~20 ms of audio (1024 frames).
[[nodiscard]] inline decode::decoder_options early_start_decode_options() {
    decode::decoder_options d;
    d.start_chunk_frames = 1024;
    return d;
}

struct open_options {
    // What the URL is; nullopt: the context decides (see context::detect).
    std::optional<stream_kind> kind;
    // The PCM wanted: rate, channels, chunk size, pool, resampler quality. The reader, the
    // sequential mode and the start offset are set by the stream. start_chunk_frames defaults to
    // 1024 here (the first chunk after ~20 ms of audio), so playback starts early.
    decode::decoder_options decode = early_start_decode_options();
    bool offline = false;              // no request at all (the context's offline too)
    std::vector<net::header> headers;  // sent with every request (never logged)
    net::request_options request;      // timeouts, retries, TLS
    std::function<void(const audio_event&)> on_event;  // see Threads above; must not block
    // Decoding ahead on the context's decode pool (see above): the queue's bounds, in chunks and
    // in bytes of samples (at least one chunk is held whatever its size). 0 chunks: decode on
    // the thread calling next().
    std::size_t decode_ahead_chunks = 4;
    std::size_t decode_ahead_bytes = 256 * 1024;
    // Called on a pool thread when a chunk (or the end, or an error) is ready after try_next()
    // returned poll_state::pending. Must not block; typically wakes the application's loop.
    std::function<void()> on_ready;
    // Tuning of each kind. open() overwrites the fields set above (decode, offline, headers,
    // request, on_event) and the shared pools; everything else is used as given: e.g.
    // file.prefetch_bytes, file.trust_cache; hls.variant, hls.abr, hls.audio, hls.live,
    // hls.on_metadata.
    file::options file;
    hls::stream_options hls;
};

// try_next(): what it found.
enum class poll_state {
    ready,    // a chunk was moved into `out`
    pending,  // nothing decoded yet: on_ready will tell (or call next() to wait)
    ended,    // the end of the media: no more chunks
};

struct audio_info {
    stream_kind kind = stream_kind::file;
    std::string url;
    // FFmpeg's names for a file ("mp3", "mp3float"); for HLS the container is "hls" and the codec
    // the variant's CODECS attribute when the playlist has one.
    std::string container;
    std::string codec;
    std::uint32_t sample_rate = 0;  // of the chunks next() returns
    std::uint32_t channels = 0;
    std::chrono::nanoseconds duration{-1};  // -1: unknown (a live stream: the window's end)
    bool seekable = false;
    bool live = false;  // an HLS playlist without EXT-X-ENDLIST (yet)
    // HLS only: variants, renditions, segments, the live window.
    std::optional<hls::stream_info> hls;
};

struct audio_stats {
    std::uint64_t bytes_from_network = 0;  // media, playlists and keys received
    std::uint64_t bytes_from_cache = 0;    // bytes that were cached when needed
    std::uint64_t requests = 0;            // HTTP requests started
    std::uint64_t chunks = 0;              // returned by next()
    std::uint64_t pcm_frames = 0;          // frames returned by next()
    // Each kind's own counters.
    std::optional<file::source_stats> file;
    std::optional<decode::decode_stats> decode;  // file only (HLS decoders come and go)
    std::optional<hls::stream_stats> hls;
};

namespace detail {
class backend;
class pooled_backend;
struct context_state;
}  // namespace detail

class KITHARA_KITHARA_EXPORT audio_stream {
public:
    ~audio_stream();  // close()
    audio_stream(const audio_stream&) = delete;
    audio_stream& operator=(const audio_stream&) = delete;

    // The next chunk (start: its presentation time), nullopt at the end. After interrupt() or
    // close(): an error equal to condition::cancelled (interrupt) or condition::closed (close).
    [[nodiscard]] result<std::optional<decode::pcm_chunk>> next();
    // Never waits while decoding ahead: a chunk already decoded, pending, or the end. An error
    // (the stream's, or interrupted/closed) as from next().
    [[nodiscard]] result<poll_state> try_next(decode::pcm_chunk& out);
    // The next chunk starts at `position` from the start (clamped to an HLS duration); a file
    // fetches the bytes there by a Range request at once. Bumps the chunks' epoch.
    result<> seek(std::chrono::nanoseconds position);
    [[nodiscard]] audio_info info() const;
    [[nodiscard]] audio_stats stats() const;
    [[nodiscard]] stream_kind kind() const noexcept { return kind_; }
    [[nodiscard]] const std::string& url() const noexcept { return url_; }

    // Any thread: a next() waiting for the network now, and every later one, returns
    // condition::cancelled. Terminal (close or destroy the stream afterwards).
    void interrupt();
    // Ends the stream: stops its downloads, flushes what was cached, releases the asset. Later
    // calls return condition::closed. Idempotent; the destructor calls it.
    void close();

    // Offline: keep this URL's cache entry from eviction (assets' pin). A file goes on
    // downloading to its end while the stream is open, so it ends up whole; an HLS stream keeps
    // the segments it fetched: context::pin() downloads a whole HLS variant.
    result<> pin();
    result<> unpin();

    // HLS only (a file: context_errc::not_supported). See hls_stream.hpp.
    result<> lock_variant(std::optional<std::size_t> variant);  // any thread
    result<> set_max_bandwidth(std::uint64_t bits_per_second);  // any thread
    result<> select_audio(const hls::audio_preferences& preferences);
    result<> seek_to_live_edge();
    [[nodiscard]] std::optional<std::chrono::system_clock::time_point> wall_clock(
        std::chrono::nanoseconds position) const;

    // The layer below, for what the common surface does not cover (nullptr for the other kind).
    // Owned by the stream; valid until close().
    [[nodiscard]] hls::hls_stream* as_hls() noexcept;
    [[nodiscard]] file::file_source* as_file() noexcept;

private:
    friend class context;
    audio_stream(std::shared_ptr<detail::context_state> ctx, std::string url, stream_kind kind,
                 std::unique_ptr<detail::backend> b);

    std::shared_ptr<detail::context_state> ctx_;
    std::string url_;
    stream_kind kind_;
    // Null once closed. Written by close() under backend_m_; the any-thread calls read it under
    // backend_m_, the application thread's calls without it (close() is one of them).
    std::unique_ptr<detail::backend> backend_;
    mutable std::mutex backend_m_;
    std::atomic<bool> interrupted_{false};
    std::uint64_t chunks_ = 0;
    std::uint64_t frames_ = 0;
};

}  // namespace kithara
