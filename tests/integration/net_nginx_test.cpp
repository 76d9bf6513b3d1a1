// kithara::net against a real nginx (started by the nginx.start CTest fixture,
// tests/support/nginx.sh).
#include <kithara/net/client.hpp>

#include "io_thread.hpp"
#include "scoped_env.hpp"
#include "test_server.hpp"
#include "timing_sink.hpp"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

namespace kithara::net {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
const std::string nginx_dir = KITHARA_NGINX_DIR;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string as_string(const std::vector<std::byte>& v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
}

// Access-log lines ("<connection> <n> <status> "<request>" <bytes> "<range>"") containing tag.
std::vector<std::string> access_log(const std::string& tag) {
    std::ifstream in(nginx_dir + "/logs/access.log");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (line.find(tag) != std::string::npos) out.push_back(line);
    return out;
}

// nginx logs a request after answering it: wait (bounded) until at least n lines carry tag,
// woken by inotify each time nginx writes the log (the watch is set before the first read, so
// no write is missed).
std::vector<std::string> access_log_at_least(const std::string& tag, std::size_t n) {
    const auto deadline = clock::now() + 5s;
    const int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    EXPECT_GE(fd, 0) << "inotify_init1";
    if (fd >= 0) {
        EXPECT_GE(::inotify_add_watch(fd, (nginx_dir + "/logs/access.log").c_str(), IN_MODIFY), 0)
            << "no access log in " << nginx_dir;
    }
    auto lines = access_log(tag);
    while (fd >= 0 && lines.size() < n && clock::now() < deadline) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count()) + 1) > 0) {
            alignas(inotify_event) char events[4096];
            while (::read(fd, events, sizeof events) > 0) {
            }
        }
        lines = access_log(tag);
    }
    if (fd >= 0) ::close(fd);
    return lines;
}

class nginx : public ::testing::Test {
protected:
    void SetUp() override {
        std::ifstream in(nginx_dir + "/port");
        ASSERT_TRUE(in >> port_) << "nginx fixture not running (no " << nginx_dir << "/port)";
    }
    request get(std::string_view path) {
        request r;
        r.url = "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
        r.options.retry.initial_backoff = 10ms;
        r.options.timeout.first_byte = 5s;
        r.options.timeout.stall = 5s;
        return r;
    }
    std::string file(std::string_view name) {
        return read_file(nginx_dir + "/root/" + std::string(name));
    }

    int port_ = 0;
    test::io_thread io_;
    client client_{io_.executor()};
};

TEST_F(nginx, tls_verification_rejects_untrusted_certificate) {
    std::ifstream in(nginx_dir + "/tls_port");
    int tls_port = 0;
    ASSERT_TRUE(in >> tls_port);
    request req;
    req.url = "https://127.0.0.1:" + std::to_string(tls_port) + "/small.bin?t=tls_reject";
    auto r = fetch(client_, req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::tls);
}

TEST_F(nginx, tls_with_trusted_ca_negotiates_http2) {
    std::ifstream in(nginx_dir + "/tls_port");
    int tls_port = 0;
    ASSERT_TRUE(in >> tls_port);
    std::vector<std::shared_ptr<memory_sink>> sinks;
    for (int i = 0; i < 4; ++i) {  // concurrent: multiplexed as HTTP/2 streams
        request req;
        req.url = "https://127.0.0.1:" + std::to_string(tls_port) + "/small.bin?t=h2";
        req.options.ca_file = nginx_dir + "/tls/cert.pem";
        sinks.push_back(std::make_shared<memory_sink>());
        client_.start(req, sinks.back());
    }
    for (auto& s : sinks) {
        auto r = s->wait();
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r->stats.http_version, 20);
        EXPECT_EQ(as_string(r->body), file("small.bin"));
    }
    auto lines = access_log_at_least("t=h2", 4);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_NE(lines[0].find("HTTP/2.0"), std::string::npos);
}

