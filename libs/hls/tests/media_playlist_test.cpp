// Media playlist tags, one behaviour per test.
#include "hls_support.hpp"

namespace kithara::hls {
namespace {

using test::accept;
using test::find_warning;

const media_playlist& media_of(const playlist& p) {
    static const media_playlist empty;
    return p.is_master() ? empty : p.media();
}

TEST(media_tags, extinf_integer_and_decimal_durations_with_titles) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n"
        "#EXTINF:10,Intro, part one\na.aac\n#EXTINF:9.5,\nb.aac\n");
    const auto& m = media_of(p);
    ASSERT_EQ(m.segments.size(), 2u);
    EXPECT_DOUBLE_EQ(m.segments[0].duration, 10.0);
    EXPECT_EQ(m.segments[0].title, "Intro, part one");
    EXPECT_DOUBLE_EQ(m.segments[1].duration, 9.5);
    EXPECT_FALSE(m.segments[1].title.has_value());
    EXPECT_EQ(m.segments[0].line, 4u);
}

TEST(media_tags, header_tags_are_read) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:42\n"
        "#EXT-X-DISCONTINUITY-SEQUENCE:7\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-I-FRAMES-ONLY\n"
        "#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-START:TIME-OFFSET=-12.5,PRECISE=YES\n"
        "#EXTINF:6,\ns42.ts\n#EXTINF:6,\ns43.ts\n#EXT-X-ENDLIST\n");
    const auto& m = media_of(p);
    EXPECT_EQ(m.version, 4);
    EXPECT_EQ(m.target_duration, 6u);
    EXPECT_EQ(m.media_sequence, 42u);
    EXPECT_EQ(m.discontinuity_sequence, 7u);
    EXPECT_EQ(m.type, playlist_type::vod);
    EXPECT_TRUE(m.i_frames_only);
    EXPECT_TRUE(m.independent_segments);
    ASSERT_TRUE(m.start);
    EXPECT_DOUBLE_EQ(m.start->time_offset, -12.5);
    EXPECT_TRUE(m.start->precise);
    EXPECT_TRUE(m.endlist);
    EXPECT_EQ(m.segments[1].media_sequence, 43u);
    EXPECT_EQ(m.segments[0].discontinuity_sequence, 7u);
}

TEST(media_tags, event_playlist_type) {
    auto p =
        accept("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:EVENT\n");
    EXPECT_EQ(media_of(p).type, playlist_type::event);
    EXPECT_TRUE(media_of(p).segments.empty());
}

TEST(media_tags, byterange_offsets_carry_over_per_resource_across_interleaved_uris) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:10\n"
        "#EXTINF:10,\n#EXT-X-BYTERANGE:1000@0\nmain.ts\n"
        "#EXTINF:10,\n#EXT-X-BYTERANGE:500@100\nother.ts\n"
        "#EXTINF:10,\n#EXT-X-BYTERANGE:2000\nmain.ts\n"
        "#EXTINF:10,\n#EXT-X-BYTERANGE:50\nother.ts\n"
        "#EXTINF:10,\n#EXT-X-BYTERANGE:300\nmain.ts\n"
        "#EXTINF:10,\nwhole.ts\n"
        "#EXTINF:10,\n#EXT-X-BYTERANGE:7@3000\nmain.ts\n"
        "#EXTINF:10,\n#EXT-X-BYTERANGE:8\nmain.ts\n");
    const auto& s = media_of(p).segments;
    ASSERT_EQ(s.size(), 8u);
    EXPECT_EQ(s[0].range, (byte_range{1000, 0}));
    EXPECT_EQ(s[1].range, (byte_range{500, 100}));
    EXPECT_EQ(s[2].range, (byte_range{2000, 1000}));
    EXPECT_EQ(s[3].range, (byte_range{50, 600}));
    EXPECT_EQ(s[4].range, (byte_range{300, 3000}));
    EXPECT_FALSE(s[5].range.has_value());
    EXPECT_EQ(s[6].range, (byte_range{7, 3000}));
    EXPECT_EQ(s[7].range, (byte_range{8, 3007}));
}

