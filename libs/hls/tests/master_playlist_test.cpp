// Master (multivariant) playlist tags.
#include "hls_support.hpp"

namespace kithara::hls {
namespace {

using test::accept;

TEST(master_tags, stream_inf_attributes_of_every_type) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-START:TIME-OFFSET=5\n"
        "#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=90000,BANDWIDTH=128000,CODECS=\"mp4a.40.2\","
        "RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO=\"aud\",VIDEO=\"vid\",SUBTITLES=\"sub\","
        "CLOSED-CAPTIONS=\"cc\",HDCP-LEVEL=TYPE-0,SCORE=1.5,X-FUTURE=\"ignored\"\n"
        "v1/index.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=64000,CLOSED-CAPTIONS=NONE\nhttps://other.example/v2.m3u8\n");
    ASSERT_TRUE(p.is_master());
    const auto& m = p.master();
    EXPECT_TRUE(m.independent_segments);
    EXPECT_EQ(m.version, 6);
    ASSERT_TRUE(m.start);
    EXPECT_DOUBLE_EQ(m.start->time_offset, 5.0);
    EXPECT_FALSE(m.start->precise);
    ASSERT_EQ(m.variants.size(), 2u);
    const auto& v = m.variants[0];
    EXPECT_EQ(v.bandwidth, 128000u);
    EXPECT_EQ(v.average_bandwidth, 90000u);
    EXPECT_EQ(v.codecs, "mp4a.40.2");
    ASSERT_TRUE(v.resolution);
    EXPECT_EQ(v.resolution->width, 1280u);
    EXPECT_EQ(v.resolution->height, 720u);
    EXPECT_DOUBLE_EQ(*v.frame_rate, 29.97);
    EXPECT_EQ(v.audio, "aud");
    EXPECT_EQ(v.video, "vid");
    EXPECT_EQ(v.subtitles, "sub");
    EXPECT_EQ(v.closed_captions, "cc");
    EXPECT_EQ(v.hdcp_level, "TYPE-0");
    EXPECT_DOUBLE_EQ(*v.score, 1.5);
    EXPECT_EQ(v.uri, "v1/index.m3u8");
    EXPECT_EQ(v.resolved_uri, "https://cdn.example/a/b/v1/index.m3u8");
    EXPECT_EQ(v.line, 5u);
    EXPECT_EQ(m.variants[1].closed_captions, "NONE");
    EXPECT_EQ(m.variants[1].resolved_uri, "https://other.example/v2.m3u8");
}

TEST(master_tags, media_renditions_of_every_attribute) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:6\n"
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"English\",LANGUAGE=\"en\","
        "ASSOC-LANGUAGE=\"en-US\",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,CHANNELS=\"2\","
        "CHARACTERISTICS=\"public.accessibility.describes-video\",URI=\"en/index.m3u8\"\n"
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"In stream\",FORCED=YES\n"
        "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC1\",INSTREAM-ID=\"CC1\"\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"aac\"\nv.m3u8\n");
    const auto& r = p.master().renditions;
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(r[0].type, media_type::audio);
    EXPECT_EQ(r[0].group_id, "aac");
    EXPECT_EQ(r[0].name, "English");
    EXPECT_EQ(r[0].language, "en");
    EXPECT_EQ(r[0].assoc_language, "en-US");
    EXPECT_TRUE(r[0].is_default);
    EXPECT_TRUE(r[0].autoselect);
    EXPECT_FALSE(r[0].forced);
    EXPECT_EQ(r[0].channels, "2");
    EXPECT_EQ(r[0].characteristics, "public.accessibility.describes-video");
    EXPECT_EQ(r[0].resolved_uri, "https://cdn.example/a/b/en/index.m3u8");
    EXPECT_FALSE(r[1].uri.has_value());  // in the variant's stream
    EXPECT_TRUE(r[1].forced);            // a stray FORCED on audio is tolerated
    EXPECT_EQ(r[2].type, media_type::closed_captions);
    EXPECT_EQ(r[2].instream_id, "CC1");
}

TEST(master_tags, iframe_variants_are_kept_apart_from_playable_ones) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=5000,CODECS=\"avc1.4d401f\","
        "RESOLUTION=640x360,URI=\"iframes.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=64000\na.m3u8\n");
    const auto& m = p.master();
    ASSERT_EQ(m.variants.size(), 1u);
    ASSERT_EQ(m.iframe_variants.size(), 1u);
    EXPECT_EQ(m.iframe_variants[0].uri, "iframes.m3u8");
    EXPECT_EQ(m.iframe_variants[0].resolution->width, 640u);
}

TEST(master_tags, session_key_and_session_data) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-SESSION-KEY:METHOD=AES-128,URI=\"k.bin\",IV=0x1\n"
        "#EXT-X-SESSION-DATA:DATA-ID=\"com.example.title\",VALUE=\"Title\",LANGUAGE=\"en\"\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n");
    const auto& m = p.master();
    ASSERT_EQ(m.session_keys.size(), 1u);
    EXPECT_EQ(m.session_keys[0].method, key_method::aes_128);
    EXPECT_EQ(m.session_keys[0].resolved_uri, "https://cdn.example/a/b/k.bin");
    EXPECT_EQ((*m.session_keys[0].iv)[15], 1);
    ASSERT_EQ(m.session_data.size(), 1u);
    EXPECT_EQ(m.session_data[0].value, "Title");
}

TEST(master_tags, stream_inf_uri_may_follow_after_blank_lines_and_comments) {
    auto p =
        accept("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n\n# comment\n#EXT-X-UNKNOWN\na.m3u8\n");
    ASSERT_EQ(p.master().variants.size(), 1u);
    EXPECT_EQ(p.master().variants[0].line, 2u);
}

}  // namespace
}  // namespace kithara::hls
