// live_reloader: keeps a live media playlist fresh. Reloads run on the client's executor (a timer
// and an asynchronous request, no thread of its own) on reload_schedule's timing (RFC 8216 6.3.4:
// the target duration after a change, half of it after an unchanged reload, measured from the
// start of the previous request; backoff on errors; blocking reloads where the server offers
// CAN-BLOCK-RELOAD, with the fallback to polling), with conditional requests (If-None-Match /
// If-Modified-Since: a 304 is an unchanged reload). Each changed playlist is published; the
// decoding thread takes the newest (take) and folds it into the engine's table.
//
//   auto r = std::make_shared<live_reloader>(client, url, options, emit);
//   r->start(first, started, finished, etag, last_modified);
//   while (auto p = r->take(seen, /*wait=*/true)) { seen = p->seq; fold(*p->playlist); }
//   r->close();
//
// Threads: start(), take() and close() from any thread but the executor's; everything else runs
// on the executor. Locks: mutex_ guards the publication, the flags and the count of pending
// handlers; it is never held across a request start, a wait of the caller or an event. Buffers:
// one response body at a time (bounded by the parser's input limit) and the newest parsed
// playlist.
#pragma once

#include "live.hpp"

#include <kithara/hls/hls_stream.hpp>
#include <kithara/hls/playlist.hpp>
#include <kithara/net/client.hpp>

#include <asio/steady_timer.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace kithara::hls::detail {

class live_reloader : public std::enable_shared_from_this<live_reloader> {
public:
    struct publication {
        std::shared_ptr<const media_playlist> playlist;
        std::uint64_t seq = 0;  // increases with every publication
    };

    live_reloader(net::client& client, std::string url, const stream_options& options,
                  std::function<void(event)> emit);
    ~live_reloader();
    live_reloader(const live_reloader&) = delete;
    live_reloader& operator=(const live_reloader&) = delete;

    // Called on the executor with each playlist as it is published (LL-HLS: the part fetcher
    // starts a new part's request from here, not when the decoding thread next looks). Set it
    // before start(); keep it quick.
    void set_on_publish(std::function<void(std::shared_ptr<const media_playlist>)> f) {
        on_publish_ = std::move(f);
    }
    // Starts the reloads after `first` (publication 0, not published again), which a request
    // that ran from `started` to `finished` brought with these validators.
    void start(const media_playlist& first, steady_time started, steady_time finished,
               std::string etag, std::string last_modified);
    // The newest publication after `seq`, if any. With `wait`: blocks until there is one, or
    // the playlist ended (ENDLIST published), or close(). nullopt then.
    std::optional<publication> take(std::uint64_t seq, bool wait);
    // No reload will publish anything new (ENDLIST published, or closed).
    [[nodiscard]] bool finished() const;
    // Cancels the timer and a running request and waits until no handler runs. Idempotent.
    void close();
    // Any thread: a take() waiting now or later returns at once (reloads go on). Terminal.
    void interrupt();

private:
    class body_sink;
    void arm();   // executor: the timer for the next reload
    void fire();  // executor: starts a reload
    void done(result<net::transfer_stats> outcome, const net::response_head& head, std::string body,
              steady_time started);  // executor
    void handler_done();
    // The schedule's clock: media time (live_options::time_scale) from the reloader's start.
    [[nodiscard]] steady_time to_media(steady_time wall) const;
    [[nodiscard]] steady_time to_wall(steady_time media) const;

    net::client& client_;
    std::string url_;
    std::vector<net::header> headers_;
    net::request_options request_;
    std::function<void(event)> emit_;
    std::function<void(std::shared_ptr<const media_playlist>)> on_publish_;
    asio::steady_timer timer_;  // executor only
    net::request_handle running_;

    double scale_ = 1.0;
    steady_time origin_{};  // set by start(), before any handler runs

    // Executor only (after start()).
    reload_schedule schedule_;
    std::shared_ptr<const media_playlist> last_;  // the playlist in effect
    std::string etag_;
    std::string last_modified_;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    publication latest_;
    bool ended_ = false;
    bool closed_ = false;
    bool interrupted_ = false;
    int pending_ = 0;  // timer waits and requests whose handlers have not run yet
};

}  // namespace kithara::hls::detail
