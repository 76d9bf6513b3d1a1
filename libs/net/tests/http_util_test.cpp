#include "detail/http_util.hpp"

#include <gtest/gtest.h>

namespace kithara::net::detail {
namespace {

TEST(http_util, parses_content_range) {
    auto r = parse_content_range("bytes 100-199/1000");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->first, 100u);
    EXPECT_EQ(r->last, 199u);
    EXPECT_EQ(r->size, 1000u);
    EXPECT_FALSE(parse_content_range("bytes 100-99/1000"));
    EXPECT_FALSE(parse_content_range("bytes 0-999/1000x"));
    EXPECT_FALSE(parse_content_range("bytes 0-1000/1000"));
    EXPECT_FALSE(parse_content_range("bytes 0-9/*")->size);
}

TEST(http_util, parses_retry_after_seconds_and_http_date) {
    auto now = std::chrono::system_clock::from_time_t(1'700'000'000);  // Tue, 14 Nov 2023 22:13:20
    EXPECT_EQ(parse_retry_after("3", now), std::chrono::milliseconds(3000));
    EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:13:25 GMT", now),
              std::chrono::milliseconds(5000));
    EXPECT_EQ(parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now),
              std::chrono::milliseconds(0));
    EXPECT_FALSE(parse_retry_after("soon", now));
}

TEST(http_util, backoff_grows_with_jitter_and_cap) {
    std::minstd_rand rng(42);
    using ms = std::chrono::milliseconds;
    for (int i = 0; i < 50; ++i) {
        auto d1 = backoff_delay(1, ms(100), ms(1000), rng);
        auto d3 = backoff_delay(3, ms(100), ms(1000), rng);
        auto d9 = backoff_delay(9, ms(100), ms(1000), rng);
        EXPECT_GE(d1, ms(50));
        EXPECT_LE(d1, ms(100));
        EXPECT_GE(d3, ms(200));
        EXPECT_LE(d3, ms(400));
        EXPECT_GE(d9, ms(500));
        EXPECT_LE(d9, ms(1000));
    }
}

TEST(http_util, parses_status_line_and_weak_etag) {
    EXPECT_EQ(parse_status_line("HTTP/1.1 206 Partial Content\r\n"), 206);
    EXPECT_EQ(parse_status_line("HTTP/2 200\r\n"), 200);
    EXPECT_EQ(parse_status_line("garbage"), 0);
    EXPECT_TRUE(is_weak_etag("W/\"x\""));
    EXPECT_FALSE(is_weak_etag("\"x\""));
}

}  // namespace
}  // namespace kithara::net::detail
