#include "detail/http_policy.hpp"

#include <kithara/net/error.hpp>

#include <gtest/gtest.h>

namespace kithara::file::detail {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point received{seconds(1'700'000'000)};

net::response_head head_with(std::vector<net::header> headers, int status = 200) {
    net::response_head h;
    h.status = status;
    h.headers = std::move(headers);
    return h;
}

TEST(file_http_policy, freshness_is_stored_in_unix_seconds) {
    EXPECT_EQ(fresh_until_unix(head_with({{"Cache-Control", "max-age=3600"}}), received),
              1'700'003'600);
    EXPECT_EQ(fresh_until_unix(head_with({{"Expires", "Tue, 14 Nov 2023 22:14:20 GMT"}}), received),
              1'700'000'060);
    EXPECT_EQ(
        fresh_until_unix(head_with({{"Cache-Control", "max-age=3600"}, {"Age", "600"}}), received),
        1'700'003'000);
}

TEST(file_http_policy, revalidates_without_explicit_freshness) {
    EXPECT_EQ(fresh_until_unix(head_with({}), received), 0);
    EXPECT_EQ(fresh_until_unix(head_with({{"Cache-Control", "no-cache, max-age=3600"}}), received),
              0);
    EXPECT_EQ(fresh_until_unix(head_with({{"Cache-Control", "no-store"}}), received), 0);
    EXPECT_EQ(fresh_until_unix(head_with({{"Expires", "Tue, 14 Nov 2023 22:00:00 GMT"}}), received),
              0);
    EXPECT_EQ(fresh_until_unix(head_with({{"Expires", "-1"}}), received), 0);
}

TEST(file_http_policy, every_cache_control_line_counts) {
    // The unification fixed this: file read only the first Cache-Control line and kept the copy
    // fresh for an hour although a later line said no-cache.
    EXPECT_EQ(fresh_until_unix(
                  head_with({{"Cache-Control", "max-age=3600"}, {"cache-control", "no-cache"}}),
                  received),
              0);
}

TEST(file_http_policy, ranges_from_a_206_or_accept_ranges_bytes) {
    EXPECT_TRUE(serves_ranges(head_with({}, 206)));
    EXPECT_TRUE(serves_ranges(head_with({{"Accept-Ranges", "bytes"}})));
    EXPECT_TRUE(serves_ranges(head_with({{"accept-ranges", "Bytes"}})));
    EXPECT_FALSE(serves_ranges(head_with({{"Accept-Ranges", "none"}})));
    EXPECT_FALSE(serves_ranges(head_with({})));
}

TEST(file_http_policy, container_from_content_type_then_extension) {
    EXPECT_EQ(infer_container("audio/mpeg", "http://h/a.flac"), "mp3");  // the type wins
    EXPECT_EQ(infer_container("audio/MP4; codecs=mp4a.40.2", "http://h/a"), "mov");
    EXPECT_EQ(infer_container("audio/flac", ""), "flac");
    EXPECT_EQ(infer_container("audio/aac", ""), "aac");
    EXPECT_EQ(infer_container("video/mp2t", ""), "mpegts");
    EXPECT_EQ(infer_container("application/octet-stream", "http://h/dir/Song.M4B?x=1#t"), "mov");
    EXPECT_EQ(infer_container("", "http://h/a.opus"), "ogg");
    EXPECT_EQ(infer_container("", "http://h/a.wav#frag.mp3"), "wav");
    EXPECT_EQ(infer_container("", "http://h/a.b/noext"), "");
    EXPECT_EQ(infer_container("", "http://h/a.txt"), "");
    EXPECT_EQ(infer_container("", "http://h/"), "");
    // A playlist is not media: nothing to hint (hls handles playlists).
    EXPECT_EQ(infer_container("application/vnd.apple.mpegurl", "http://h/a.m3u8"), "");
}

TEST(file_http_policy, a_changed_validator_invalidates_the_cached_copy) {
    meta stored;
    stored.etag = "\"v1\"";
    stored.last_modified = "Tue, 14 Nov 2023 22:13:20 GMT";
    stored.length = 1000;
    net::response_head h;
    h.etag = "\"v1\"";
    h.last_modified = "Wed, 15 Nov 2023 00:00:00 GMT";  // ignored while an ETag decides
    h.entity_size = 1000;
    EXPECT_FALSE(validators_differ(stored, h));
    h.etag = "\"v2\"";
    EXPECT_TRUE(validators_differ(stored, h));
    h.etag = "";  // the server stopped sending one
    EXPECT_TRUE(validators_differ(stored, h));
    h.etag = "\"v1\"";
    h.entity_size = 1001;
    EXPECT_TRUE(validators_differ(stored, h));
    h.entity_size.reset();  // unknown size says nothing
    EXPECT_FALSE(validators_differ(stored, h));
}

TEST(file_http_policy, last_modified_decides_without_an_etag) {
    meta stored;
    stored.last_modified = "Tue, 14 Nov 2023 22:13:20 GMT";
    net::response_head h;
    h.last_modified = stored.last_modified;
    h.etag = "\"new\"";  // none was stored: not compared
    EXPECT_FALSE(validators_differ(stored, h));
    h.last_modified = "Wed, 15 Nov 2023 00:00:00 GMT";
    EXPECT_TRUE(validators_differ(stored, h));
    EXPECT_FALSE(validators_differ(meta{}, h));  // no validators stored: nothing to compare
}

TEST(file_http_policy, resumes_only_transient_failures) {
    EXPECT_TRUE(resumable(kithara::error(net::errc::connection_lost, "GET u")));
    EXPECT_TRUE(resumable(kithara::error(net::errc::stalled, "GET u")));
    EXPECT_TRUE(resumable(kithara::error(net::errc::retries_exhausted,
                                         "after 4 attempts, last: net: connection lost")));
    EXPECT_FALSE(resumable(kithara::error(net::errc::retries_exhausted,
                                          "after 4 attempts, last: net: HTTP error status (GET "
                                          "u: HTTP 503)")));
    EXPECT_FALSE(resumable(kithara::error(net::errc::http_status, "GET u: HTTP 404")));
    EXPECT_FALSE(resumable(kithara::error(net::errc::cancelled, "GET u")));
    EXPECT_FALSE(resumable(kithara::error(net::errc::tls, "GET u")));
}

TEST(file_http_policy, cancellation_is_recognised_not_called_success) {
    EXPECT_TRUE(is_cancellation(kithara::error(net::errc::cancelled, "GET u")));
    EXPECT_FALSE(is_cancellation(kithara::error(net::errc::shut_down, "GET u")));
    EXPECT_FALSE(is_cancellation(kithara::error(net::errc::connection_lost, "GET u")));
}

}  // namespace
}  // namespace kithara::file::detail