TEST(media_tags, byterange_carry_over_follows_the_resolved_resource) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:10\n"
        "#EXTINF:10,\n#EXT-X-BYTERANGE:100@0\nmain.ts\n"
        "#EXTINF:10,\n#EXT-X-BYTERANGE:100\nhttps://cdn.example/a/b/main.ts\n");
    EXPECT_EQ(media_of(p).segments[1].range, (byte_range{100, 100}));
}

TEST(media_tags, maps_change_mid_playlist) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n"
        "#EXTINF:4,\nbefore.mp4\n"
        "#EXT-X-MAP:URI=\"init-a.mp4\",BYTERANGE=\"720@0\"\n#EXTINF:4,\na1.m4s\n#EXTINF:4,\na2."
        "m4s\n"
        "#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init-b.mp4\"\n#EXTINF:4,\nb1.m4s\n"
        "#EXT-X-MAP:URI=\"all.mp4\",BYTERANGE=\"100\"\n#EXTINF:4,\nc1.m4s\n");
    const auto& m = media_of(p);
    ASSERT_EQ(m.maps.size(), 3u);
    EXPECT_EQ(m.map_of(m.segments[0]), nullptr);
    ASSERT_NE(m.map_of(m.segments[1]), nullptr);
    EXPECT_EQ(m.map_of(m.segments[1])->uri, "init-a.mp4");
    EXPECT_EQ(m.map_of(m.segments[1])->resolved_uri, "https://cdn.example/a/b/init-a.mp4");
    EXPECT_EQ(m.map_of(m.segments[1])->range, (byte_range{720, 0}));
    EXPECT_EQ(m.segments[1].map, m.segments[2].map);  // stored once, shared
    EXPECT_EQ(m.map_of(m.segments[3])->uri, "init-b.mp4");
    EXPECT_FALSE(m.map_of(m.segments[3])->range.has_value());
    EXPECT_TRUE(m.segments[3].discontinuity);
    EXPECT_EQ(m.segments[3].discontinuity_sequence, 1u);
    EXPECT_EQ(m.segments[4].discontinuity_sequence, 1u);
    EXPECT_EQ(m.map_of(m.segments[4])->range, (byte_range{100, 0}));  // omitted offset: 0
}

TEST(media_tags, keys_change_mid_playlist_with_method_none_between) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:5\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:10\n"
        "#EXTINF:4,\nclear0.ts\n"
        "#EXT-X-KEY:METHOD=AES-128,URI=\"k1.bin\",IV=0x0000000000000000000000000000000A\n"
        "#EXTINF:4,\nenc1.ts\n#EXTINF:4,\nenc2.ts\n"
        "#EXT-X-KEY:METHOD=NONE\n#EXTINF:4,\nclear3.ts\n"
        "#EXT-X-KEY:METHOD=AES-128,URI=\"../keys/k2.bin\"\n#EXTINF:4,\nenc4.ts\n"
        "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://"
        "k3\",KEYFORMAT=\"com.apple.streamingkeydelivery\","
        "KEYFORMATVERSIONS=\"1\"\n#EXTINF:4,\nenc5.ts\n");
    const auto& m = media_of(p);
    ASSERT_EQ(m.segments.size(), 6u);
    EXPECT_EQ(m.key_of(m.segments[0]), nullptr);
    const key* k1 = m.key_of(m.segments[1]);
    ASSERT_NE(k1, nullptr);
    EXPECT_EQ(k1->method, key_method::aes_128);
    EXPECT_EQ(k1->uri, "k1.bin");
    EXPECT_EQ(k1->resolved_uri, "https://cdn.example/a/b/k1.bin");
    ASSERT_TRUE(k1->iv);
    EXPECT_EQ((*k1->iv)[15], 0x0A);
    EXPECT_EQ(k1->iv_text, "0x0000000000000000000000000000000A");
    EXPECT_EQ(m.key_of(m.segments[2]), k1);
    EXPECT_EQ(m.key_of(m.segments[3]), nullptr);
    const key* k2 = m.key_of(m.segments[4]);
    ASSERT_NE(k2, nullptr);
    EXPECT_EQ(k2->resolved_uri, "https://cdn.example/a/keys/k2.bin");
    EXPECT_FALSE(k2->iv);
    const key* k3 = m.key_of(m.segments[5]);
    ASSERT_NE(k3, nullptr);
    EXPECT_EQ(k3->method, key_method::sample_aes);
    EXPECT_EQ(k3->keyformat, "com.apple.streamingkeydelivery");
    EXPECT_EQ(k3->keyformatversions, "1");
    EXPECT_EQ(m.segments[5].media_sequence, 15u);
}

