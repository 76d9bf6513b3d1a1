// kithara::file: a progressive HTTP file as a stream::source that the decoder reads while a
// background download fills the asset's streaming resource; Range requests on demand; persistent
// across restarts (validators stored with the asset); plays offline when cached.
//
//   kithara::net::client client{io.executor()};          // io: one thread running the executor
//   auto src = kithara::file::open(url, store, client, {.prefetch_bytes = 1 << 20}).value();
//   auto dec = kithara::decode::decoder::open(src).value();   // reads wait; seeks fetch at once
//
// Download: a sequential request fills the file from its first gap; a wait_range on a region not
// yet downloaded (a seek, an MP4 moov at the end, ID3v1/APE tags) starts a Range request at that
// region's first missing byte right away unless a running request will reach it within
// prefetch_bytes. At most max_requests run per file (the least recently useful one is cancelled to
// make room); a small demanded gap of known extent is split across the free ones (see options).
// Requests cover only gaps of the cached range set: no cached byte is fetched again (a request
// stops when it runs into cached bytes). When a request ends, the next gap at or after the last
// demanded position is fetched, then the rest, until the file is complete. Persistence: ETag,
// Last-Modified, length and freshness (Cache-Control max-age / no-cache, Expires) are stored as an
// atomic resource of the same asset. open() on a cached copy
// - complete and fresh (or options.trust_cache / offline): no request at all;
// - otherwise: the first request carries If-Range; 206 continues the cached ranges, 200 with other
//   validators invalidates the copy (a new data resource, never spliced; the old one is deleted). A
//   complete copy whose revalidation cannot reach the server is played (event stale_served).
// Limits: servers without Range support are read sequentially only (no demand requests; a resume
// re-downloads the prefix, which is skipped, not re-written). Unknown length (chunked): the length
// is known at the end (seeking by size is unavailable until then); a dropped chunked response
// without validators restarts from 0.
// Failure: when bytes cannot be delivered whole (retries exhausted, HTTP error, content changed
// mid-play, disk full), the resource fails and every wait/read returns that error: never a short
// result. The net client's retries resume dropped connections (Range + If-Range).
//
// Threads: open() from any thread except the client's executor (it waits for the first response
// head). The source's members from any thread (stream::source contract). Download state lives on
// the client's executor (no lock); stats are atomics. Events run on the executor (or in open()).
// Writes (pwrite) run on the executor; durability flushes (every flush_every_bytes; storage
// itself never flushes this resource from a write), metadata writes and the deletion of an
// invalidated generation run on options.background (default: one thread shared by all files).
// Buffers: bytes go from libcurl's buffer straight into the resource (one copy, pwrite).
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/core/result.hpp>
#include <kithara/file/error.hpp>
#include <kithara/file/export.hpp>
#include <kithara/net/client.hpp>
#include <kithara/stream/source.hpp>
#include <kithara/worker/blocking_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kithara::file {

enum class event_kind {
    opened_cached,    // open(): complete and fresh, no request made
    stale_served,     // open(): complete but not revalidated (network unreachable)
    request_started,  // a GET started at `offset` (sequential or on demand)
    progress,         // bytes were stored (throttled to every progress_every_bytes)
    invalidated,      // the upstream file changed; the cached copy was dropped
    complete,         // every byte is cached
    error,            // the download failed for good (the resource fails with `error`)
};

struct event {
    event_kind kind = event_kind::progress;
    std::uint64_t offset = 0;               // request_started: first byte requested
    std::uint64_t downloaded = 0;           // bytes cached now
    std::optional<std::uint64_t> length;    // total, when known
    std::size_t ranges = 0;                 // disjoint cached ranges
    std::optional<kithara::error> failure;  // error only
};

struct options {
    // A read at most this far ahead of a running request waits for it instead of starting a new
    // Range request; the next gap fetched is the one at/after the last read position.
    std::uint64_t prefetch_bytes = 256 * 1024;
    unsigned max_requests = 4;  // concurrent requests per file (>= 1)
    // A demanded gap of known extent up to split_limit_bytes (a moov or tag at the end) is
    // fetched by up to the free request slots in parallel, parts of at least split_min_bytes
    // (0: never split).
    std::uint64_t split_min_bytes = 8 * 1024;
    std::uint64_t split_limit_bytes = 512 * 1024;
    bool offline = false;  // never touch the network; uncached bytes fail with offline_miss
    // Treat a cached copy younger than this as fresh regardless of HTTP freshness headers
    // (nullopt: Cache-Control max-age / Expires only; no such header = revalidate).
    std::optional<std::chrono::seconds> trust_cache;
    std::uint64_t flush_every_bytes = 4 * 1024 * 1024;  // durability flush interval (background)
    // Where durability flushes and metadata writes (fsync) run; nullptr: one thread shared by
    // every file of the process. Tasks are short; a full queue postpones them, never drops data.
    // Closing a source waits for its own tasks there: never destroy a source from one of them.
    // Not owned: a pool given here must outlive every source opened with it.
    worker::blocking_pool* background = nullptr;
    std::uint64_t progress_every_bytes = 256 * 1024;
    net::request_options request;                // timeouts, retries, TLS
    std::vector<net::header> headers;            // extra request headers
    std::function<void(const event&)> on_event;  // see Threads above; must not block
    stream::media_hints hints;  // e.g. {.container = "mp3"}; empty: see infer_hints
    // With empty hints: name the container from the Content-Type (audio/mpeg, audio/mp4, ...),
    // else the URL's extension (.mp3, .m4a, .flac, .opus...), so the decoder skips probing and
    // long stream analysis (a wrongly labelled file then fails to open: turn this off).
    bool infer_hints = true;
};

struct source_stats {
    std::uint64_t cached_at_open = 0;   // bytes already cached when opened
    std::uint64_t bytes_fetched = 0;    // body bytes received and stored
    std::uint64_t requests = 0;         // GETs started
    std::uint64_t demand_requests = 0;  // of which started by a read into a gap
};

namespace detail {
class controller;
}

class KITHARA_FILE_EXPORT file_source final : public stream::source {
public:
    explicit file_source(std::shared_ptr<detail::controller> c);
    // Cancels the download and flushes what was stored; when it returns the asset lease is
    // released. Waits for the client's executor (which must still be running) unless called on
    // it.
    ~file_source() override;

    [[nodiscard]] std::optional<std::uint64_t> length() const override;
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override;
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override;
    void will_need(stream::byte_range r) override;  // starts fetching r's first gap
    [[nodiscard]] stream::media_hints hints() const override;

    [[nodiscard]] source_stats stats() const;
    [[nodiscard]] std::uint64_t cached_bytes() const;  // available now
    [[nodiscard]] bool complete() const;

private:
    std::shared_ptr<detail::controller> c_;
};

// Opens `url` (absolute http/https) backed by `store`; see the header comment. Errors: invalid_url,
// offline_miss (offline and nothing cached), the first response's net error (404, retries
// exhausted...), assets/storage errors opening the cache.
[[nodiscard]] KITHARA_FILE_EXPORT result<std::shared_ptr<file_source>> open(
    std::string_view url, assets::asset_store& store, net::client& client, options opts = {});

}  // namespace kithara::file
