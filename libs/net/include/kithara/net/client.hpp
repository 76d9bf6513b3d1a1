// kithara::net::client: HTTP(S) transfers on libcurl's multi interface, driven by an Asio
// executor the caller hands in. Bodies stream straight into a caller-supplied net::sink.
//
//   asio::io_context io;  /* run by one thread */  kithara::net::client c{io.get_executor()};
//   auto h = c.start({.url = "https://cdn/x.mp3"}, std::make_shared<my_sink>());
//   h.cancel();  // any thread; my_sink::on_complete then gets errc::cancelled
//
// Threads: start(), request_handle::cancel() and the destructor may be called from any thread;
// they post to the executor. Every libcurl call, every timer and EVERY sink/observer callback
// runs on the executor, which must not run handlers concurrently (an io_context run by one
// thread, or a strand). The executor must keep running until requests complete (destroying the
// client cancels them: sinks get errc::shut_down); destroy the client before its io_context.
// Locks: none; state is confined to the executor.
// Buffers: on_data() spans point into libcurl's receive buffer (64 KiB per transfer, owned by
// libcurl) and are valid only during the call; the sink copies at most once (e.g. write_at).
//
// Behaviour: keep-alive connection reuse through one multi handle (HTTP/2 when offered over
// TLS), bounded redirects, TLS verification on; connect / first-byte / stall timeouts; retries
// with capped exponential backoff and jitter on transient failures (reset, refused, timeouts,
// 5xx, 408, 429 honouring Retry-After), never on other 4xx. A retried GET resumes at the next
// undelivered byte with Range + If-Range (strong ETag, else Last-Modified); a 200 instead of 206
// either skips the already-delivered prefix (same entity proven, Range ignored) or restarts the
// sink (sink::on_restart) — different content is never spliced.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/net/error.hpp>
#include <kithara/net/export.hpp>

#include <asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

