// EXT-X-DEFINE substitution and the hard limits.
#include "hls_support.hpp"

namespace kithara::hls {
namespace {

using test::accept;
using test::reject;

TEST(variables, name_value_substituted_in_uri_lines_and_quoted_attributes) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-VERSION:8\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-DEFINE:NAME=\"host\",VALUE=\"https://cdn.example\"\n"
        "#EXT-X-DEFINE:NAME=\"tok-1_x\",VALUE=\"t=abc\"\n"
        "#EXT-X-MAP:URI=\"{$host}/init.mp4?{$tok-1_x}\"\n"
        "#EXT-X-KEY:METHOD=AES-128,URI=\"{$host}/k?{$tok-1_x}\"\n"
        "#EXTINF:4,{$not-substituted-in-titles}\n{$host}/s/{$host}.m4s?{$tok-1_x}\n");
    const auto& m = p.media();
    EXPECT_EQ(m.maps.at(0).uri, "https://cdn.example/init.mp4?t=abc");
    EXPECT_EQ(m.keys.at(0).uri, "https://cdn.example/k?t=abc");
    EXPECT_EQ(m.segments.at(0).uri, "https://cdn.example/s/https://cdn.example.m4s?t=abc");
    EXPECT_EQ(m.segments.at(0).title, "{$not-substituted-in-titles}");
    ASSERT_EQ(m.variables.size(), 2u);
    EXPECT_EQ(m.variables[1].name, "tok-1_x");
}

TEST(variables, values_are_not_expanded_again) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"x\"\n#EXT-X-DEFINE:NAME=\"b\",VALUE=\"{$a}\"\n"
        "#EXTINF:1,\n{$b}.ts\n");
    EXPECT_EQ(p.media().segments.at(0).uri, "{$a}.ts");
}

TEST(variables, text_that_is_not_a_reference_stays_literal) {
    auto p = accept("#EXTM3U\n#EXTINF:1,\na{$}b{c}{$bad name}.ts\n");
    EXPECT_EQ(p.media().segments.at(0).uri, "a{$}b{c}{$bad name}.ts");
}

TEST(variables, import_takes_the_master_playlists_value) {
    parse_options o;
    o.imports = {{"base", "https://cdn.example/v1"}};
    auto p = accept("#EXTM3U\n#EXT-X-DEFINE:IMPORT=\"base\"\n#EXTINF:1,\n{$base}/a.ts\n",
                    "https://x.example/m.m3u8", o);
    EXPECT_EQ(p.media().segments.at(0).uri, "https://cdn.example/v1/a.ts");
}

TEST(variables, import_before_the_first_master_tag_is_rejected_at_its_line) {
    parse_options o;
    o.imports = {{"base", "https://cdn.example/v1"}};
    auto p = parse_playlist(
        "#EXTM3U\n#EXT-X-DEFINE:IMPORT=\"base\"\n#EXT-X-STREAM-INF:BANDWIDTH=1\n{$base}/a.m3u8\n",
        "https://x.example/master.m3u8", o);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code(), make_error_code(errc::misplaced_tag)) << p.error().message();
    EXPECT_TRUE(p.error().context().starts_with("line 2: ")) << p.error().context();
}

TEST(variables, master_variables_are_kept_for_import) {
    auto p = accept(
        "#EXTM3U\n#EXT-X-DEFINE:NAME=\"v\",VALUE=\"2\"\n#EXT-X-STREAM-INF:BANDWIDTH=1\n"
        "a{$v}.m3u8\n");
    ASSERT_EQ(p.master().variables.size(), 1u);
    EXPECT_EQ(p.master().variants.at(0).uri, "a2.m3u8");
}

TEST(variables, queryparam_takes_the_decoded_url_parameter) {
    auto p = accept("#EXTM3U\n#EXT-X-DEFINE:QUERYPARAM=\"token\"\n#EXTINF:1,\na.ts?t={$token}\n",
                    "https://cdn.example/a/index.m3u8?x=1&token=a%2Fb");
    EXPECT_EQ(p.media().segments.at(0).uri, "a.ts?t=a/b");
}

