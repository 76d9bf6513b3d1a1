// Internal to the test server: the server's state (http_server::impl) shared by the public API
// (test_server.cpp), the connections (test_server_connection.cpp) and the CONNECT tunnels
// (test_server_tunnel.cpp), and the small helpers they use.
//
//   detail::start_connection(impl, std::move(socket), id);  // io thread: serves its requests
//
// Threads: impl's io_context runs on impl.thread; connections live on it. Locks: impl.mutex
// guards content, faults, routes, rate, counters and the log (never held across I/O); the link
// has its own leaf mutex. Buffers: bodies are shared immutable strings.
#pragma once

#include "test_server.hpp"
#include "test_server_link.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <condition_variable>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>

namespace kithara::test {

namespace detail {

struct content {
    std::shared_ptr<const std::string> body;
    std::string etag;
    std::string last_modified;
};

struct rule {
    std::string path;
    int first = 1;
    int count = 1;
    fault f;
};

// add_fault_every: a fault for every `every`-th request of the server.
struct periodic_rule {
    int every = 0;
    fault f;
};

std::string http_date(std::time_t t);
std::string lower(std::string_view s);
std::string_view trim(std::string_view s);
std::optional<std::uint64_t> to_u64(std::string_view s);
const char* reason(int status);
content make_content(std::string body, int version);

}  // namespace detail

struct http_server::impl {
    asio::io_context io;
    detail::shared_link link{io};  // after io: waiting responses hold connections
    asio::ip::tcp::acceptor acceptor{io};
    std::thread thread;
    std::filesystem::path root;
    std::uint16_t port = 0;

    mutable std::mutex mutex;  // guards everything below
    std::condition_variable log_changed;
    std::map<std::string, detail::content, std::less<>> contents;
    std::map<std::string, detail::content, std::less<>> file_cache;
    std::map<std::string, int, std::less<>> counters;
    std::vector<detail::rule> rules;
    std::vector<detail::periodic_rule> periodic_rules;
    std::uint64_t requests_total = 0;  // every request received (periodic rules count these)
    std::map<std::string, route_handler, std::less<>> routes;  // by path prefix
    std::uint64_t rate = 0;
    std::vector<log_entry> log;
    std::uint64_t log_generation = 0;  // bumped by clear_log: stale indices are ignored
    std::uint64_t connections = 0;
    std::uint64_t responding = 0;       // responses whose head went out and body is not done
    std::uint64_t peak_responding = 0;  // high-water mark of `responding` since clear_log
    int version = 0;

    void accept();
    std::optional<detail::content> find_content(const std::string& path);  // mutex held
    route_handler find_route(std::string_view path) const;                 // mutex held
};

namespace detail {

// io thread: a connection on s that serves requests until the peer or the server closes it.
void start_connection(http_server::impl& srv, asio::ip::tcp::socket s, std::uint64_t id);

// A CONNECT request, as the connection that received it hands it over.
struct tunnel_request {
    std::string authority;  // "host:port" of the request target
    std::string early;      // bytes the client sent after the request's head
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
    std::chrono::steady_clock::time_point received{};
    std::uint64_t connection_id = 0;
};

// io thread: relays between `client` and the loopback origin r.authority names
// (test_server_tunnel.cpp); answers 502 when it is not loopback or refuses the connection.
void start_tunnel(http_server::impl& srv, asio::ip::tcp::socket client, const tunnel_request& r);

}  // namespace detail

}  // namespace kithara::test
