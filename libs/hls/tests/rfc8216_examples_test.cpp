// The playlist examples of RFC 8216 section 8, written out in tests/playlists/, read from files.
#include "hls_support.hpp"

#include <kithara/hls/loader.hpp>

#include <fstream>
#include <sstream>

namespace kithara::hls {
namespace {

playlist read(const std::string& name) {
    const std::string path = std::string(KITHARA_HLS_PLAYLIST_DIR) + "/" + name;
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    test::dump_corpus(ss.str());
    auto p = read_playlist_file(path);
    EXPECT_TRUE(p.has_value()) << name << ": " << (p ? "" : p.error().message());
    if (!p) return {};
    EXPECT_EQ(p->final_url, "file://" + path);
    return std::move(p->content);
}

TEST(rfc8216_examples, simple_media_playlist_8_1) {
    auto p = read("rfc8216_8_1_simple_media.m3u8");
    ASSERT_FALSE(p.is_master());
    const auto& m = p.media();
    EXPECT_EQ(m.target_duration, 10u);
    EXPECT_EQ(m.version, 3);
    EXPECT_TRUE(m.endlist);
    ASSERT_EQ(m.segments.size(), 3u);
    EXPECT_DOUBLE_EQ(m.segments[0].duration, 9.009);
    EXPECT_DOUBLE_EQ(m.segments[2].duration, 3.003);
    EXPECT_EQ(m.segments[1].uri, "http://media.example.com/second.ts");
    EXPECT_EQ(m.segments[1].resolved_uri, "http://media.example.com/second.ts");
    EXPECT_EQ(m.segments[0].media_sequence, 0u);
    EXPECT_EQ(m.segments[2].media_sequence, 2u);
    EXPECT_FALSE(m.segments[0].title.has_value());
    EXPECT_NEAR(m.duration(), 21.021, 1e-9);
    EXPECT_TRUE(p.warnings.empty());
}

TEST(rfc8216_examples, live_media_playlist_8_2) {
    auto p = read("rfc8216_8_2_live_media.m3u8");
    const auto& m = p.media();
    EXPECT_FALSE(m.endlist);
    EXPECT_EQ(m.media_sequence, 2680u);
    ASSERT_EQ(m.segments.size(), 3u);
    EXPECT_EQ(m.segments[0].media_sequence, 2680u);
    EXPECT_EQ(m.segments[2].media_sequence, 2682u);
    EXPECT_DOUBLE_EQ(m.segments[1].duration, 7.941);
    EXPECT_EQ(m.segments[2].uri, "https://priv.example.com/fileSequence2682.ts");
}

TEST(rfc8216_examples, encrypted_media_segments_8_3) {
    auto p = read("rfc8216_8_3_encrypted_media.m3u8");
    const auto& m = p.media();
    EXPECT_EQ(m.media_sequence, 7794u);
    EXPECT_EQ(m.target_duration, 15u);
    ASSERT_EQ(m.segments.size(), 4u);
    ASSERT_EQ(m.keys.size(), 2u);
    for (int i = 0; i < 3; ++i) {
        const key* k = m.key_of(m.segments[static_cast<std::size_t>(i)]);
        ASSERT_NE(k, nullptr);
        EXPECT_EQ(k->method, key_method::aes_128);
        EXPECT_EQ(k->uri, "https://priv.example.com/key.php?r=52");
        EXPECT_FALSE(k->iv.has_value());
    }
    EXPECT_EQ(m.key_of(m.segments[3])->uri, "https://priv.example.com/key.php?r=53");
    EXPECT_EQ(m.segments[3].media_sequence, 7797u);
    EXPECT_DOUBLE_EQ(m.segments[1].duration, 15.0);
}

TEST(rfc8216_examples, master_playlist_8_4) {
    auto p = read("rfc8216_8_4_master.m3u8");
    ASSERT_TRUE(p.is_master());
    const auto& m = p.master();
    ASSERT_EQ(m.variants.size(), 4u);
    EXPECT_EQ(m.variants[0].bandwidth, 1280000u);
    EXPECT_EQ(m.variants[0].average_bandwidth, 1000000u);
    EXPECT_EQ(m.variants[2].bandwidth, 7680000u);
    EXPECT_EQ(m.variants[2].average_bandwidth, 6000000u);
    EXPECT_EQ(m.variants[3].bandwidth, 65000u);
    EXPECT_FALSE(m.variants[3].average_bandwidth.has_value());
    EXPECT_EQ(m.variants[3].codecs, "mp4a.40.5");
    EXPECT_EQ(m.variants[3].uri, "http://example.com/audio-only.m3u8");
}

TEST(rfc8216_examples, master_playlist_with_iframes_8_5) {
    auto p = read("rfc8216_8_5_master_iframes.m3u8");
    const auto& m = p.master();
    ASSERT_EQ(m.variants.size(), 4u);
    ASSERT_EQ(m.iframe_variants.size(), 3u);
    EXPECT_EQ(m.iframe_variants[0].bandwidth, 86000u);
    EXPECT_EQ(m.iframe_variants[0].uri, "low/iframe.m3u8");
    EXPECT_EQ(m.iframe_variants[2].bandwidth, 550000u);
    const std::string dir = "file://" + std::string(KITHARA_HLS_PLAYLIST_DIR) + "/";
    EXPECT_EQ(m.iframe_variants[1].resolved_uri, dir + "mid/iframe.m3u8");
    EXPECT_EQ(m.variants[1].uri, "mid/audio-video.m3u8");
    EXPECT_EQ(m.variants[1].resolved_uri, dir + "mid/audio-video.m3u8");
}

TEST(rfc8216_examples, master_playlist_with_alternative_audio_8_6) {
    auto p = read("rfc8216_8_6_master_audio.m3u8");
    const auto& m = p.master();
    ASSERT_EQ(m.renditions.size(), 3u);
    const auto& en = m.renditions[0];
    EXPECT_EQ(en.type, media_type::audio);
    EXPECT_EQ(en.group_id, "aac");
    EXPECT_EQ(en.language, "en");
    EXPECT_EQ(en.name, "English");
    EXPECT_TRUE(en.is_default);
    EXPECT_TRUE(en.autoselect);
    EXPECT_EQ(en.uri, "main/english-audio.m3u8");
    EXPECT_EQ(m.renditions[1].name, "Deutsch");
    EXPECT_FALSE(m.renditions[1].is_default);
    EXPECT_TRUE(m.renditions[1].autoselect);
    EXPECT_FALSE(m.renditions[2].autoselect);
    ASSERT_EQ(m.variants.size(), 4u);
    EXPECT_EQ(m.variants[0].codecs, "avc1.4d401e,mp4a.40.2");  // a comma inside quotes
    for (const auto& v : m.variants) EXPECT_EQ(v.audio, "aac");
}

TEST(rfc8216_examples, master_playlist_with_alternative_video_8_7) {
    auto p = read("rfc8216_8_7_master_video.m3u8");
    const auto& m = p.master();
    ASSERT_EQ(m.renditions.size(), 9u);
    EXPECT_EQ(m.renditions[4].type, media_type::video);
    EXPECT_EQ(m.renditions[4].group_id, "mid");
    EXPECT_EQ(m.renditions[4].name, "Centerfield");
    EXPECT_EQ(m.renditions[4].uri, "mid/centerfield/audio-video.m3u8");
    ASSERT_EQ(m.variants.size(), 4u);
    EXPECT_EQ(m.variants[2].video, "hi");
    EXPECT_FALSE(m.variants[3].video.has_value());
}

TEST(rfc8216_examples, session_data_8_8) {
    auto p = read("rfc8216_8_8_session_data.m3u8");
    const auto& m = p.master();
    ASSERT_EQ(m.session_data.size(), 3u);
    EXPECT_EQ(m.session_data[0].data_id, "com.example.lyrics");
    EXPECT_EQ(m.session_data[0].uri, "lyrics.json");
    EXPECT_FALSE(m.session_data[0].value.has_value());
    EXPECT_EQ(m.session_data[2].language, "es");
    EXPECT_EQ(m.session_data[2].value, "Este es un ejemplo");
}

TEST(rfc8216_examples, characteristics_8_9) {
    auto p = read("rfc8216_8_9_characteristics.m3u8");
    const auto& m = p.master();
    ASSERT_EQ(m.renditions.size(), 1u);
    EXPECT_EQ(m.renditions[0].type, media_type::subtitles);
    EXPECT_EQ(m.renditions[0].characteristics,
              "public.accessibility.transcribes-spoken-dialog,public.easy-to-read");
    EXPECT_EQ(m.variants[0].subtitles, "subs");
}

TEST(rfc8216_examples, daterange_with_scte35_8_10) {
    auto p = read("rfc8216_8_10_daterange_scte35.m3u8");
    const auto& m = p.media();
    ASSERT_EQ(m.date_ranges.size(), 2u);
    EXPECT_EQ(m.date_ranges[0].id, "splice-6FFFFFF0");
    EXPECT_EQ(m.date_ranges[0].start_date, "2014-03-05T11:15:00Z");
    EXPECT_DOUBLE_EQ(*m.date_ranges[0].planned_duration, 59.993);
    ASSERT_EQ(m.date_ranges[0].attributes.size(), 1u);
    EXPECT_EQ(m.date_ranges[0].attributes[0].name, "SCTE35-OUT");
    EXPECT_TRUE(m.date_ranges[0].attributes[0].value.starts_with("0xFC002F"));
    EXPECT_DOUBLE_EQ(*m.date_ranges[1].duration, 59.993);
    ASSERT_EQ(m.segments.size(), 2u);
    EXPECT_EQ(*m.program_date_time_of(m.segments[0]), "2014-03-05T11:14:00Z");
    EXPECT_TRUE(m.segments[0].program_date_time_tagged);
    EXPECT_FALSE(m.segments[1].program_date_time_tagged);
}

}  // namespace
}  // namespace kithara::hls
