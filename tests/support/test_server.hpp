// kithara::test::http_server: a loopback HTTP/1.1 server with fault injection, for tests,
// benchmarks and demos.
//
//   kithara::test::http_server srv;                       // 127.0.0.1, ephemeral port, own thread
//   srv.put("/a.bin", bytes);  srv.add_fault("/a.bin", {.drop_after = 1000});
//   auto url = srv.url("/a.bin");  ...  EXPECT_EQ(srv.log_for("/a.bin").size(), 2u);
//
// Serves in-memory content (put) and, optionally, a directory; HEAD, one Range (206/416),
// strong ETag + Last-Modified, If-Range, keep-alive, chunked responses. Faults apply per path to
// a window of request numbers (1-based, counted per path). Bandwidth throttling per connection,
// changeable while running (timers, never sleeps), and a shared link: one byte budget for all
// connections (a client's access link), split fairly among the responses sending, whose rate
// follows a schedule (time-scaled, seeded noise, a live factor):
//   srv.set_link({.schedule = {{0, 250'000}, {30, 31'250}, {60, 250'000}}, .time_scale = 10});
// Routes hand every request below a path prefix to a handler that answers now or later (the live
// HLS generator, test_server_live.hpp, holds blocking playlist reloads on timers this way):
//   srv.route("/live/", [](const route_request& r, const asio::any_io_executor& ex,
//                          route_reply reply) { reply({.status = 404}); });
// Threads: every public member may be called from any thread; the server runs its own io
// thread. One mutex guards content, faults, rate, routes and the log; the link has its own leaf
// mutex for its configuration; neither is held across I/O. Route handlers run on the io thread
// with no lock held.
// Buffers: bodies are shared immutable strings; a connection keeps its version alive while sending.
#pragma once

#include <asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kithara::test {

struct fault {
    int status = 0;           // answer this status (tiny body) instead of the content
    std::string retry_after;  // Retry-After header value ("1" or an HTTP-date)
    std::optional<std::uint64_t> drop_after;        // close the connection after N body bytes
    std::chrono::milliseconds first_byte_delay{0};  // wait before sending the head
    std::optional<std::uint64_t> stall_after;       // pause after N body bytes ...
    std::chrono::milliseconds stall_for{0};         // ... for this long
    std::int64_t length_lie = 0;  // advertise Content-Length + this (and close after sending)
    bool ignore_range = false;    // answer 200 with the whole body
    bool chunked = false;         // Transfer-Encoding: chunked
    std::optional<std::string> replace_after;  // once this response started, content becomes this
    std::uint64_t rate = 0;         // bytes/s for this response (overrides the server's rate)
    std::string redirect_to;        // answer 302 with this Location
    bool no_etag = false;           // omit the ETag header
    bool no_last_modified = false;  // omit the Last-Modified header
    // Once this response sent N body bytes, the shared link's rate is divided by
    // link_drop_factor (for every connection, until set_link or scale_link changes it).
    std::optional<std::uint64_t> link_drop_after;
    double link_drop_factor = 1.0;
};

// From `at` seconds of link time on, the link carries `bytes_per_second`.
struct link_step {
    double at = 0;
    std::uint64_t bytes_per_second = 0;
};

// The shared link. Rates in bytes/s; an empty schedule = no link (unlimited). Response heads are
// not charged to the link, bodies are; per-connection pacing (set_rate, fault::rate) applies as
// well, before the link.
struct link_options {
    std::vector<link_step> schedule;  // steps by time; before the first step its rate applies
    double time_scale = 1.0;    // link seconds per real second (10: a 30 s step comes after 3 s)
    double noise = 0;           // each noise period draws a factor in [1 - noise, 1 + noise] ...
    double noise_period = 1.0;  // ... (link seconds), from seed and the period's index alone
    std::uint64_t seed = 1;
    std::chrono::milliseconds tick{5};  // refill period; the link's granularity in time
};

struct log_entry {
    std::string method;
    std::string path;
    std::string range;     // the Range header, "" if none
    std::string if_range;  // the If-Range header, "" if none
    int status = 0;
    std::uint64_t bytes_sent = 0;  // body bytes written (counted as each write is issued)
    std::chrono::steady_clock::time_point start{};  // request head received
    std::chrono::steady_clock::time_point end{};    // body done or connection closed ({} = open)
    bool complete = false;                          // the whole body was written
    std::uint64_t connection_id = 0;
    int request_number = 0;                                    // per path, 1-based
    std::vector<std::pair<std::string, std::string>> headers;  // request headers, names lower-case
    // The scheme and authority of an absolute-form target ("http://host:port"): the request came
    // through the server as an HTTP proxy (RFC 9112 3.2.2); "" for the usual origin form.
    // A CONNECT (the server as an HTTPS proxy: a tunnel to a loopback origin) is logged with
    // method "CONNECT", path the authority ("127.0.0.1:8443"), status 200 (or 502 when the
    // origin is not loopback or refuses), bytes_sent the origin's bytes, and `complete` once the
    // tunnel closed; faults do not apply to it.
    std::string proxied_origin;
};

