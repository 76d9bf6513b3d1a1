// part_fetcher: LL-HLS. Fills the cache resource of the segment the server is building from its
// parts (EXT-X-PART) as they are published: one request at a time, in order, each written after
// the bytes of the parts before it (a segment is the concatenation of its parts), started on the
// executor as soon as the live reloads' blocking reload announces the part, so the decoder reads
// a part's bytes a round trip after it came out. When the segment is listed whole and every part
// is in, the resource is committed at its length (the decoder sees its end). Where parts cannot
// be had (a part failed three times, a GAP part, the server no longer lists them), the rest of
// the segment comes from the segment's own URI with a Range request from the first byte missing.
//
//   auto f = std::make_shared<part_fetcher>(client, headers, request_options, hooks);
//   f->follow(msn, resource, "media sequence 42");  // decoding thread
//   f->on_playlist(playlist);                       // the reloader's hook, on the executor
//   f->close();                                     // shutdown: no request runs after it
//
// Threads: follow() and close() from the decoding (or closing) thread, on_playlist() from any
// thread, sink callbacks and hooks on the client's executor. Locks: mutex_ guards the job, the
// newest playlist and the request state; it is never held across a request start, a resource
// commit or a hook. Buffers: response bytes go straight into the resource; one playlist held.
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/hls/playlist.hpp>
#include <kithara/net/client.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls::detail {

class part_fetcher : public std::enable_shared_from_this<part_fetcher> {
public:
    struct hooks {
        std::function<void(std::uint64_t)> on_bytes;  // executor: body bytes received
        std::function<void()> on_request;             // a request starts
        // Executor: a request completed (its wire bytes and time: the throughput measure).
        std::function<void(const net::transfer_stats&)> on_transfer;
        // Executor: segment `msn` is whole in its resource (committed; failure empty), or cannot
        // be had (lost: the server no longer has it).
        std::function<void(std::uint64_t msn, std::optional<error> failure, bool lost)> on_done;
    };

    part_fetcher(net::client& client, std::vector<net::header> headers,
                 net::request_options options, hooks h);
    ~part_fetcher();
    part_fetcher(const part_fetcher&) = delete;
    part_fetcher& operator=(const part_fetcher&) = delete;

    // The name of the cache resource holding segment `msn` of the media playlist `playlist_url`
    // as read from its parts (its own URI is not known before the segment is complete).
    static std::string resource_name(const std::string& playlist_url, std::uint64_t msn);

    // From now on segment `msn` is filled into `res` (replacing any segment followed before,
    // whose request is cancelled). `label` names it in errors.
    void follow(std::uint64_t msn, std::shared_ptr<assets::streaming_handle> res,
                std::string label);
    // A newer playlist (the first one, then each reload's).
    void on_playlist(std::shared_ptr<const media_playlist> m);
    // Cancels a running request and waits until its sink completed; nothing starts afterwards.
    void close();
    [[nodiscard]] std::uint64_t parts_fetched() const;

private:
    class sink;
    struct job {
        std::uint64_t msn = 0;
        std::shared_ptr<assets::streaming_handle> res;
        std::string label;
        std::uint64_t offset = 0;   // bytes of the segment in the resource (the parts so far)
        std::size_t next_part = 0;  // the part to fetch next
        bool parts_failed = false;  // the rest comes from the segment's URI
        int attempts = 0;           // failed requests of the current part
        int rest_attempts = 0;      // failed requests for the rest of the segment
        int rest_status = 0;        // the last one's HTTP status (0: not an HTTP error)
        bool rest_done = false;     // the rest is in: commit
        std::uint64_t generation = 0;
    };
    // What step() decided, carried out with no lock held.
    struct action {
        enum class kind { none, fetch, commit, fail } what = kind::none;
        net::request req;
        std::uint64_t write_base = 0;  // resource offset of the response's first byte
        std::uint64_t msn = 0;
        std::shared_ptr<assets::streaming_handle> res;
        bool is_part = false;
        std::optional<error> failure;
        bool lost = false;
        std::uint64_t generation = 0;
    };
    action plan();       // mutex_ held
    void end_pending();  // a request, commit or failure is over (close() may return)
    void step();         // plans and carries out until there is nothing to do now
    void finished(std::uint64_t request, bool is_part, std::uint64_t received,
                  result<net::transfer_stats> outcome);

    net::client& client_;
    std::vector<net::header> headers_;
    net::request_options options_;
    hooks hooks_;

    mutable std::mutex mutex_;
    std::condition_variable idle_;
    std::optional<job> job_;
    std::uint64_t generation_ = 0;
    std::shared_ptr<const media_playlist> latest_;
    bool busy_ = false;  // a request runs
    bool closed_ = false;
    int pending_ = 0;  // requests whose sinks have not completed, commits and failures under way
    std::uint64_t request_ = 0;  // the id of the running request (each request has its own)
    std::uint64_t request_generation_ = 0;  // the job it serves
    net::request_handle running_;
    std::uint64_t parts_fetched_ = 0;
};

}  // namespace kithara::hls::detail
