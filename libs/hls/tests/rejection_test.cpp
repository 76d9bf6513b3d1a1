// The accept/reject policy: every rejection names its line and its rule (docs/HLS.md).
#include "hls_support.hpp"

namespace kithara::hls {
namespace {

using test::reject;

struct rejection {
    const char* name;
    const char* text;
    errc code;
    std::size_t line;
};

void PrintTo(const rejection& r, std::ostream* os) {
    *os << r.name;
}

class rejects : public ::testing::TestWithParam<rejection> {};

TEST_P(rejects, with_the_rule_and_its_line) {
    const auto& r = GetParam();
    const error e = reject(r.text);
    EXPECT_EQ(e.code(), make_error_code(r.code)) << e.message();
    const std::string prefix = "line " + std::to_string(r.line) + ": ";
    EXPECT_TRUE(e.context().starts_with(prefix)) << e.context() << " (expected " << prefix << ")";
    EXPECT_GT(e.context().size(), prefix.size() + 10) << "the rule must be named";
}

constexpr const char* hdr = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:10\n";

INSTANTIATE_TEST_SUITE_P(
    policy, rejects,
    ::testing::Values(
        rejection{"empty_input", "", errc::missing_header, 1},
        rejection{"no_extm3u", "#EXT-X-VERSION:3\n#EXTINF:1,\na.ts\n", errc::missing_header, 1},
        rejection{"extm3u_not_first", "\n#EXTM3U\n", errc::missing_header, 1},
        rejection{"html_error_page", "<html><body>404</body></html>\n", errc::missing_header, 1},
        rejection{"segment_without_extinf",
                  "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\na.ts\nb.ts\n",
                  errc::missing_extinf, 5},
        rejection{"negative_duration", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:-1,\na.ts\n",
                  errc::invalid_value, 3},
        rejection{"non_numeric_duration", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:ten,\na.ts\n",
                  errc::invalid_value, 3},
        rejection{"empty_duration", "#EXTM3U\n#EXTINF:,\na.ts\n", errc::invalid_value, 2},
        rejection{"not_utf8_stray_byte",
                  "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,caf\xe9\na.ts\n",
                  errc::invalid_value, 3},
        rejection{"not_utf8_overlong", "#EXTM3U\n#EXTINF:1,\n\xc0\xaf.ts\n", errc::invalid_value,
                  3},
        rejection{"not_utf8_surrogate", "#EXTM3U\n#EXTINF:1,\xed\xa0\x80\na.ts\n",
                  errc::invalid_value, 2},
        rejection{"not_utf8_truncated", "#EXTM3U\n#EXTINF:1,\xe2\x82\na.ts\n", errc::invalid_value,
                  2},
        rejection{"map_byterange_overflows",
                  "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
                  "#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"10@18446744073709551615\"\n",
                  errc::invalid_value, 3},
        rejection{"part_byterange_overflows",
                  "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:PART-TARGET=1\n"
                  "#EXT-X-PART:DURATION=1,URI=\"p.m4s\",BYTERANGE=\"10@18446744073709551615\"\n",
                  errc::invalid_value, 4},
        rejection{"byterange_without_previous_range",
                  "#EXTM3U\n#EXT-X-VERSION:4\n#EXTINF:1,\n#EXT-X-BYTERANGE:10@0\na.ts\n"
                  "#EXTINF:1,\n#EXT-X-BYTERANGE:10\nb.ts\n",
                  errc::byterange_without_offset, 7},
        rejection{"undefined_variable_in_uri",
                  "#EXTM3U\n#EXT-X-VERSION:8\n#EXTINF:1,\n{$base}/a.ts\n", errc::undefined_variable,
                  4},
        rejection{"undefined_variable_in_quoted_attribute",
                  "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"1\"\n#EXT-X-KEY:METHOD=AES-128,"
                  "URI=\"{$b}.key\"\n",
                  errc::undefined_variable, 3},
        rejection{"duplicate_version", "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-VERSION:3\n",
                  errc::duplicate_tag, 3},
        rejection{"duplicate_targetduration",
                  "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-TARGETDURATION:5\n",
                  errc::duplicate_tag, 3},
        rejection{"duplicate_media_sequence",
                  "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MEDIA-SEQUENCE:1\n",
                  errc::duplicate_tag, 3},
        rejection{"duplicate_endlist", "#EXTM3U\n#EXT-X-ENDLIST\n#EXT-X-ENDLIST\n",
                  errc::duplicate_tag, 3},
        rejection{"duplicate_playlist_type",
                  "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-PLAYLIST-TYPE:VOD\n",
                  errc::duplicate_tag, 3},
        rejection{"duplicate_start",
                  "#EXTM3U\n#EXT-X-START:TIME-OFFSET=1\n#EXT-X-START:TIME-OFFSET=2\n",
                  errc::duplicate_tag, 3},
        rejection{"duplicate_independent_segments",
                  "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-INDEPENDENT-SEGMENTS\n",
                  errc::duplicate_tag, 3},
        rejection{"duplicate_extm3u", "#EXTM3U\n#EXTM3U\n", errc::duplicate_tag, 2},
        rejection{"two_extinf_for_one_segment", "#EXTM3U\n#EXTINF:1,\n#EXTINF:2,\na.ts\n",
                  errc::duplicate_tag, 3},
        rejection{"duplicate_variable",
                  "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"1\"\n"
                  "#EXT-X-DEFINE:NAME=\"a\",VALUE=\"2\"\n",
                  errc::duplicate_variable, 3},
        rejection{"extinf_without_uri_at_end", "#EXTM3U\n#EXTINF:1,\na.ts\n#EXTINF:1,\n",
                  errc::missing_uri, 4},
        rejection{"stream_inf_without_uri",
                  "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb\n",
                  errc::missing_uri, 2},
        rejection{"master_and_media_mixed",
                  "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXTINF:1,\nb.ts\n",
                  errc::mixed_playlist, 4},
        rejection{"media_then_master",
                  "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA:TYPE=AUDIO\n",
                  errc::mixed_playlist, 3},
        rejection{"stream_inf_without_bandwidth",
                  "#EXTM3U\n#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=1\na\n", errc::missing_attribute,
                  2},
        rejection{"key_without_uri", "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128\n",
                  errc::missing_attribute, 2},
        rejection{"key_without_method", "#EXTM3U\n#EXT-X-KEY:URI=\"k\"\n", errc::missing_attribute,
                  2},
        rejection{"unknown_key_method", "#EXTM3U\n#EXT-X-KEY:METHOD=AES-256,URI=\"k\"\n",
                  errc::invalid_value, 2},
        rejection{"bad_iv", "#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0xZZ\n",
                  errc::invalid_value, 2},
        rejection{"map_without_uri", "#EXTM3U\n#EXT-X-MAP:BYTERANGE=\"1@0\"\n",
                  errc::missing_attribute, 2},
        rejection{"media_without_group", "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"x\"\n",
                  errc::missing_attribute, 2},
        rejection{"bandwidth_quoted", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=\"1\"\na\n",
                  errc::invalid_value, 2},
        rejection{"codecs_unquoted", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=mp4a\na\n",
                  errc::invalid_value, 2},
        rejection{"unterminated_quote", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"mp4a\na\n",
                  errc::invalid_attribute_list, 2},
        rejection{"duplicate_attribute", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,BANDWIDTH=2\na\n",
                  errc::invalid_attribute_list, 2},
        rejection{"bad_resolution", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=big\na\n",
                  errc::invalid_value, 2},
        rejection{"bad_yes_no",
                  "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"b\",DEFAULT=TRUE\n",
                  errc::invalid_value, 2},
        rejection{"bad_byterange", "#EXTM3U\n#EXTINF:1,\n#EXT-X-BYTERANGE:abc\na\n",
                  errc::invalid_value, 3},
        rejection{"bad_playlist_type", "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:LIVE\n", errc::invalid_value,
                  2},
        rejection{"bad_version", "#EXTM3U\n#EXT-X-VERSION:three\n", errc::invalid_value, 2},
        rejection{"media_sequence_after_a_segment",
                  "#EXTM3U\n#EXTINF:1,\na.ts\n#EXT-X-MEDIA-SEQUENCE:5\n", errc::misplaced_tag, 4},
        rejection{"uri_in_master_without_stream_inf",
                  "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na\nb\n", errc::misplaced_tag, 4},
        rejection{"import_in_master",
                  "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na\n#EXT-X-DEFINE:IMPORT=\"x\"\n",
                  errc::misplaced_tag, 4},
        rejection{"session_key_none", "#EXTM3U\n#EXT-X-SESSION-KEY:METHOD=NONE\n",
                  errc::invalid_value, 2},
        rejection{"session_data_value_and_uri",
                  "#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID=\"a\",VALUE=\"v\",URI=\"u\"\n",
                  errc::invalid_attribute_list, 2},
        rejection{"closed_captions_without_instream_id",
                  "#EXTM3U\n#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"c\",NAME=\"n\"\n",
                  errc::missing_attribute, 2},
        rejection{"part_without_duration", "#EXTM3U\n#EXT-X-PART:URI=\"p.m4s\"\n",
                  errc::missing_attribute, 2},
        rejection{"part_byterange_without_previous",
                  "#EXTM3U\n#EXT-X-PART:DURATION=1,URI=\"p\",BYTERANGE=\"10\"\n",
                  errc::byterange_without_offset, 2},
        rejection{"define_both_forms",
                  "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"1\",QUERYPARAM=\"b\"\n",
                  errc::invalid_attribute_list, 2},
        rejection{"define_bad_name", "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a b\",VALUE=\"1\"\n",
                  errc::invalid_value, 2},
        rejection{"import_not_in_master", "#EXTM3U\n#EXT-X-DEFINE:IMPORT=\"x\"\n",
                  errc::undefined_variable, 2},
        rejection{"queryparam_not_in_url", "#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM=\"x\"\n",
                  errc::undefined_variable, 2}),
    [](const ::testing::TestParamInfo<rejection>& i) { return std::string(i.param.name); });

TEST(rejects_header, segment_after_good_header_lines_counts_lines_exactly) {
    const std::string text = std::string(hdr) + "\n\n# c\n#EXTINF:1,\na.ts\nb.ts\n";
    const error e = reject(text);
    EXPECT_EQ(e.code(), make_error_code(errc::missing_extinf));
    EXPECT_TRUE(e.context().starts_with("line 9: ")) << e.context();
}

TEST(rejects_header, error_message_names_category_rule_and_line) {
    const error e = reject("#EXTM3U\n#EXTINF:-3,\na.ts\n");
    const std::string msg = e.message();
    EXPECT_NE(msg.find("hls"), std::string::npos) << msg;
    EXPECT_NE(msg.find("line 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("non-negative"), std::string::npos) << msg;
    EXPECT_NE(msg.find("RFC 8216 4.3.2.1"), std::string::npos) << msg;
}

}  // namespace
}  // namespace kithara::hls