namespace kithara::net {

namespace detail {
class client_impl;
class transfer;
}  // namespace detail

enum class method { get, head };

struct header {
    std::string name;
    std::string value;
};

// Bytes [offset, offset + length) of the resource; no length = to the end.
struct byte_range {
    std::uint64_t offset = 0;
    std::optional<std::uint64_t> length;
};

struct timeouts {
    std::chrono::milliseconds connect{10'000};
    // From the start of an attempt (including connect and waiting for a free connection) to the
    // first byte of the response head. Fires as timeout_connect if not connected by then.
    std::chrono::milliseconds first_byte{20'000};
    // No bytes at all for this long once the response has started.
    std::chrono::milliseconds stall{15'000};
};

struct retry_policy {
    int max_retries = 5;  // attempts = 1 + max_retries
    std::chrono::milliseconds initial_backoff{250};
    std::chrono::milliseconds max_backoff{10'000};  // cap of the exponential backoff
    // A Retry-After longer than this is not waited for: the request fails with the status.
    std::chrono::milliseconds max_retry_after{60'000};
};

struct request_options {
    timeouts timeout;
    retry_policy retry;
    int max_redirects = 5;            // 0 = do not follow redirects
    std::uint64_t max_body_size = 0;  // bytes delivered to the sink; 0 = unlimited
    bool verify_tls = true;
    std::string ca_file;           // extra trusted CA bundle (PEM); empty = the system store
    bool reuse_connection = true;  // false: a fresh connection, closed afterwards
};

struct request {
    std::string url;
    method verb = method::get;
    std::vector<header> headers;      // extra request headers
    std::optional<byte_range> range;  // a Range GET
    // Resume a range only if the resource still matches this ETag / Last-Modified value (If-Range);
    // otherwise the server sends the whole new entity (head.body_offset == 0, status 200).
    std::string if_range;
    request_options options;
    std::stop_token stop;  // requesting stop cancels like request_handle::cancel()
};

// The final response head (after redirects) as the sink sees it.
struct response_head {
    int status = 0;
    std::uint64_t body_offset = 0;             // resource offset of the first byte to come
    std::optional<std::uint64_t> length;       // bytes the sink will receive, when known
    std::optional<std::uint64_t> entity_size;  // size of the whole resource, when known
    std::string etag;
    std::string last_modified;
    std::string content_type;
    std::string url;              // effective URL after redirects, redacted
    bool range_ignored = false;   // asked for a range, got 200 (the prefix is skipped for you)
    std::vector<header> headers;  // all response headers, in order
};

struct transfer_stats {
    int status = 0;
    std::uint64_t bytes_delivered = 0;  // body bytes handed to the sink (all attempts)
    std::uint64_t bytes_on_wire = 0;    // head + body bytes received (all attempts)
    int attempts = 0;
    int redirects = 0;                                // of the last attempt
    int restarts = 0;                                 // times the sink was told to restart
    bool connection_reused = false;                   // last attempt ran on a kept-alive connection
    int http_version = 0;                             // last attempt: 10, 11, 20 (HTTP/2) or 30
    std::chrono::microseconds time_to_first_byte{0};  // last attempt
    std::chrono::microseconds wire_duration{0};       // last attempt, start to last byte
    double throughput = 0;  // bytes/s on the wire over the last attempt's wire_duration
};

// One measurement per attempt that received body bytes, for bandwidth estimation (ABR).
struct transfer_sample {
    std::string url;  // redacted
    std::uint64_t bytes = 0;
    std::chrono::microseconds time_to_first_byte{0};
    std::chrono::microseconds wire_duration{0};
    double throughput = 0;  // bytes / wire_duration
    bool connection_reused = false;
};
using sample_observer = std::function<void(const transfer_sample&)>;

// Receives one request's response. All calls on the client's executor, in this order:
// on_response once, then on_data with increasing resource offsets (contiguous, starting at
// head.body_offset), possibly on_restart(head) — everything delivered so far is void, data
// restarts at head.body_offset — and finally on_complete exactly once (also after a failure
// or cancellation, possibly without on_response). A failed result from on_response / on_data /
// on_restart aborts the transfer (no retry) and reaches on_complete as that error.
class sink {
public:
    virtual ~sink() = default;
    virtual result<> on_response(const response_head& head) = 0;
    virtual result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) = 0;
    virtual result<> on_restart(const response_head& head) = 0;
    virtual void on_complete(result<transfer_stats> outcome) = 0;
};

// Refers to one started request; copyable; empty when default-constructed.
class KITHARA_NET_EXPORT request_handle {
public:
    request_handle() = default;
    // Any thread, idempotent; no effect once the request completed. The sink gets
    // on_complete(errc::cancelled) on the executor shortly after (no more on_data).
    void cancel() const;
    [[nodiscard]] bool valid() const noexcept { return !transfer_.expired(); }

private:
    friend class client;
    explicit request_handle(std::weak_ptr<detail::transfer> t) : transfer_(std::move(t)) {}
    std::weak_ptr<detail::transfer> transfer_;
};

struct client_options {
    std::string user_agent = "kithara/0.1";
    long max_host_connections = 16;    // per host; more requests queue
    long max_cached_connections = 32;  // idle keep-alive connections kept
    sample_observer observer;          // called on the executor; may be empty
};

class KITHARA_NET_EXPORT client {
public:
    explicit client(asio::any_io_executor executor, client_options options = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Starts a request; the sink is kept alive until its on_complete returned.
    request_handle start(request req, std::shared_ptr<sink> s);

    [[nodiscard]] const asio::any_io_executor& executor() const noexcept;

private:
    std::shared_ptr<detail::client_impl> impl_;
};

// --- blocking convenience (tests, simple callers) -------------------------------------------

struct fetched {
    response_head head;
    std::vector<std::byte> body;  // bytes at head.body_offset...
    transfer_stats stats;
};

// Collects a response in memory (bounded by the request's max_body_size, if any).
class KITHARA_NET_EXPORT memory_sink : public sink {
public:
    result<> on_response(const response_head& head) override;
    result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) override;
    result<> on_restart(const response_head& head) override;
    void on_complete(result<transfer_stats> outcome) override;

    // Blocks until on_complete ran. Never call on the client's executor thread.
    result<fetched> wait();

private:
    struct state;
    std::shared_ptr<state> state_ = make_state();
    static std::shared_ptr<state> make_state();
};

// start() + memory_sink::wait(). Never call on the client's executor thread.
KITHARA_NET_EXPORT result<fetched> fetch(client& c, request req);

}  // namespace kithara::net
