// The HTTP helpers: net's internal ones (status line, Content-Range, Retry-After, backoff) and
// the shared <kithara/net/http.hpp> (header lookup, dates, validators, freshness, Content-Type).
#include "detail/http_util.hpp"

#include <kithara/net/http.hpp>

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
    EXPECT_TRUE(http::is_weak_etag("W/\"x\""));
    EXPECT_FALSE(http::is_weak_etag("\"x\""));
}

}  // namespace
}  // namespace kithara::net::detail

namespace kithara::net::http {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

time_point at(std::int64_t unix_seconds) {
    return time_point(seconds(unix_seconds));
}

std::vector<header> hs(std::initializer_list<std::pair<const char*, const char*>> l) {
    std::vector<header> out;
    for (auto [n, v] : l) out.push_back({n, v});
    return out;
}

// ---- header lookup ---------------------------------------------------------------------------

TEST(http_headers, names_compare_case_insensitively) {
    const auto h = hs({{"Content-Type", "audio/mpeg"}, {"ETAG", "\"a\""}});
    EXPECT_EQ(header_value(h, "content-type"), "audio/mpeg");
    EXPECT_EQ(header_value(h, "ETag"), "\"a\"");
    EXPECT_EQ(header_value(h, "etags"), "");
    EXPECT_EQ(header_value(h, "x-missing"), "");
}

TEST(http_headers, a_singleton_field_takes_its_last_line) {
    // In the order received, a list holding a redirect and its target answers for the target.
    const auto h = hs({{"ETag", "\"redirect\""},
                       {"Location", "/b.mp3"},
                       {"ETag", "\"final\""},
                       {"Content-Type", "audio/mpeg"}});
    EXPECT_EQ(header_value(h, "etag"), "\"final\"");
}

TEST(http_headers, a_list_field_joins_every_line_in_order) {
    const auto h = hs({{"Cache-Control", "max-age=60"},
                       {"Vary", "Accept"},
                       {"cache-control", " no-cache "},
                       {"Cache-Control", ""}});
    EXPECT_EQ(header_list(h, "cache-control"), "max-age=60, no-cache");
    EXPECT_EQ(header_list(h, "x-missing"), "");
}

TEST(http_headers, has_token_matches_whole_list_elements) {
    EXPECT_TRUE(has_token(hs({{"Accept-Ranges", "bytes"}}), "accept-ranges", "bytes"));
    EXPECT_TRUE(has_token(hs({{"Accept-Ranges", "none"}, {"Accept-Ranges", " BYTES"}}),
                          "accept-ranges", "bytes"));
    EXPECT_FALSE(has_token(hs({{"Accept-Ranges", "none"}}), "accept-ranges", "bytes"));
    EXPECT_FALSE(has_token(hs({{"Accept-Ranges", "bytesize"}}), "accept-ranges", "bytes"));
    EXPECT_FALSE(has_token({}, "accept-ranges", "bytes"));
}

// ---- dates -----------------------------------------------------------------------------------

TEST(http_date, parses_the_three_forms_alike) {
    const auto expect = at(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example)
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expect);
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expect);
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), expect);
    EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT\r\n"), expect);
}