TEST(limits, input_size) {
    parse_options o;
    o.limits.max_input_bytes = 64;
    const error e = reject(std::string("#EXTM3U\n") + std::string(100, '#') + "\n", o);
    EXPECT_EQ(e.code(), make_error_code(errc::limit_exceeded));
    EXPECT_NE(e.context().find("max_input_bytes"), std::string::npos);
}

TEST(limits, line_length) {
    parse_options o;
    o.limits.max_line_length = 100;
    const error e = reject("#EXTM3U\n#EXTINF:1,\n" + std::string(101, 'a') + "\n", o);
    EXPECT_EQ(e.code(), make_error_code(errc::limit_exceeded));
    EXPECT_TRUE(e.context().starts_with("line 3: ")) << e.context();
    EXPECT_NE(e.context().find("max_line_length"), std::string::npos);
}

TEST(limits, segment_count) {
    parse_options o;
    o.limits.max_segments = 3;
    std::string text = "#EXTM3U\n";
    for (int i = 0; i < 3; ++i) text += "#EXTINF:1,\na.ts\n";
    accept(text, "https://x/", o);
    text += "#EXTINF:1,\nb.ts\n";
    const error e = reject(text, o);
    EXPECT_EQ(e.code(), make_error_code(errc::limit_exceeded));
    EXPECT_TRUE(e.context().starts_with("line 9: ")) << e.context();
    EXPECT_NE(e.context().find("max_segments"), std::string::npos);
}

TEST(limits, variant_and_rendition_counts) {
    parse_options o;
    o.limits.max_variants = 2;
    o.limits.max_renditions = 1;
    const std::string v = "#EXT-X-STREAM-INF:BANDWIDTH=1\na\n";
    accept("#EXTM3U\n" + v + v, "https://x/", o);
    EXPECT_EQ(reject("#EXTM3U\n" + v + v + v, o).code(), make_error_code(errc::limit_exceeded));
    const std::string r = "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"n\"\n";
    accept("#EXTM3U\n" + r, "https://x/", o);
    const error e = reject("#EXTM3U\n" + r + r, o);
    EXPECT_EQ(e.code(), make_error_code(errc::limit_exceeded));
    EXPECT_NE(e.context().find("max_renditions"), std::string::npos);
}

TEST(limits, attribute_count) {
    parse_options o;
    o.limits.max_attributes = 3;
    const error e = reject("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,A=1,B=2,C=3\na\n", o);
    EXPECT_EQ(e.code(), make_error_code(errc::limit_exceeded));
    EXPECT_NE(e.context().find("max_attributes"), std::string::npos);
}

TEST(limits, variable_count) {
    parse_options o;
    o.limits.max_variables = 2;
    std::string text = "#EXTM3U\n";
    for (int i = 0; i < 3; ++i) {
        text += "#EXT-X-DEFINE:NAME=\"v" + std::to_string(i) + "\",VALUE=\"x\"\n";
    }
    const error e = reject(text, o);
    EXPECT_EQ(e.code(), make_error_code(errc::limit_exceeded));
    EXPECT_TRUE(e.context().starts_with("line 4: ")) << e.context();
}

TEST(limits, no_billion_laughs_through_define) {
    // A long value referenced many times per line, on many lines: stopped by the expansion
    // budget long before memory grows, in time linear in the input.
    std::string text =
        "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"" + std::string(4000, 'x') + "\"\n";
    std::string line;
    for (int i = 0; i < 15; ++i) line += "{$a}";
    for (int i = 0; i < 2000; ++i) text += "#EXTINF:1,\n" + line + "\n";
    const error e = reject(text);
    EXPECT_EQ(e.code(), make_error_code(errc::limit_exceeded));
    EXPECT_NE(e.context().find("max_expansion_bytes"), std::string::npos) << e.context();
}

TEST(limits, substitution_cannot_exceed_the_line_length) {
    parse_options o;
    o.limits.max_line_length = 1000;
    const std::string text = "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"" + std::string(600, 'x') +
                             "\"\n#EXTINF:1,\n{$a}{$a}\n";
    const error e = reject(text, o);
    EXPECT_EQ(e.code(), make_error_code(errc::limit_exceeded));
    EXPECT_TRUE(e.context().starts_with("line 4: ")) << e.context();
}

}  // namespace
}  // namespace kithara::hls
