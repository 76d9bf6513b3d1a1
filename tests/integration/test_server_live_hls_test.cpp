// The live HLS generator's playlists (test_server_live.hpp) as kithara::hls::parse_playlist reads
// them: no warnings, media and discontinuity sequence per segment across a loop wrap, PDT, the
// map, LL-HLS parts, server control and the preload hint, ENDLIST. What the live player will see.
#include "raw_http_client.hpp"
#include "test_server.hpp"
#include "test_server_live.hpp"

#include <kithara/hls/parser.hpp>

#include <gtest/gtest.h>

namespace kithara::test {
namespace {

using namespace std::chrono_literals;

const std::filesystem::path fixtures{KITHARA_HLS_FIXTURES_DIR};

hls::media_playlist parse_served(http_server& srv, const std::string& path) {
    raw_client c(srv.port());
    const auto r = c.get(path);
    EXPECT_EQ(r.status, 200);
    auto parsed = hls::parse_playlist(r.body, srv.url(path));
    EXPECT_TRUE(parsed) << r.body;
    if (!parsed) return {};
    EXPECT_TRUE(parsed->warnings.empty()) << parsed->warnings.front().message << "\n" << r.body;
    EXPECT_FALSE(parsed->is_master());
    return parsed->media();
}

TEST(test_server_live_hls, looped_fmp4_stream_parses_with_sequences_pdt_and_map) {
    std::string error;
    auto source = live_source::from_vod_playlist(fixtures / "fmp4_multi/a128.m3u8", error);
    ASSERT_TRUE(source) << error;
    http_server srv;
    live_stream_options o;
    o.path = "/live/a.m3u8";
    o.source = *source;
    o.window = 5;
    o.time_scale = 0.001;  // moved by jump() only
    o.media_sequence = 1000;
    o.discontinuity_sequence = 3;
    auto live = live_stream::create(srv, o, error);
    ASSERT_TRUE(live) << error;
    live->jump(8);  // 13 complete: 8..12, the wrap before 10

    const auto m = parse_served(srv, "/live/a.m3u8");
    EXPECT_FALSE(m.endlist);
    EXPECT_FALSE(m.type.has_value());
    EXPECT_EQ(m.target_duration.value_or(0), 2u);
    EXPECT_EQ(m.media_sequence, 1008u);
    ASSERT_EQ(m.segments.size(), 5u);
    for (std::size_t i = 0; i < m.segments.size(); ++i) {
        const auto& s = m.segments[i];
        EXPECT_EQ(s.media_sequence, 1008u + i);
        EXPECT_EQ(s.discontinuity_sequence, i < 2 ? 3u : 4u);
        EXPECT_EQ(s.discontinuity, i == 2);
        EXPECT_EQ(s.uri, "a_" + std::to_string(1008 + i) + ".m4s");
        EXPECT_DOUBLE_EQ(s.duration, source->segments[(8 + i) % 10].duration);
        ASSERT_NE(m.map_of(s), nullptr);
        EXPECT_EQ(m.map_of(s)->resolved_uri, srv.url("/live/a_init.mp4"));
        EXPECT_NE(m.program_date_time_of(s), nullptr);
    }
    EXPECT_EQ(live->media_sequence(), 1008u);
    EXPECT_EQ(live->discontinuity_sequence(), 3u);
}

TEST(test_server_live_hls, ll_hls_playlist_parses_with_parts_control_and_hint) {
    http_server srv;
    live_stream_options o;
    o.path = "/live/ll.m3u8";
    o.source = live_source::synthetic(4, 2.0, 188 * 40);
    o.window = 4;
    o.time_scale = 10;
    o.parts_per_segment = 4;
    o.type = live_playlist_type::event;
    std::string error;
    auto live = live_stream::create(srv, o, error);
    ASSERT_TRUE(live) << error;
    ASSERT_TRUE(live->wait_published(4, 2, 5s));
    live->freeze(10s, false);  // hold still while reading

    const auto m = parse_served(srv, "/live/ll.m3u8");
    EXPECT_EQ(m.type, hls::playlist_type::event);
    ASSERT_TRUE(m.control.has_value());
    EXPECT_TRUE(m.control->can_block_reload);
    EXPECT_DOUBLE_EQ(m.control->part_hold_back.value_or(0), 1.5);
    EXPECT_DOUBLE_EQ(m.part_target.value_or(0), 0.5);
    const auto last = live->last_media_sequence();
    ASSERT_EQ(m.segments.back().media_sequence, last);
    EXPECT_EQ(m.segments.back().parts.size(), 4u);
    EXPECT_TRUE(m.segments.back().parts.front().independent);
    EXPECT_FALSE(m.segments.back().parts.back().independent);
    EXPECT_EQ(m.trailing_parts.size(), static_cast<std::size_t>(live->published_parts()));
    ASSERT_EQ(m.preload_hints.size(), 1u);
    EXPECT_EQ(m.preload_hints[0].uri, live->part_uri(last + 1, live->published_parts()));
    EXPECT_TRUE(m.segments.front().parts.empty());  // older segments lose their parts
}

TEST(test_server_live_hls, ended_stream_parses_as_endlist) {
    http_server srv;
    live_stream_options o;
    o.path = "/live/end.m3u8";
    o.source = live_source::synthetic(3, 2.0, 188 * 4);
    o.window = 2;
    o.time_scale = 0.001;
    o.end_after = 4;
    std::string error;
    auto live = live_stream::create(srv, o, error);
    ASSERT_TRUE(live) << error;
    live->jump(10);  // capped at the end
    const auto m = parse_served(srv, "/live/end.m3u8");
    EXPECT_TRUE(m.endlist);
    ASSERT_EQ(m.segments.size(), 2u);
    EXPECT_EQ(m.segments.back().media_sequence, 3u);
    EXPECT_TRUE(live->ended());
}

}  // namespace
}  // namespace kithara::test