TEST(media_tags, several_keyformats_apply_together) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:5\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"data:x\",KEYFORMAT=\"urn:uuid:edef8ba9\"\n"
        "#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI=\"skd://y\"\n#EXTINF:4,\na.mp4\n");
    const auto& m = media_of(p);
    EXPECT_EQ(m.segments[0].key_count, 2u);
    EXPECT_EQ(m.key_of(m.segments[0])->uri, "skd://y");  // identity preferred
    EXPECT_EQ(m.key_of(m.segments[0])->method, key_method::sample_aes_ctr);
}

TEST(media_tags, discontinuity_gap_bitrate_and_program_date_time) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-04T10:00:00.000Z\n#EXT-X-BITRATE:128\n#EXTINF:4,\na.ts\n"
        "#EXT-X-GAP\n#EXTINF:4,\nb.ts\n#EXT-X-DISCONTINUITY\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-04T11:00:00+01:00\n#EXTINF:4,\nc.ts\n#EXTINF:4,\nd.ts\n");
    const auto& m = media_of(p);
    ASSERT_EQ(m.segments.size(), 4u);
    EXPECT_FALSE(m.segments[0].gap);
    EXPECT_TRUE(m.segments[1].gap);
    EXPECT_FALSE(m.segments[2].gap);
    EXPECT_EQ(m.segments[0].bitrate_kbps, 128u);
    EXPECT_EQ(m.segments[3].bitrate_kbps, 128u);
    EXPECT_FALSE(m.segments[1].discontinuity);
    EXPECT_TRUE(m.segments[2].discontinuity);
    EXPECT_EQ(m.segments[1].discontinuity_sequence, 3u);
    EXPECT_EQ(m.segments[2].discontinuity_sequence, 4u);
    EXPECT_EQ(*m.program_date_time_of(m.segments[1]), "2026-12-04T10:00:00.000Z");
    EXPECT_EQ(*m.program_date_time_of(m.segments[3]), "2026-12-04T11:00:00+01:00");
    EXPECT_TRUE(m.segments[2].program_date_time_tagged);
    EXPECT_FALSE(m.segments[3].program_date_time_tagged);
}

TEST(media_tags, daterange_attributes) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-DATERANGE:ID=\"ad1\",CLASS=\"com.example.ad\",START-DATE=\"2026-01-01T00:00:00Z\","
        "END-DATE=\"2026-01-01T00:00:30Z\",DURATION=30,END-ON-NEXT=YES,X-AD-ID=\"1234\",X-N=5\n"
        "#EXTINF:4,\na.ts\n");
    const auto& d = media_of(p).date_ranges.at(0);
    EXPECT_EQ(d.id, "ad1");
    EXPECT_EQ(d.class_name, "com.example.ad");
    EXPECT_EQ(d.end_date, "2026-01-01T00:00:30Z");
    EXPECT_DOUBLE_EQ(*d.duration, 30.0);
    EXPECT_TRUE(d.end_on_next);
    ASSERT_EQ(d.attributes.size(), 2u);
    EXPECT_EQ(d.attributes[0].name, "X-AD-ID");
    EXPECT_EQ(d.attributes[0].value, "1234");
    EXPECT_EQ(d.attributes[1].value, "5");
}

