// kithara::context: everything a player needs to play any URL, in one object. It owns the io
// thread (downloads, timers, live reloads), the HTTP client (keep-alive connections shared by
// every stream, per-host limits), the disk cache (directory, byte budget, pins) and one
// background thread for disk work (flushes, index rewrites, eviction). open() picks the layer
// for the URL and returns an audio_stream (audio_stream.hpp).
//
//   auto ctx = kithara::context::create().value();  // cache: $XDG_CACHE_HOME/kithara, 500 MB
//   auto s = ctx.open("https://example.com/podcast.mp3").value();
//   while (auto c = s->next()) { if (!*c) break; play((*c)->samples); }
//   ctx.pin("https://example.com/album/master.m3u8");  // downloads it whole for offline play
//
// Picking file or HLS (detect()): open_options::kind when given; else the URL's extension
// (.m3u8: HLS; .mp3 .m4a .mp4 .aac .flac .ogg .opus .wav ...: file; .m3u .pls: a list, below);
// else, offline, what the cache holds for the URL; else one ranged GET of the first 4 KiB: an
// audio Content-Type or application/vnd.apple.mpegurl decides, else the body: #EXTM3U followed
// by #EXT-X- tags is HLS, [playlist] or a plain M3U a list, anything else a file.
//
// Radio lists (the .m3u and .pls files stations and directories link to): the list is read
// whole (at most 64 KiB) and its entries are tried in order; the first that opens is the stream
// (its url() is the entry's), so a dead mirror falls through to the next. An M3U with #EXT-X-
// tags is HLS. Lists within lists are followed 4 deep. A list that names nothing, or of which
// no entry opens, is an error naming the list (and the last entry's error). Offline, a list
// cannot be read: open or pin its entries' URLs.
//
// Threads: every member from any thread, concurrently (open() and pin() block: never call them
// on the io thread, i.e. from an event callback). Streams share the context's state: a stream
// outlives the context object safely; the threads stop when the context and every stream from
// it are gone. Threads in all: io_threads + background_threads + decode_threads (the decode
// pool, started with the first stream that decodes ahead), however many streams are open.
// Locks: the decode pool's run queue (a mutex, never held while decoding). Buffers: the
// cache is on disk (cache_bytes); per-stream memory is documented in docs/KITHARA.md.
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/core/result.hpp>
#include <kithara/kithara/audio_stream.hpp>
#include <kithara/kithara/export.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/blocking_pool.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace kithara {

struct context_options {
    // The cache directory; empty: default_cache_dir(). One context per directory at a time (the
    // store locks it: assets::errc::store_locked).
    std::filesystem::path cache_dir;
    std::uint64_t cache_bytes = 500'000'000;  // LRU byte budget (pinned assets are outside it)
    std::size_t cache_assets = 10'000;        // LRU entry budget
    assets::key_policy keys;                  // cache keys: e.g. drop a "token" query parameter
    bool offline = false;                     // every stream and pin offline
    unsigned io_threads = 1;                  // downloads and timers (1 serves hundreds)
    unsigned background_threads = 1;          // disk flushes, index rewrites, eviction
    unsigned decode_threads = 0;              // the decode pool (decoding ahead); 0: one per core
    net::client_options client;               // user agent, per-host connection limits
};

struct pin_result {
    stream_kind kind = stream_kind::file;
    std::uint64_t bytes_from_network = 0;  // downloaded by this pin
    std::uint64_t bytes_cached = 0;        // the asset's bytes on disk now
    std::optional<hls::stream_stats> hls;  // the HLS download's counters
};

// $XDG_CACHE_HOME/kithara, else $HOME/.cache/kithara, else <temp>/kithara-cache.
[[nodiscard]] KITHARA_KITHARA_EXPORT std::filesystem::path default_cache_dir();

class KITHARA_KITHARA_EXPORT context {
public:
    // Opens (creates) the cache and starts the threads. Errors: assets' (store_locked, I/O),
    // context_errc::bad_cache_dir, worker's when a thread cannot start.
    [[nodiscard]] static result<context> create(context_options options = {});
    context(context&&) noexcept;
    context& operator=(context&&) noexcept;
    ~context();

    // Opens `url` (absolute http/https). Blocks until the stream can deliver (a file: its first
    // response and the decoder's header read; HLS: the playlists and the first chunk decoded).
    // Errors: the layers' (net's HTTP status, hls's malformed playlist, decode's unsupported
    // codec, condition::unavailable offline and uncached), context_errc::unknown_content_kind,
    // context_errc::bad_radio_list.
    [[nodiscard]] result<std::unique_ptr<audio_stream>> open(std::string_view url,
                                                             open_options options = {});

    // What open() would make of `url` (see the header comment); may make one small request (a
    // radio list: the list's and its entries' until one answers).
    [[nodiscard]] result<stream_kind> detect(std::string_view url,
                                             const open_options& options = {});

    // Offline download: pins the URL's cache entry (never evicted) and downloads it whole: a
    // file to its last byte, HLS the variant open() would play (hls::pin). Blocks; progress comes
    // as events (options.on_event). A failure leaves the pin with what was downloaded; pin()
    // again resumes. Then open(url, {.offline = true}) plays it with no request.
    result<pin_result> pin(std::string_view url, open_options options = {});
    result<> unpin(std::string_view url);
    [[nodiscard]] result<bool> is_pinned(std::string_view url) const;

    // The layered API underneath, for what this surface does not cover. Valid while the context
    // or a stream from it lives.
    [[nodiscard]] assets::asset_store& store() noexcept;
    [[nodiscard]] net::client& client() noexcept;
    [[nodiscard]] worker::blocking_pool& background() noexcept;
    [[nodiscard]] const context_options& options() const noexcept;

private:
    explicit context(std::shared_ptr<detail::context_state> s);
    result<pin_result> pin_one(const std::string& url, stream_kind kind,
                               const open_options& options);
    std::shared_ptr<detail::context_state> state_;
};

}  // namespace kithara