// https_proxy from the environment, as a user of libcurl expects: the request to the TLS origin
// goes through the proxy as a CONNECT tunnel (the test server relays it), TLS and its ALPN
// (HTTP/2) are negotiated with nginx end to end, and the certificate is still verified.
TEST_F(nginx, https_proxy_from_the_environment_tunnels_to_the_tls_origin) {
    std::ifstream in(nginx_dir + "/tls_port");
    int tls_port = 0;
    ASSERT_TRUE(in >> tls_port);
    const auto authority = "127.0.0.1:" + std::to_string(tls_port);
    test::http_server proxy;
    const test::scoped_env via("https_proxy", proxy.url(""));
    const test::scoped_env none("no_proxy", "");
    const test::scoped_env none_upper("NO_PROXY", "");
    client fresh{io_.executor()};  // no connection to the origin to reuse
    request req;
    req.url = "https://" + authority + "/small.bin?t=tunnel";
    req.options.ca_file = nginx_dir + "/tls/cert.pem";
    auto r = fetch(fresh, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->stats.http_version, 20);
    EXPECT_EQ(as_string(r->body), file("small.bin"));
    const auto tunnels = proxy.log_for(authority);
    ASSERT_EQ(tunnels.size(), 1u) << "the request did not go through the proxy";
    EXPECT_EQ(tunnels[0].method, "CONNECT");
    EXPECT_EQ(tunnels[0].status, 200);
    EXPECT_EQ(access_log_at_least("t=tunnel", 1).size(), 1u);

    // Through the tunnel the origin's certificate is verified as without it.
    request untrusted = req;
    untrusted.url = "https://" + authority + "/small.bin?t=tunnel_reject";
    untrusted.options.ca_file.clear();
    auto rejected = fetch(fresh, untrusted);
    ASSERT_FALSE(rejected);
    EXPECT_EQ(rejected.error(), errc::tls);
}

