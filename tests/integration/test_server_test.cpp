// The loopback test server's own behaviour, checked with a raw blocking Asio client.
#include "test_server.hpp"
#include "raw_http_client.hpp"

#include <gtest/gtest.h>

#include <vector>

#include <fstream>
#include <thread>

namespace kithara::test {
namespace {

using namespace std::chrono_literals;

TEST(test_server, serves_single_range_with_206) {
    http_server srv;
    const auto body = make_body(1000);
    srv.put("/a", body);
    raw_client c(srv.port());
    auto r = c.get("/a", "Range: bytes=100-199\r\n");
    EXPECT_EQ(r.status, 206);
    EXPECT_EQ(r.headers["content-range"], "bytes 100-199/1000");
    EXPECT_EQ(r.body, body.substr(100, 100));
    auto log = srv.log_for("/a");
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].range, "bytes=100-199");
    EXPECT_EQ(log[0].bytes_sent, 100u);
}

TEST(test_server, a_periodic_fault_hits_every_nth_request_of_any_path) {
    http_server srv;
    srv.put("/a", make_body(100));
    srv.put("/b", make_body(100));
    srv.add_fault_every(3, {.status = 503});
    std::vector<int> statuses;
    for (int i = 0; i < 6; ++i) {
        raw_client c(srv.port());
        statuses.push_back(c.get(i % 2 ? "/b" : "/a").status);
    }
    EXPECT_EQ(statuses, (std::vector<int>{200, 200, 503, 200, 200, 503}));
}

TEST(test_server, range_beyond_end_is_416) {
    http_server srv;
    srv.put("/a", make_body(1000));
    raw_client c(srv.port());
    auto r = c.get("/a", "Range: bytes=1000-\r\n");
    EXPECT_EQ(r.status, 416);
    EXPECT_EQ(r.headers["content-range"], "bytes */1000");
}

TEST(test_server, if_range_mismatch_serves_whole_entity) {
    http_server srv;
    const auto body = make_body(500);
    srv.put("/a", body);
    raw_client c(srv.port());
    auto head = c.get("/a", {}, "HEAD");
    EXPECT_EQ(head.headers["content-length"], "500");
    auto match = c.get("/a", "Range: bytes=10-\r\nIf-Range: " + head.headers["etag"] + "\r\n");
    EXPECT_EQ(match.status, 206);
    auto by_date =
        c.get("/a", "Range: bytes=10-\r\nIf-Range: " + head.headers["last-modified"] + "\r\n");
    EXPECT_EQ(by_date.status, 206);
    auto stale = c.get("/a", "Range: bytes=10-\r\nIf-Range: \"old\"\r\n");
    EXPECT_EQ(stale.status, 200);
    EXPECT_EQ(stale.body, body);
}

TEST(test_server, keep_alive_serves_sequential_requests_on_one_connection) {
    http_server srv;
    srv.put("/a", "hello");
    raw_client c(srv.port());
    EXPECT_EQ(c.get("/a").body, "hello");
    EXPECT_EQ(c.get("/a").body, "hello");
    auto log = srv.log();
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[0].connection_id, log[1].connection_id);
    EXPECT_EQ(log[1].request_number, 2);
    EXPECT_EQ(srv.connections_accepted(), 1u);
}

TEST(test_server, chunked_response_is_framed) {
    http_server srv;
    const auto body = make_body(150'000);
    srv.put("/a", body);
    srv.add_fault("/a", {.chunked = true});
    raw_client c(srv.port());
    auto r = c.get("/a");
    EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
    EXPECT_EQ(r.body, body);
}

TEST(test_server, faults_apply_to_their_request_numbers) {
    http_server srv;
    srv.put("/a", "ok");
    srv.add_fault("/a", {.status = 429, .retry_after = "2"}, 2, 1);
    raw_client c(srv.port());
    EXPECT_EQ(c.get("/a").status, 200);
    auto limited = c.get("/a");
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.headers["retry-after"], "2");
    EXPECT_EQ(c.get("/a").status, 200);
}

TEST(test_server, drop_after_closes_the_connection_after_n_bytes) {
    http_server srv;
    srv.put("/a", make_body(10'000));
    srv.add_fault("/a", {.drop_after = 1234});
    raw_client c(srv.port());
    auto r = c.get("/a");
    EXPECT_TRUE(r.closed);
    EXPECT_EQ(r.body.size(), 1234u);
    EXPECT_EQ(srv.log_for("/a").at(0).bytes_sent, 1234u);
}

TEST(test_server, content_length_lie_and_ignored_range) {
    http_server srv;
    srv.put("/a", make_body(100));
    srv.add_fault("/a", {.length_lie = 50, .ignore_range = true});
    raw_client c(srv.port());
    auto r = c.get("/a", "Range: bytes=10-\r\n");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-length"], "150");
    EXPECT_EQ(r.body.size(), 100u);
    EXPECT_TRUE(r.closed);
}

TEST(test_server, replace_after_changes_content_for_later_requests) {
    http_server srv;
    srv.put("/a", "one");
    srv.add_fault("/a", {.replace_after = "two"});
    raw_client c(srv.port());
    auto first = c.get("/a");
    auto second = c.get("/a");
    EXPECT_EQ(first.body, "one");
    EXPECT_EQ(second.body, "two");
    EXPECT_NE(first.headers["etag"], second.headers["etag"]);
    EXPECT_NE(first.headers["last-modified"], second.headers["last-modified"]);
}

TEST(test_server, delays_first_byte) {
    http_server srv;
    srv.put("/a", "x");
    srv.add_fault("/a", {.first_byte_delay = 200ms});
    raw_client c(srv.port());
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(c.get("/a").body, "x");
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
}

TEST(test_server, throttle_is_adjustable_while_running) {
    http_server srv;
    srv.put("/a", make_body(400'000));
    srv.set_rate(100'000);  // alone this would take 4 s
    std::thread speedup([&] {
        // The test's script: 300 ms of slow phase, then speed up (the elapsed time is what is
        // checked); a timeline, not a wait for a condition, and nothing polls.
        std::this_thread::sleep_for(300ms);
        srv.set_rate(4'000'000);
    });
    raw_client c(srv.port());
    auto t0 = std::chrono::steady_clock::now();
    auto r = c.get("/a");
    auto elapsed = std::chrono::steady_clock::now() - t0;
    speedup.join();
    EXPECT_EQ(r.body.size(), 400'000u);
    EXPECT_GE(elapsed, 300ms);
    EXPECT_LT(elapsed, 1500ms);
}

TEST(test_server, serves_files_from_directory) {
    auto dir =
        std::filesystem::temp_directory_path() / ("kithara_srv_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "sub");
    std::ofstream(dir / "sub" / "f.txt") << "file body";
    {
        http_server srv(dir);
        raw_client c(srv.port());
        EXPECT_EQ(c.get("/sub/f.txt").body, "file body");
        EXPECT_EQ(c.get("/sub/none.txt").status, 404);
        EXPECT_EQ(c.get("/../etc/passwd").status, 404);
    }
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kithara::test