TEST(media_tags, low_latency_tags_go_into_the_model_and_parts_are_not_segments) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=24,PART-HOLD-BACK=3.012,"
        "HOLD-BACK=12,CAN-SKIP-DATERANGES=YES\n"
        "#EXT-X-PART-INF:PART-TARGET=1.004\n#EXT-X-MEDIA-SEQUENCE:266\n"
        "#EXT-X-SKIP:SKIPPED-SEGMENTS=3,RECENTLY-REMOVED-DATERANGES=\"a\tb\"\n"
        "#EXT-X-MAP:URI=\"init.mp4\"\n"
        "#EXT-X-PART:DURATION=1.0,URI=\"s269.0.m4s\",INDEPENDENT=YES\n"
        "#EXT-X-PART:DURATION=1.0,URI=\"s269.m4s\",BYTERANGE=\"100@0\"\n"
        "#EXT-X-PART:DURATION=1.0,URI=\"s269.m4s\",BYTERANGE=\"200\",GAP=YES\n"
        "#EXTINF:3.0,\ns269.m4s\n"
        "#EXT-X-PART:DURATION=1.0,URI=\"s270.0.m4s\"\n"
        "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s270.1.m4s\",BYTERANGE-START=10,BYTERANGE-LENGTH=20\n"
        "#EXT-X-RENDITION-REPORT:URI=\"../hi/index.m3u8\",LAST-MSN=269,LAST-PART=1\n");
    const auto& m = media_of(p);
    ASSERT_EQ(m.segments.size(), 1u);
    EXPECT_EQ(m.segments[0].media_sequence, 269u);  // 266 + 3 skipped
    ASSERT_EQ(m.segments[0].parts.size(), 3u);
    EXPECT_TRUE(m.segments[0].parts[0].independent);
    EXPECT_EQ(m.segments[0].parts[1].range, (byte_range{100, 0}));
    EXPECT_EQ(m.segments[0].parts[2].range, (byte_range{200, 100}));
    EXPECT_TRUE(m.segments[0].parts[2].gap);
    ASSERT_EQ(m.trailing_parts.size(), 1u);
    EXPECT_EQ(m.trailing_parts[0].resolved_uri, "https://cdn.example/a/b/s270.0.m4s");
    EXPECT_DOUBLE_EQ(*m.part_target, 1.004);
    ASSERT_TRUE(m.control);
    EXPECT_TRUE(m.control->can_block_reload);
    EXPECT_TRUE(m.control->can_skip_dateranges);
    EXPECT_DOUBLE_EQ(*m.control->can_skip_until, 24.0);
    EXPECT_DOUBLE_EQ(*m.control->part_hold_back, 3.012);
    EXPECT_DOUBLE_EQ(*m.control->hold_back, 12.0);
    ASSERT_TRUE(m.skip);
    EXPECT_EQ(m.skip->skipped_segments, 3u);
    EXPECT_EQ(m.skip->recently_removed_dateranges, (std::vector<std::string>{"a", "b"}));
    ASSERT_EQ(m.preload_hints.size(), 1u);
    EXPECT_EQ(m.preload_hints[0].type, preload_hint::kind::part);
    EXPECT_EQ(m.preload_hints[0].byterange_start, 10u);
    EXPECT_EQ(m.preload_hints[0].byterange_length, 20u);
    ASSERT_EQ(m.rendition_reports.size(), 1u);
    EXPECT_EQ(m.rendition_reports[0].resolved_uri, "https://cdn.example/a/hi/index.m3u8");
    EXPECT_EQ(m.rendition_reports[0].last_msn, 269u);
    EXPECT_EQ(m.rendition_reports[0].last_part, 1u);
}