TEST_F(nginx, get_delivers_whole_file) {
    auto r = fetch(client_, get("/data_1m.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->head.status, 200);
    EXPECT_FALSE(r->head.etag.empty());
    EXPECT_EQ(as_string(r->body), file("data_1m.bin"));
}

TEST_F(nginx, range_get_delivers_requested_bytes) {
    auto req = get("/data_1m.bin");
    req.range = byte_range{123'456, 10'000};
    auto r = fetch(client_, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->head.status, 206);
    EXPECT_EQ(r->head.body_offset, 123'456u);
    EXPECT_EQ(r->head.entity_size, 1'048'576u);
    EXPECT_EQ(as_string(r->body), file("data_1m.bin").substr(123'456, 10'000));
}

TEST_F(nginx, head_reports_length) {
    auto req = get("/small.bin");
    req.verb = method::head;
    auto r = fetch(client_, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->head.length, 65'536u);
    EXPECT_TRUE(r->body.empty());
}

TEST_F(nginx, not_found_fails_without_retry) {
    auto r = fetch(client_, get("/nope.bin?t=notfound"));
    ASSERT_FALSE(r);
    EXPECT_EQ(http_status_of(r.error()), 404);
    EXPECT_EQ(access_log_at_least("t=notfound", 1).size(), 1u);
}

TEST_F(nginx, sequential_requests_reuse_one_connection) {
    for (int i = 0; i < 3; ++i) {
        auto r = fetch(client_, get("/small.bin?t=reuse"));
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r->stats.connection_reused, i > 0);
    }
    auto lines = access_log_at_least("t=reuse", 3);
    ASSERT_EQ(lines.size(), 3u);
    auto conn = [](const std::string& l) { return l.substr(0, l.find(' ')); };
    EXPECT_EQ(conn(lines[0]), conn(lines[1]));
    EXPECT_EQ(conn(lines[1]), conn(lines[2]));
}

// A download interrupted by its sink, then resumed with Range + If-Range: identical bytes.
TEST_F(nginx, resume_with_validator_gives_identical_body) {
    struct stopping_sink : memory_sink {
        result<> on_response(const response_head& h) override {
            etag = h.etag;
            return memory_sink::on_response(h);
        }
        result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) override {
            if (offset >= 300'000) return fail(errc::cancelled, "enough");
            auto take = std::min<std::uint64_t>(bytes.size(), 300'000 - offset);
            got.append(reinterpret_cast<const char*>(bytes.data()), static_cast<std::size_t>(take));
            return {};
        }
        // Written on the executor before on_complete; read after wait() (which synchronises).
        std::string etag, got;
    };
    auto first = std::make_shared<stopping_sink>();
    client_.start(get("/data_1m.bin"), first);
    ASSERT_FALSE(first->wait());
    ASSERT_EQ(first->got.size(), 300'000u);

    auto resume = get("/data_1m.bin");
    resume.range = byte_range{300'000, std::nullopt};
    resume.if_range = first->etag;
    auto rest = fetch(client_, resume);
    ASSERT_TRUE(rest) << rest.error().message();
    EXPECT_EQ(rest->head.status, 206);
    EXPECT_EQ(rest->head.body_offset, 300'000u);
    EXPECT_EQ(first->got + as_string(rest->body), file("data_1m.bin"));
}

TEST_F(nginx, stale_validator_gets_whole_new_entity) {
    auto req = get("/small.bin");
    req.range = byte_range{1000, std::nullopt};
    req.if_range = "\"not-the-etag\"";
    auto r = fetch(client_, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->head.status, 200);
    EXPECT_EQ(r->head.body_offset, 0u);  // restart from 0, never splice
    EXPECT_EQ(as_string(r->body), file("small.bin"));
}

// nginx's limit_rate lets the first second's worth through at once and then paces on whole
// seconds, so 3 MiB at 1 MiB/s takes 1-2 s. The reported throughput must match the wall clock.
TEST_F(nginx, limit_rate_throughput_matches_wall_clock) {
    auto t0 = clock::now();
    auto r = fetch(client_, get("/slow/data_3m.bin"));
    auto wall = std::chrono::duration<double>(clock::now() - t0).count();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), file("data_3m.bin"));
    const double wall_rate = 3.0 * 1048576 / wall;
    EXPECT_NEAR(r->stats.throughput, wall_rate, 0.2 * wall_rate);
    EXPECT_GT(r->stats.throughput, 1.2 * 1048576);
    EXPECT_LT(r->stats.throughput, 3.3 * 1048576);
}

TEST_F(nginx, cancel_stops_throttled_transfer_within_100ms) {
    // Into the second paced second of 16: a client slowed down (TSan, a loaded machine) still
    // cancels long before the transfer could finish.
    auto s = std::make_shared<test::timing_sink>(1'100'000);
    auto started = s->reached();
    auto h = client_.start(get("/slow/data_16m.bin"), s);
    ASSERT_EQ(started.wait_for(5s), std::future_status::ready);
    auto t0 = clock::now();
    h.cancel();
    auto r = s->wait();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::cancelled);
    EXPECT_LT(s->completed_at() - t0, 100ms);
}

TEST_F(nginx, fifty_concurrent_downloads_all_correct) {
    const auto expected = file("small.bin");
    std::vector<std::shared_ptr<memory_sink>> sinks;
    for (int i = 0; i < 50; ++i) {
        sinks.push_back(std::make_shared<memory_sink>());
        auto req = get("/small.bin");
        req.range = byte_range{static_cast<std::uint64_t>(i) * 1000, 5000};
        client_.start(req, sinks.back());
    }
    for (std::size_t i = 0; i < sinks.size(); ++i) {
        auto r = sinks[i]->wait();
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(as_string(r->body), expected.substr(i * 1000, 5000));
    }
}

}  // namespace
}  // namespace kithara::net
