// kithara::hls under faults, over the loopback test server serving tests/media/hls fixtures:
// stream statistics, connections dropped mid-segment, 503 bursts. PCM is checked against
// reference.json (sample count and SHA-256 of the local decode).
#include "hls_support.hpp"

#include <kithara/core/condition.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/hls/hls_stream.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

namespace kithara::hls {
namespace {

using namespace test_support;

const std::string ts_playlist = "/ts_aac/index.m3u8";

std::string seg_path(int i) {
    char b[64];
    std::snprintf(b, sizeof b, "/ts_aac/index_%03d.ts", i);
    return b;
}

void expect_reference_pcm(const pcm& got, const std::string& dir, const std::string& playlist) {
    ASSERT_FALSE(got.failure) << got.failure->message();
    const auto ref = reference(dir, playlist);
    EXPECT_EQ(got.frames(), ref["pcm_samples"].get<std::size_t>());
    EXPECT_EQ(sha256(got.samples), ref["pcm_sha256"].get<std::string>());
}

// Fast retries: the faults below are recovered by net's retry policy within milliseconds.
stream_options fast_retries() {
    stream_options o;
    o.request.retry.initial_backoff = std::chrono::milliseconds(1);
    o.request.retry.max_backoff = std::chrono::milliseconds(5);
    return o;
}

TEST(hls_stats, count_segments_bytes_and_requests_from_network_then_from_cache) {
    env e("stats");
    const auto url = e.srv->url(ts_playlist);
    stream_stats first;
    {
        auto s = open(url, *e.store, *e.client);
        ASSERT_TRUE(s) << s.error().message();
        expect_reference_pcm(drain(**s), "ts_aac", "index.m3u8");
        first = (*s)->stats();
    }
    std::uint64_t segment_bytes = 0;
    const auto ref = reference("ts_aac", "index.m3u8");
    for (const auto& seg : ref["segments"]) segment_bytes += seg["bytes"].get<std::uint64_t>();
    const auto playlist_bytes = read_file(fixtures / "ts_aac/index.m3u8").size();
    EXPECT_EQ(first.segments_from_network, 5u);
    EXPECT_EQ(first.segments_from_cache, 0u);
    EXPECT_EQ(first.bytes_from_network, segment_bytes + playlist_bytes);
    EXPECT_EQ(first.bytes_from_cache, 0u);
    EXPECT_EQ(first.requests, 6u);  // the playlist and five segments
    EXPECT_EQ(first.retries, 0u);
    EXPECT_EQ(first.buffered_seconds, 0.0);  // everything was played

    e.srv->clear_log();
    auto s = open(url, *e.store, *e.client);
    ASSERT_TRUE(s);
    auto c = (*s)->next();
    ASSERT_TRUE(c && *c);
    expect_reference_pcm(
        [&] {
            auto rest = drain(**s);
            rest.samples.insert(rest.samples.begin(), (*c)->samples.begin(), (*c)->samples.end());
            return rest;
        }(),
        "ts_aac", "index.m3u8");
    const auto again = (*s)->stats();
    EXPECT_EQ(again.segments_from_network, 0u);
    EXPECT_EQ(again.segments_from_cache, 5u);
    // The test server ignores If-None-Match: the playlist comes again (200), segments do not.
    EXPECT_EQ(again.bytes_from_cache, segment_bytes);
    EXPECT_EQ(again.bytes_from_network, playlist_bytes);
    EXPECT_EQ(again.requests, 1u);  // the playlist's revalidation
    EXPECT_EQ(e.srv->log().size(), 1u);
}

TEST(hls_stats, buffered_seconds_is_the_cached_media_ahead_of_the_last_chunk) {
    env e("buffered");
    const auto url = e.srv->url(ts_playlist);
    {
        auto s = open(url, *e.store, *e.client);
        ASSERT_TRUE(s);
        ASSERT_FALSE(drain(**s).failure);
    }
    auto s = open(url, *e.store, *e.client);
    ASSERT_TRUE(s);
    const double total = (*s)->info().duration;
    auto c = (*s)->next();
    ASSERT_TRUE(c && *c);
    const double end = std::chrono::duration<double>((*c)->start).count() +
                       static_cast<double>((*c)->frames()) / (*c)->sample_rate;
    // Everything is cached (the first segment was just read from the cache; the rest is marked
    // complete as the window reaches it): at least the first segment's rest is buffered, at most
    // the whole rest of the stream.
    const auto st = (*s)->stats();
    EXPECT_GT(st.buffered_seconds, 0.0);
    EXPECT_LE(st.buffered_seconds, total - end + 1e-9);
    ASSERT_TRUE((*s)->seek(total));
    EXPECT_EQ((*s)->stats().buffered_seconds, 0.0);
}

TEST(hls_faults, a_503_burst_is_retried_and_counted) {
    env e("503");
    for (int i : {0, 2, 4}) e.srv->add_fault(seg_path(i), {.status = 503}, 1, 3);
    auto s = open(e.srv->url(ts_playlist), *e.store, *e.client, fast_retries());
    ASSERT_TRUE(s);
    expect_reference_pcm(drain(**s), "ts_aac", "index.m3u8");
    EXPECT_EQ((*s)->stats().retries, 9u);
    EXPECT_EQ(e.srv->log_for(seg_path(2)).size(), 4u);
}

TEST(hls_faults, connections_dropped_mid_segment_cost_no_sample) {
    env e("drops");
    for (int i = 0; i < 5; ++i) e.srv->add_fault(seg_path(i), {.drop_after = 3000 + 4000u * i});
    auto s = open(e.srv->url(ts_playlist), *e.store, *e.client, fast_retries());
    ASSERT_TRUE(s);
    expect_reference_pcm(drain(**s), "ts_aac", "index.m3u8");
    for (int i = 0; i < 5; ++i) {
        const auto log = e.srv->log_for(seg_path(i));
        ASSERT_GE(log.size(), 2u) << seg_path(i);
        // The retry resumes where the drop cut it (If-Range: the same entity or nothing).
        EXPECT_EQ(log[1].range.rfind("bytes=", 0), 0u) << log[1].range;
        EXPECT_NE(log[1].range, "bytes=0-");
        EXPECT_FALSE(log[1].if_range.empty());
    }
    EXPECT_GE((*s)->stats().retries, 5u);
}

}  // namespace
}  // namespace kithara::hls