// A request as a route handler sees it.
struct route_request {
    std::string method;
    std::string path;                                          // without the query
    std::string query;                                         // after '?', "" if none
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
    std::chrono::steady_clock::time_point received{};
    [[nodiscard]] std::string header(std::string_view lower_case_name) const;
};

// A route handler's answer. Status 200 with a body is served like put() content (HEAD, Range,
// If-Range, faults' pacing and drops); other statuses send their body as is (null body: a short
// "status N" text; 304 and 204: none, no Content-Length).
struct route_response {
    int status = 200;
    std::shared_ptr<const std::string> body;
    std::string etag;                  // ETag header when not empty (with any status)
    std::string last_modified;         // Last-Modified header when not empty
    std::string content_type;          // "" = application/octet-stream
    std::vector<std::string> headers;  // extra "Name: value" lines
};

// Called once per answer, from any thread; the answer is sent on the server's io thread.
using route_reply = std::function<void(route_response)>;
// Runs on the server's io thread, no lock held; may keep `reply` and call it later (timers on
// `executor`). A fault's status or redirect for the path wins over the route (the handler is
// not asked); other fault fields (delays, drops, rate) apply to the handler's answer.
using route_handler =
    std::function<void(const route_request&, const asio::any_io_executor& executor, route_reply)>;

class http_server {
public:
    http_server();
    // Also serves files below root (in-memory content wins for the same path).
    explicit http_server(std::filesystem::path root);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    [[nodiscard]] std::uint16_t port() const;
    [[nodiscard]] std::string url(std::string_view path) const;

    // Sets (or replaces: new ETag and Last-Modified) the content at path.
    void put(std::string path, std::string body);
    // Applies f to requests number first..first+count-1 for path (count 0 = all from first).
    void add_fault(std::string path, fault f, int first = 1, int count = 1);
    // Applies f to every `every`-th request the server receives, whatever its path (the
    // every-th, 2·every-th, ...; counted server-wide). A path's own add_fault rule wins.
    void add_fault_every(int every, fault f);
    // Per-connection bandwidth in bytes/s for all responses (0 = unlimited); takes effect on
    // the next slice of responses already being sent.
    void set_rate(std::uint64_t bytes_per_second);
    // The shared link (see link_options); its schedule clock starts now. Takes effect at the next
    // tick, also for responses being sent.
    void set_link(link_options options);
    // A constant shared link of bytes_per_second (0 = none).
    void set_link_rate(std::uint64_t bytes_per_second);
    // Multiplies the link's rate by factor from now on (0.125 = an 8x drop).
    void scale_link(double factor);
    // The link's rate at a link time, noise and factor included (0 = no link).
    [[nodiscard]] std::uint64_t link_rate_at(double link_seconds) const;

    // Hands requests whose path starts with prefix to handler (the longest matching prefix wins;
    // routes win over put() content and files). A new handler for the same prefix replaces it.
    void route(std::string prefix, route_handler handler);
    void unroute(std::string_view prefix);
    // The server's io executor (timers for route handlers).
    [[nodiscard]] asio::any_io_executor executor() const;

    [[nodiscard]] std::vector<log_entry> log() const;
    [[nodiscard]] std::vector<log_entry> log_for(std::string_view path) const;
    // Blocks until pred(log()) holds or timeout passes; returns the last pred result. The log
    // changes when a request arrives and when a response ends (end, complete).
    bool wait_log(const std::function<bool(const std::vector<log_entry>&)>& pred,
                  std::chrono::milliseconds timeout);
    [[nodiscard]] std::uint64_t connections_accepted() const;
    // The most responses that were being sent at the same time since construction or clear_log().
    [[nodiscard]] std::uint64_t peak_concurrent_responses() const;
    void clear_log();

    struct impl;

private:
    std::shared_ptr<impl> impl_;
};

// Deterministic pseudo-random content for tests.
std::string make_body(std::size_t size, std::uint32_t seed = 1);

}  // namespace kithara::test