TEST(media_tags, uris_resolve_against_the_playlist_url) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n"
        "#EXTINF:4,\nseg.ts\n#EXTINF:4,\n../up.ts\n#EXTINF:4,\n/root.ts\n"
        "#EXTINF:4,\n//other.example/x.ts\n#EXTINF:4,\nhttp://abs.example/y.ts?t=1\n"
        "#EXTINF:4,\nsub/./z.ts?q=a/b#frag\n#EXTINF:4,\na:b/c.ts\n",
        "https://cdn.example/a/b/index.m3u8?token=xyz");
    const auto& s = media_of(p).segments;
    ASSERT_EQ(s.size(), 7u);
    EXPECT_EQ(s[0].resolved_uri, "https://cdn.example/a/b/seg.ts");
    EXPECT_EQ(s[1].resolved_uri, "https://cdn.example/a/up.ts");
    EXPECT_EQ(s[2].resolved_uri, "https://cdn.example/root.ts");
    EXPECT_EQ(s[3].resolved_uri, "https://other.example/x.ts");
    EXPECT_EQ(s[4].resolved_uri, "http://abs.example/y.ts?t=1");
    EXPECT_EQ(s[5].resolved_uri, "https://cdn.example/a/b/sub/z.ts?q=a/b#frag");
    EXPECT_EQ(s[6].resolved_uri, "a:b/c.ts");  // has a scheme: absolute already
    EXPECT_EQ(s[1].uri, "../up.ts");
}

TEST(media_tags, unknown_tags_and_comments_are_ignored) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:3\n# a comment\n#EXT-X-FUTURE-TAG:X=1\n#EXT-X-TARGETDURATION:4\n"
        "#EXTINF:4,\n#EXT-X-SOMETHING\na.ts\n");
    EXPECT_EQ(media_of(p).segments.size(), 1u);
    EXPECT_TRUE(p.warnings.empty());
}

TEST(media_warnings, lenient_inputs_are_accepted_with_warnings) {
    auto p = accept(
        "\xEF\xBB\xBF#EXTM3U\r\n#EXT-X-TARGETDURATION:4  \r\n#EXTINF:5.6,\r\na.ts\r\n#EXTINF:4\n"
        "b.ts\n#EXT-X-ENDLIST\n#EXTINF:4,\nc.ts\n");
    const auto& m = media_of(p);
    ASSERT_EQ(m.segments.size(), 3u);
    EXPECT_EQ(m.segments[0].uri, "a.ts");
    EXPECT_EQ(m.target_duration, 4u);
    for (auto k : {warning_kind::byte_order_mark, warning_kind::crlf_line_ends,
                   warning_kind::trailing_whitespace, warning_kind::missing_version,
                   warning_kind::extinf_exceeds_target, warning_kind::empty_title_comma,
                   warning_kind::tag_after_endlist}) {
        EXPECT_NE(find_warning(p, k), nullptr) << to_string(k);
    }
    EXPECT_EQ(find_warning(p, warning_kind::crlf_line_ends)->count, 4u);
    EXPECT_EQ(find_warning(p, warning_kind::crlf_line_ends)->line, 1u);
    EXPECT_EQ(find_warning(p, warning_kind::extinf_exceeds_target)->line, 3u);
    EXPECT_EQ(find_warning(p, warning_kind::tag_after_endlist)->line, 9u);
}

TEST(media_warnings, version_too_low_for_a_feature) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"i.mp4\"\n"
        "#EXTINF:4,\na.m4s\n");
    const auto* w = find_warning(p, warning_kind::version_too_low);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->line, 4u);
    EXPECT_NE(w->message.find("EXT-X-MAP"), std::string::npos);
}

TEST(media_warnings, missing_target_duration_is_a_warning) {
    auto p = accept("#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:4,\na.ts\n");
    EXPECT_NE(find_warning(p, warning_kind::missing_target_duration), nullptr);
    EXPECT_FALSE(media_of(p).target_duration);
}

TEST(media_warnings, attributes_on_method_none_are_ignored_with_a_warning) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=NONE,URI=\"k\"\n"
        "#EXTINF:4,\na.ts\n");
    EXPECT_NE(find_warning(p, warning_kind::attribute_ignored), nullptr);
    EXPECT_EQ(media_of(p).key_of(media_of(p).segments[0]), nullptr);
}

}  // namespace
}  // namespace kithara::hls