TEST(http_date, two_digit_years_pivot_at_1970) {
    EXPECT_EQ(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT"), at(0));
    EXPECT_EQ(parse_http_date("Tuesday, 14-Nov-23 22:13:20 GMT"), at(1'700'000'000));
}

TEST(http_date, handles_leap_days_and_the_far_future) {
    EXPECT_EQ(parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT"), at(1'709'164'800));
    EXPECT_FALSE(parse_http_date("Thu, 29 Feb 2023 00:00:00 GMT"));
    EXPECT_EQ(parse_http_date("Fri, 31 Dec 2200 23:59:59 GMT"), at(7'289'654'399));
    // Past what system_clock's nanoseconds hold (2262): saturates, never overflows.
    EXPECT_EQ(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), time_point::max());
}

TEST(http_date, rejects_malformed_dates) {
    for (const char* bad :
         {"", "0", "-1", "soon", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 PST",
          "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 32 Nov 1994 08:49:37 GMT",
          "Sun, 31 Apr 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
          "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
          "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT junk",
          "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov  6 08:49:37 94",
          "Sun, 006 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 19945 08:49:37 GMT"}) {
        EXPECT_FALSE(parse_http_date(bad)) << bad;
    }
}

TEST(http_date, ignores_the_locale_and_formats_imf_fixdate) {
    EXPECT_EQ(format_http_date(at(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(format_http_date(at(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
    for (std::int64_t t : {0LL, 951782400LL, 1'700'000'000LL, 4'102'444'799LL}) {
        EXPECT_EQ(parse_http_date(format_http_date(at(t))), at(t)) << t;
    }
}

TEST(http_date, retry_after_accepts_every_form) {
    const auto now = system_clock::from_time_t(1'700'000'000);
    EXPECT_EQ(detail::parse_retry_after("Tuesday, 14-Nov-23 22:13:25 GMT", now),
              std::chrono::milliseconds(5000));
    EXPECT_EQ(detail::parse_retry_after("Tue Nov 14 22:13:30 2023", now),
              std::chrono::milliseconds(10000));
}

// ---- validators ------------------------------------------------------------------------------

TEST(http_validators, strong_and_weak_comparison_follow_rfc_9110) {
    // RFC 9110 8.8.3.2's table.
    EXPECT_FALSE(strong_etag_match("W/\"1\"", "W/\"1\""));
    EXPECT_TRUE(weak_etag_match("W/\"1\"", "W/\"1\""));
    EXPECT_FALSE(strong_etag_match("W/\"1\"", "W/\"2\""));
    EXPECT_FALSE(weak_etag_match("W/\"1\"", "W/\"2\""));
    EXPECT_FALSE(strong_etag_match("W/\"1\"", "\"1\""));
    EXPECT_TRUE(weak_etag_match("W/\"1\"", "\"1\""));
    EXPECT_TRUE(strong_etag_match("\"1\"", "\"1\""));
    EXPECT_TRUE(weak_etag_match("\"1\"", "\"1\""));
    EXPECT_FALSE(strong_etag_match("", ""));
    EXPECT_FALSE(weak_etag_match("", ""));
}

TEST(http_validators, if_range_uses_a_strong_etag_else_last_modified) {
    const char* lm = "Tue, 14 Nov 2023 22:13:20 GMT";
    EXPECT_EQ(if_range_validator("\"abc\"", lm), "\"abc\"");
    EXPECT_EQ(if_range_validator("W/\"abc\"", lm), lm);
    EXPECT_EQ(if_range_validator("W/\"abc\"", ""), "");
    EXPECT_EQ(if_range_validator("", lm), lm);
    EXPECT_EQ(if_range_validator("", ""), "");
}

// ---- freshness -------------------------------------------------------------------------------

TEST(http_freshness, parses_cache_control_directives) {
    auto cc = parse_cache_control("Public, MAX-AGE=600, must-revalidate");
    EXPECT_EQ(cc.max_age, seconds(600));
    EXPECT_TRUE(cc.must_revalidate);
    EXPECT_FALSE(cc.no_cache);
    EXPECT_FALSE(cc.no_store);
    cc = parse_cache_control("no-cache=\"Set-Cookie\", no-store");
    EXPECT_TRUE(cc.no_cache);
    EXPECT_TRUE(cc.no_store);
    EXPECT_FALSE(cc.max_age);
    EXPECT_EQ(parse_cache_control("max-age=\"30\"").max_age, seconds(30));
    EXPECT_EQ(parse_cache_control("max-age=abc").max_age, seconds(0));
    EXPECT_EQ(parse_cache_control("max-age=-5").max_age, seconds(0));
    EXPECT_EQ(parse_cache_control("max-age=60, max-age=10").max_age, seconds(10));
    EXPECT_FALSE(parse_cache_control("s-maxage=60, x-no-cache").max_age);
    EXPECT_FALSE(parse_cache_control("s-maxage=60, x-no-cache").no_cache);
}

TEST(http_freshness, max_age_counts_from_receipt_minus_the_age) {
    const auto now = at(1'700'000'000);
    EXPECT_EQ(fresh_until(hs({{"Cache-Control", "max-age=600"}}), now), at(1'700'000'600));
    EXPECT_EQ(fresh_until(hs({{"Cache-Control", "max-age=600"}, {"Age", "100"}}), now),
              at(1'700'000'500));
    // The Date shows the response waited 50 s somewhere: that is its age too.
    EXPECT_EQ(
        fresh_until(
            hs({{"Cache-Control", "max-age=600"}, {"Date", "Tue, 14 Nov 2023 22:12:30 GMT"}}), now),
        at(1'700'000'550));
    EXPECT_FALSE(fresh_until(hs({{"Cache-Control", "max-age=600"}, {"Age", "600"}}), now));
    EXPECT_FALSE(fresh_until(hs({{"Cache-Control", "max-age=0"}}), now));
    // max-age wins over Expires.
    EXPECT_EQ(fresh_until(hs({{"Cache-Control", "max-age=10"},
                              {"Expires", "Fri, 31 Dec 9999 23:59:59 GMT"}}),
                          now),
              at(1'700'000'010));
}

TEST(http_freshness, expires_counts_against_the_servers_date) {
    const auto now = at(1'700'000'000);
    // Lifetime = Expires - Date on the server's clock; the 10 s since Date are its age.
    EXPECT_EQ(fresh_until(hs({{"Date", "Tue, 14 Nov 2023 22:13:10 GMT"},
                              {"Expires", "Tue, 14 Nov 2023 22:14:10 GMT"}}),
                          now),
              at(1'700'000'050));
    // Without a Date, against the time of receipt.
    EXPECT_EQ(fresh_until(hs({{"Expires", "Tue, 14 Nov 2023 22:14:20 GMT"}}), now),
              at(1'700'000'060));
    EXPECT_FALSE(fresh_until(hs({{"Expires", "Tue, 14 Nov 2023 22:13:00 GMT"}}), now));
    EXPECT_FALSE(fresh_until(hs({{"Expires", "0"}}), now));  // invalid: already expired
}

TEST(http_freshness, no_cache_no_store_or_nothing_means_revalidate) {
    const auto now = at(1'700'000'000);
    EXPECT_FALSE(fresh_until({}, now));
    EXPECT_FALSE(fresh_until(hs({{"Cache-Control", "max-age=600, no-cache"}}), now));
    EXPECT_FALSE(fresh_until(
        hs({{"Cache-Control", "no-store"}, {"Expires", "Fri, 31 Dec 9999 23:59:59 GMT"}}), now));
    EXPECT_FALSE(fresh_until(hs({{"Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT"}}), now));
}

TEST(http_freshness, repeated_cache_control_lines_all_apply) {
    // file used to read only the first line (fresh for an hour); every line's directives apply.
    const auto now = at(1'700'000'000);
    EXPECT_FALSE(
        fresh_until(hs({{"Cache-Control", "max-age=3600"}, {"Cache-Control", "no-cache"}}), now));
    EXPECT_EQ(fresh_until(hs({{"Cache-Control", "public"}, {"Cache-Control", "max-age=60"}}), now),
              at(1'700'000'060));
}

// ---- content type ----------------------------------------------------------------------------

TEST(http_content_type, names_the_container_ignoring_case_and_parameters) {
    EXPECT_EQ(container_of("audio/mpeg"), container::mp3);
    EXPECT_EQ(container_of("Audio/MPEG; charset=binary"), container::mp3);
    EXPECT_EQ(container_of("audio/mp4; codecs=\"mp4a.40.2\""), container::mp4);
    EXPECT_EQ(container_of("audio/x-m4a"), container::mp4);
    EXPECT_EQ(container_of("audio/aac"), container::adts);
    EXPECT_EQ(container_of("audio/flac"), container::flac);
    EXPECT_EQ(container_of("audio/ogg ; codecs=opus"), container::ogg);
    EXPECT_EQ(container_of("audio/wav"), container::wav);
    EXPECT_EQ(container_of("video/MP2T"), container::mpegts);
    EXPECT_EQ(container_of("application/vnd.apple.mpegurl"), container::playlist);
    EXPECT_EQ(container_of("audio/mpegurl"), container::playlist);
    EXPECT_EQ(container_of("application/x-mpegURL"), container::playlist);
    EXPECT_EQ(container_of("application/octet-stream"), container::unknown);
    EXPECT_EQ(container_of(""), container::unknown);
    EXPECT_EQ(container_of("audio/mpegx"), container::unknown);
    EXPECT_EQ(container_of("audio/x-scpls; charset=utf-8"), container::pls);
}

TEST(http_content_type, names_the_container_of_a_url_by_its_extension) {
    EXPECT_EQ(container_of_url("https://h/a/song.mp3"), container::mp3);
    EXPECT_EQ(container_of_url("https://h/book.M4B?token=x.mp3#t"), container::mp4);
    EXPECT_EQ(container_of_url("http://h/a.aac"), container::adts);
    EXPECT_EQ(container_of_url("http://h/a.opus"), container::ogg);
    EXPECT_EQ(container_of_url("http://h/a.wav#frag.mp3"), container::wav);
    EXPECT_EQ(container_of_url("http://h/seg.ts"), container::mpegts);
    EXPECT_EQ(container_of_url("http://h/live/index.m3u8?session=1"), container::playlist);
    EXPECT_EQ(container_of_url("http://h/list.M3U"), container::playlist);
    EXPECT_EQ(container_of_url("http://h/a.b/noext"), container::unknown);
    EXPECT_EQ(container_of_url("http://h/a.txt"), container::unknown);
    EXPECT_EQ(container_of_url("http://h/radio/station.PLS?sid=1"), container::pls);
    EXPECT_EQ(extension_of_url("http://h/a/list.m3u?x=1.mp3#y.z"), "m3u");
    EXPECT_EQ(extension_of_url("http://h/a.b/noext"), "");
    EXPECT_EQ(extension_of_url("http://h/x."), "");
    EXPECT_EQ(container_of_url("http://h/"), container::unknown);
    EXPECT_EQ(container_of_url(""), container::unknown);
}

TEST(http_content_type, maps_containers_to_ffmpeg_demuxers) {
    EXPECT_EQ(ffmpeg_name(container::mp3), "mp3");
    EXPECT_EQ(ffmpeg_name(container::mp4), "mov");
    EXPECT_EQ(ffmpeg_name(container::adts), "aac");
    EXPECT_EQ(ffmpeg_name(container::flac), "flac");
    EXPECT_EQ(ffmpeg_name(container::ogg), "ogg");
    EXPECT_EQ(ffmpeg_name(container::wav), "wav");
    EXPECT_EQ(ffmpeg_name(container::mpegts), "mpegts");
    EXPECT_EQ(ffmpeg_name(container::playlist), "");
    EXPECT_EQ(ffmpeg_name(container::unknown), "");
}

}  // namespace
}  // namespace kithara::net::http
