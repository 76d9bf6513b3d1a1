// kithara::net::client against the loopback test server (real sockets, no mocks).
#include <kithara/net/client.hpp>

#include "io_thread.hpp"
#include "scoped_env.hpp"
#include "test_server.hpp"
#include "timing_sink.hpp"

#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/strand.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

namespace kithara::net {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

std::string as_string(const std::vector<std::byte>& v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
}

std::uint64_t fnv(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
}

request_options fast_options() {
    request_options o;
    o.retry.initial_backoff = 10ms;
    o.retry.max_backoff = 50ms;
    o.timeout.connect = 2s;
    o.timeout.first_byte = 3s;
    o.timeout.stall = 3s;
    return o;
}

class net_client : public ::testing::Test {
protected:
    request get(std::string_view path) {
        request r;
        r.url = server_.url(path);
        r.options = fast_options();
        return r;
    }

    test::http_server server_;
    test::io_thread io_;
    client client_{io_.executor()};
};

TEST_F(net_client, get_delivers_whole_body) {
    const auto body = test::make_body(300'000);
    server_.put("/a.bin", body);
    auto r = fetch(client_, get("/a.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->head.status, 200);
    EXPECT_EQ(r->head.length, body.size());
    EXPECT_EQ(as_string(r->body), body);
    EXPECT_EQ(r->stats.bytes_delivered, body.size());
    EXPECT_GE(r->stats.bytes_on_wire, body.size());
    EXPECT_EQ(r->stats.attempts, 1);
}

TEST_F(net_client, range_get_delivers_requested_bytes_at_their_offsets) {
    const auto body = test::make_body(10'000);
    server_.put("/r.bin", body);
    auto req = get("/r.bin");
    req.range = byte_range{1000, 500};
    auto r = fetch(client_, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->head.status, 206);
    EXPECT_EQ(r->head.body_offset, 1000u);
    EXPECT_EQ(r->head.entity_size, 10'000u);
    EXPECT_EQ(as_string(r->body), body.substr(1000, 500));
    EXPECT_EQ(server_.log_for("/r.bin").at(0).range, "bytes=1000-1499");
}

TEST_F(net_client, custom_headers_are_sent) {
    server_.put("/hdr", "x");
    auto req = get("/hdr");
    req.headers.push_back({"X-Kithara-Test", "42"});
    ASSERT_TRUE(fetch(client_, req));
    auto log = server_.log_for("/hdr");
    ASSERT_EQ(log.size(), 1u);
    bool found = false;
    for (const auto& [name, value] : log[0].headers)
        found |= name == "x-kithara-test" && value == "42";
    EXPECT_TRUE(found);
}

TEST_F(net_client, head_reports_length_and_validators_without_body) {
    server_.put("/h.bin", test::make_body(4321));
    auto req = get("/h.bin");
    req.verb = method::head;
    auto r = fetch(client_, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->head.status, 200);
    EXPECT_EQ(r->head.length, 4321u);
    EXPECT_FALSE(r->head.etag.empty());
    EXPECT_FALSE(r->head.last_modified.empty());
    EXPECT_TRUE(r->body.empty());
    EXPECT_EQ(server_.log_for("/h.bin").at(0).method, "HEAD");
    bool saw_accept_ranges = false;
    for (const auto& h : r->head.headers) saw_accept_ranges |= h.name == "Accept-Ranges";
    EXPECT_TRUE(saw_accept_ranges);
}

TEST_F(net_client, resume_after_mid_body_drop_gives_identical_body) {
    const auto body = test::make_body(200'000, 7);
    server_.put("/d.bin", body);
    server_.add_fault("/d.bin", {.drop_after = 70'000});
    auto r = fetch(client_, get("/d.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(fnv(as_string(r->body)), fnv(body));
    EXPECT_EQ(as_string(r->body), body);
    EXPECT_EQ(r->stats.attempts, 2);
    EXPECT_EQ(r->stats.restarts, 0);
    auto log = server_.log_for("/d.bin");
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0].bytes_sent, 70'000u);
    EXPECT_EQ(log[1].range, "bytes=70000-");
    EXPECT_EQ(log[1].if_range, r->head.etag);  // strong ETag validates the resume
    EXPECT_EQ(log[1].status, 206);
}

TEST_F(net_client, resume_falls_back_to_last_modified_without_etag) {
    const auto body = test::make_body(100'000, 11);
    server_.put("/lm.bin", body);
    server_.add_fault("/lm.bin", {.drop_after = 40'000, .no_etag = true});
    server_.add_fault("/lm.bin", {.no_etag = true}, 2);
    auto r = fetch(client_, get("/lm.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), body);
    auto log = server_.log_for("/lm.bin");
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[1].if_range, r->head.last_modified);
    EXPECT_EQ(log[1].status, 206);
}

TEST_F(net_client, resume_without_validators_restarts_from_zero) {
    const auto body = test::make_body(100'000, 12);
    server_.put("/nv.bin", body);
    server_.add_fault("/nv.bin", {.drop_after = 40'000, .no_etag = true, .no_last_modified = true});
    server_.add_fault("/nv.bin", {.no_etag = true, .no_last_modified = true}, 2);
    auto r = fetch(client_, get("/nv.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), body);
    EXPECT_EQ(r->stats.restarts, 1);
    auto log = server_.log_for("/nv.bin");
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[1].range, "");  // nothing proves the entity unchanged: no Range, no splice
}

TEST_F(net_client, retry_after_beyond_the_limit_fails_at_once) {
    server_.put("/ra.bin", "x");
    server_.add_fault("/ra.bin", {.status = 503, .retry_after = "120"});
    auto r = fetch(client_, get("/ra.bin"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::http_status);
    EXPECT_EQ(http_status_of(r.error()), 503);
    EXPECT_EQ(server_.log_for("/ra.bin").size(), 1u);
}

TEST_F(net_client, changed_content_between_attempts_restarts_instead_of_splicing) {
    const auto v1 = test::make_body(100'000, 1);
    const auto v2 = test::make_body(120'000, 2);
    server_.put("/c.bin", v1);
    server_.add_fault("/c.bin", {.drop_after = 30'000, .replace_after = v2});
    auto r = fetch(client_, get("/c.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), v2);
    EXPECT_EQ(r->stats.restarts, 1);
    auto log = server_.log_for("/c.bin");
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[1].range, "bytes=30000-");
    EXPECT_EQ(log[1].status, 200);  // If-Range did not match: whole new entity
}

TEST_F(net_client, changed_content_after_head_only_restarts_sink) {
    const auto v1 = test::make_body(10'000, 1);
    const auto v2 = test::make_body(12'000, 2);
    server_.put("/c0.bin", v1);
    server_.add_fault("/c0.bin", {.drop_after = 0, .replace_after = v2});
    auto r = fetch(client_, get("/c0.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), v2);
    EXPECT_EQ(r->head.length, v2.size());  // the sink saw the new head
    EXPECT_EQ(r->stats.restarts, 1);
}

TEST_F(net_client, not_found_fails_clearly_without_retry) {
    auto r = fetch(client_, get("/missing?token=s3cr3t"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::http_status);
    EXPECT_EQ(http_status_of(r.error()), 404);
    EXPECT_NE(r.error().context().find("/missing?token=***"), std::string::npos);
    EXPECT_EQ(r.error().context().find("s3cr3t"), std::string::npos);
    EXPECT_EQ(server_.log_for("/missing").size(), 1u);
}

TEST_F(net_client, service_unavailable_twice_then_success_after_two_retries) {
    const auto body = test::make_body(5000);
    server_.put("/u.bin", body);
    server_.add_fault("/u.bin", {.status = 503}, 1, 2);
    auto r = fetch(client_, get("/u.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), body);
    EXPECT_EQ(r->stats.attempts, 3);
    auto log = server_.log_for("/u.bin");
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0].status, 503);
    EXPECT_EQ(log[1].status, 503);
    EXPECT_EQ(log[2].status, 200);
}

TEST_F(net_client, persistent_server_errors_exhaust_retries) {
    server_.put("/e.bin", "x");
    server_.add_fault("/e.bin", {.status = 500}, 1, 0);
    auto req = get("/e.bin");
    req.options.retry.max_retries = 2;
    auto r = fetch(client_, req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::retries_exhausted);
    EXPECT_EQ(http_status_of(r.error()), 500);
    EXPECT_EQ(server_.log_for("/e.bin").size(), 3u);
}

TEST_F(net_client, too_many_requests_honours_retry_after) {
    server_.put("/t.bin", "hello");
    server_.add_fault("/t.bin", {.status = 429, .retry_after = "1"});
    auto t0 = clock::now();
    auto r = fetch(client_, get("/t.bin"));
    auto elapsed = clock::now() - t0;
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), "hello");
    EXPECT_GE(elapsed, 1s);
    EXPECT_LT(elapsed, 3s);
    EXPECT_EQ(server_.log_for("/t.bin").size(), 2u);
}

TEST_F(net_client, stall_fails_within_configured_bound) {
    server_.put("/s.bin", test::make_body(100'000));
    server_.add_fault("/s.bin", {.stall_after = 20'000, .stall_for = 5s});
    auto req = get("/s.bin");
    req.options.timeout.stall = 300ms;
    req.options.retry.max_retries = 0;
    auto t0 = clock::now();
    auto r = fetch(client_, req);
    auto elapsed = clock::now() - t0;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::stalled);
    EXPECT_GE(elapsed, 300ms);
    EXPECT_LT(elapsed, 1500ms);
}

TEST_F(net_client, slow_first_byte_fails_with_first_byte_timeout) {
    server_.put("/f.bin", "x");
    server_.add_fault("/f.bin", {.first_byte_delay = 3s});
    auto req = get("/f.bin");
    req.options.timeout.first_byte = 300ms;
    req.options.retry.max_retries = 0;
    auto t0 = clock::now();
    auto r = fetch(client_, req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::timeout_first_byte);
    EXPECT_LT(clock::now() - t0, 1500ms);
}

TEST_F(net_client, stalled_attempt_is_retried_and_resumed) {
    const auto body = test::make_body(100'000, 3);
    server_.put("/sr.bin", body);
    server_.add_fault("/sr.bin", {.stall_after = 50'000, .stall_for = 5s});
    auto req = get("/sr.bin");
    req.options.timeout.stall = 200ms;
    auto r = fetch(client_, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), body);
    EXPECT_EQ(server_.log_for("/sr.bin").at(1).range, "bytes=50000-");
}

TEST_F(net_client, throttled_transfer_reports_throughput_within_twenty_percent) {
    constexpr std::uint64_t rate = 1'000'000;
    server_.put("/th.bin", test::make_body(1'200'000));
    server_.set_rate(rate);
    std::mutex m;
    std::vector<throughput_sample> samples;
    client_options co;
    co.observer = [&](const throughput_sample& s) {
        std::lock_guard lock(m);
        samples.push_back(s);
    };
    client c{io_.executor(), co};
    auto r = fetch(c, get("/th.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_NEAR(r->stats.throughput, static_cast<double>(rate), 0.2 * rate);
    std::lock_guard lock(m);
    ASSERT_FALSE(samples.empty());
    const auto& last = samples.back();
    EXPECT_TRUE(last.final && last.complete);
    EXPECT_EQ(std::count_if(samples.begin(), samples.end(), [](auto& s) { return s.final; }), 1);
    EXPECT_NEAR(last.bytes_per_second, static_cast<double>(rate), 0.2 * rate);
    EXPECT_EQ(last.bytes, 1'200'000u);
}

TEST_F(net_client, two_hundred_concurrent_downloads_all_correct) {
    constexpr int n = 200;
    std::vector<std::string> bodies;
    for (int i = 0; i < n; ++i) {
        bodies.push_back(test::make_body(8'000 + static_cast<std::size_t>(i) * 37,
                                         static_cast<std::uint32_t>(i + 1)));
        server_.put("/p" + std::to_string(i), bodies.back());
    }
    std::vector<std::shared_ptr<memory_sink>> sinks;
    for (int i = 0; i < n; ++i) {
        sinks.push_back(std::make_shared<memory_sink>());
        auto req = get("/p" + std::to_string(i));
        req.options.timeout.first_byte = 20s;  // includes queueing for a connection
        client_.start(req, sinks.back());
    }
    for (int i = 0; i < n; ++i) {
        auto r = sinks[static_cast<std::size_t>(i)]->wait();
        ASSERT_TRUE(r) << i << ": " << r.error().message();
        EXPECT_EQ(as_string(r->body), bodies[static_cast<std::size_t>(i)]) << i;
    }
    EXPECT_LE(server_.connections_accepted(), 16u);  // keep-alive, bounded per host
}

// Records when on_complete ran and what it got.
using test::timing_sink;

TEST_F(net_client, cancel_stops_transfer_within_100ms) {
    server_.put("/slow.bin", test::make_body(2'000'000));
    server_.set_rate(200'000);
    auto s = std::make_shared<timing_sink>();
    auto started = s->reached();
    auto h = client_.start(get("/slow.bin"), s);
    ASSERT_EQ(started.wait_for(5s), std::future_status::ready);
    auto t0 = clock::now();
    h.cancel();
    auto r = s->wait();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::cancelled);
    EXPECT_LT(s->completed_at() - t0, 100ms);
    EXPECT_LT(server_.log_for("/slow.bin").at(0).bytes_sent, 2'000'000u);
}

TEST_F(net_client, stop_token_cancels_transfer) {
    server_.put("/slow2.bin", test::make_body(2'000'000));
    server_.set_rate(200'000);
    std::stop_source stop;
    auto s = std::make_shared<timing_sink>();
    auto started = s->reached();
    auto req = get("/slow2.bin");
    req.stop = stop.get_token();
    client_.start(req, s);
    ASSERT_EQ(started.wait_for(5s), std::future_status::ready);
    auto t0 = clock::now();
    stop.request_stop();
    auto r = s->wait();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::cancelled);
    EXPECT_LT(s->completed_at() - t0, 100ms);
}

TEST_F(net_client, range_ignoring_server_still_delivers_the_range) {
    const auto body = test::make_body(10'000);
    server_.put("/ir.bin", body);
    server_.add_fault("/ir.bin", {.ignore_range = true});
    auto req = get("/ir.bin");
    req.range = byte_range{2000, 300};
    auto r = fetch(client_, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->head.range_ignored);
    EXPECT_EQ(r->head.body_offset, 2000u);
    EXPECT_EQ(as_string(r->body), body.substr(2000, 300));
}

TEST_F(net_client, resume_on_range_ignoring_server_skips_delivered_prefix) {
    const auto body = test::make_body(150'000, 9);
    server_.put("/ri.bin", body);
    server_.add_fault("/ri.bin", {.drop_after = 60'000});
    server_.add_fault("/ri.bin", {.ignore_range = true}, 2);
    auto r = fetch(client_, get("/ri.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), body);
    EXPECT_EQ(r->stats.restarts, 0);
    EXPECT_EQ(server_.log_for("/ri.bin").at(1).status, 200);
}

TEST_F(net_client, redirects_are_followed_and_bounded) {
    server_.put("/target", "landed");
    server_.add_fault("/hop", {.redirect_to = "/target"}, 1, 0);
    auto r = fetch(client_, get("/hop"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), "landed");
    EXPECT_EQ(r->stats.redirects, 1);

    server_.add_fault("/loop", {.redirect_to = "/loop"}, 1, 0);
    auto req = get("/loop");
    req.options.max_redirects = 3;
    auto loop = fetch(client_, req);
    ASSERT_FALSE(loop);
    EXPECT_EQ(loop.error(), errc::too_many_redirects);
    EXPECT_EQ(server_.log_for("/loop").size(), 4u);
}

TEST_F(net_client, max_body_size_is_enforced) {
    server_.put("/big.bin", test::make_body(100'000));
    auto req = get("/big.bin");
    req.options.max_body_size = 50'000;
    auto r = fetch(client_, req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::body_too_large);

    server_.add_fault("/big.bin", {.chunked = true}, 2);  // length unknown up front
    auto chunked = fetch(client_, req);
    ASSERT_FALSE(chunked);
    EXPECT_EQ(chunked.error(), errc::body_too_large);
}

TEST_F(net_client, sequential_requests_reuse_one_connection) {
    server_.put("/k.bin", test::make_body(20'000));
    for (int i = 0; i < 3; ++i) {
        auto r = fetch(client_, get("/k.bin"));
        ASSERT_TRUE(r) << r.error().message();
        EXPECT_EQ(r->stats.connection_reused, i > 0);
    }
    auto log = server_.log_for("/k.bin");
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0].connection_id, log[1].connection_id);
    EXPECT_EQ(log[1].connection_id, log[2].connection_id);
}

TEST_F(net_client, chunked_response_is_delivered) {
    const auto body = test::make_body(90'000, 4);
    server_.put("/ch.bin", body);
    server_.add_fault("/ch.bin", {.chunked = true});
    auto r = fetch(client_, get("/ch.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), body);
}

TEST_F(net_client, overstated_content_length_is_recovered_without_extra_bytes) {
    const auto body = test::make_body(30'000, 5);
    server_.put("/lie.bin", body);
    server_.add_fault("/lie.bin", {.length_lie = 1000});
    auto r = fetch(client_, get("/lie.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), body);
    auto log = server_.log_for("/lie.bin");
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[1].status, 416);
}

TEST_F(net_client, refused_connection_is_retried_then_reported) {
    std::uint16_t port;
    {
        asio::io_context io;
        asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
        port = a.local_endpoint().port();
    }
    request req;
    req.url = "http://user:pw@127.0.0.1:" + std::to_string(port) + "/x";
    req.options = fast_options();
    req.options.retry.max_retries = 1;
    auto r = fetch(client_, req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::retries_exhausted);
    EXPECT_NE(r.error().context().find("could not connect"), std::string::npos);
    EXPECT_EQ(r.error().context().find("pw@"), std::string::npos);
}

TEST_F(net_client, sink_error_aborts_transfer) {
    struct failing_sink : memory_sink {
        result<> on_data(std::uint64_t, std::span<const std::byte>) override {
            return fail(std::errc::no_space_on_device, "disk full");
        }
    };
    server_.put("/sink.bin", test::make_body(50'000));
    auto s = std::make_shared<failing_sink>();
    client_.start(get("/sink.bin"), s);
    auto r = s->wait();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_space_on_device);
    EXPECT_EQ(server_.log_for("/sink.bin").size(), 1u);
}

// The executor may be a strand over a multi-threaded io_context (TSan checks the confinement).
TEST(net_client_strand, works_on_a_strand_of_a_two_thread_context) {
    test::http_server server;
    std::vector<std::string> bodies;
    for (int i = 0; i < 20; ++i) {
        bodies.push_back(test::make_body(30'000, static_cast<std::uint32_t>(i + 100)));
        server.put("/s" + std::to_string(i), bodies.back());
    }
    server.add_fault("/s3", {.drop_after = 10'000});
    server.add_fault("/s5", {.status = 503});
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) threads.emplace_back([&] { io.run(); });
    {
        client c{asio::make_strand(io)};
        std::vector<std::shared_ptr<memory_sink>> sinks;
        for (int i = 0; i < 20; ++i) {
            request req;
            req.url = server.url("/s" + std::to_string(i));
            req.options = fast_options();
            sinks.push_back(std::make_shared<memory_sink>());
            c.start(req, sinks.back());
        }
        for (std::size_t i = 0; i < sinks.size(); ++i) {
            auto r = sinks[i]->wait();
            if (!r) {
                ADD_FAILURE() << i << ": " << r.error().message();  // no ASSERT: join below
                continue;
            }
            EXPECT_EQ(as_string(r->body), bodies[i]);
        }
    }
    guard.reset();
    for (auto& t : threads) t.join();
}

// asio orders posts per thread only: on a one-thread io_context (the io_runtime's), a start
// posted from the io thread waits in that thread's private queue until the handler ends, so a
// cancel posted meanwhile from another thread runs first. The request must end cancelled and
// never be sent (it used to be sent anyway, and its response reached a finished transfer).
TEST(net_client_order, a_cancel_that_overtakes_its_start_ends_the_request_unsent) {
    test::http_server server;
    server.put("/late.bin", test::make_body(10'000));
    server.put("/after.bin", test::make_body(10'000, 7));
    asio::io_context io(1);  // concurrency hint 1, as io_runtime: the private queue is used
    auto guard = asio::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    {
        client c{io.get_executor()};
        auto late = std::make_shared<memory_sink>();
        std::promise<void> posted;
        asio::post(io, [&] {
            request req;
            req.url = server.url("/late.bin");
            req.options = fast_options();
            request_handle h = c.start(req, late);    // queued privately until this handler ends
            std::thread([h] { h.cancel(); }).join();  // reaches the shared queue first
            posted.set_value();
        });
        posted.get_future().wait();
        auto r = late->wait();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), errc::cancelled);

        // The overtaken start ran before this one; the client still works.
        auto after = std::make_shared<memory_sink>();
        request req;
        req.url = server.url("/after.bin");
        req.options = fast_options();
        c.start(req, after);
        auto a = after->wait();
        ASSERT_TRUE(a) << a.error().message();
        EXPECT_EQ(as_string(a->body), test::make_body(10'000, 7));
        EXPECT_TRUE(server.log_for("/late.bin").empty());
    }
    guard.reset();
    runner.join();
}

TEST(net_client_lifetime, destroying_client_completes_pending_requests) {
    test::http_server server;
    server.put("/x", test::make_body(1'000'000));
    server.set_rate(100'000);
    test::io_thread io;
    auto s = std::make_shared<memory_sink>();
    {
        client c{io.executor()};
        request req;
        req.url = server.url("/x");
        c.start(req, s);
    }
    auto r = s->wait();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::shut_down);
}

// The proxy environment a user of libcurl expects to work (http_proxy, no_proxy), in both curl
// modes: the test server accepts absolute-form targets, so it serves as the proxy. (https_proxy,
// a CONNECT tunnel to a TLS origin: net_nginx_test.)
using test::scoped_env;

TEST(net_client_proxy, http_proxy_from_the_environment_carries_the_request) {
    test::http_server proxy;
    const auto body = test::make_body(50'000);
    proxy.put("/through-proxy.bin", body);
    // The environment is set before the client's io thread exists and restored after it ends.
    const scoped_env via("http_proxy", proxy.url(""));
    const scoped_env none("no_proxy", "");
    const scoped_env none_upper("NO_PROXY", "");
    test::io_thread io;
    client c{io.executor()};
    request req;
    req.url = "http://kithara-proxy-test.invalid/through-proxy.bin";  // unresolvable: only the
    req.options = fast_options();                                     // proxy can answer it
    auto r = fetch(c, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), body);
    const auto log = proxy.log_for("/through-proxy.bin");
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].proxied_origin, "http://kithara-proxy-test.invalid");
}

TEST(net_client_proxy, no_proxy_from_the_environment_bypasses_the_proxy) {
    test::http_server server;
    const auto body = test::make_body(20'000);
    server.put("/direct.bin", body);
    const scoped_env dead("http_proxy", "http://127.0.0.1:1");  // nothing listens there
    const scoped_env bypass("no_proxy", "127.0.0.1,localhost");
    test::io_thread io;
    client c{io.executor()};
    request req;
    req.url = server.url("/direct.bin");
    req.options = fast_options();
    auto r = fetch(c, req);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(as_string(r->body), body);
    const auto log = server.log_for("/direct.bin");
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].proxied_origin, "");
}

}  // namespace
}  // namespace kithara::net
