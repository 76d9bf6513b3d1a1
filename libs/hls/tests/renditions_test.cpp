// Alternate audio selection (detail/renditions.hpp): RFC 4647 language matching, CHANNELS, and the
// order name > languages (LANGUAGE, then ASSOC-LANGUAGE) > DEFAULT > AUTOSELECT > first, with the
// same rendition kept across the groups of an ABR ladder.
#include "detail/renditions.hpp"

#include <kithara/hls/parser.hpp>

#include <gtest/gtest.h>

#include <string>

namespace kithara::hls::detail {
namespace {

master_playlist master(const std::string& body) {
    auto p = parse_playlist(body, "https://example.com/m/master.m3u8");
    EXPECT_TRUE(p) << p.error().message();
    return p->master();
}

const std::string ladder = R"(#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="lo",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="en_lo.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="lo",NAME="Deutsch",LANGUAGE="de-DE",AUTOSELECT=YES,CHANNELS="2",URI="de_lo.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="lo",NAME="English 5.1",LANGUAGE="en",CHANNELS="6",URI="en51_lo.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="lo",NAME="Commentary",LANGUAGE="fr",ASSOC-LANGUAGE="es",CHANNELS="2",URI="c_lo.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="hi",NAME="Deutsch",LANGUAGE="de-DE",AUTOSELECT=YES,CHANNELS="2",URI="de_hi.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="hi",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="en_hi.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="hi",NAME="Main",LANGUAGE="en",CHANNELS="2"
#EXT-X-STREAM-INF:BANDWIDTH=300000,AUDIO="lo"
v_lo.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=900000,AUDIO="hi"
v_hi.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=100000
plain.m3u8
)";

std::string name_of(const master_playlist& m, std::optional<std::size_t> i) {
    return i ? m.renditions[*i].name : "<none>";
}

TEST(hls_renditions_select, language_ranges_match_by_rfc_4647) {
    EXPECT_EQ(language_match("de", "de"), 3);
    EXPECT_EQ(language_match("DE", "de"), 3);          // case-insensitive
    EXPECT_EQ(language_match("de", "de-AT"), 2);       // filtering: the range covers the tag
    EXPECT_EQ(language_match("de-AT", "de"), 1);       // lookup: the range truncated
    EXPECT_EQ(language_match("zh-Hant-TW", "zh"), 1);  // two truncations
    EXPECT_EQ(language_match("de-x-foo", "de"), 1);    // a singleton goes with its subtag
    EXPECT_EQ(language_match("d", "de"), 0);           // not a subtag boundary
    EXPECT_EQ(language_match("de", "den"), 0);
    EXPECT_EQ(language_match("en-GB", "en-US"), 0);
    EXPECT_EQ(language_match("", "en"), 0);
}

TEST(hls_renditions_select, channels_take_the_first_value) {
    EXPECT_EQ(channel_count(std::string("2")), 2u);
    EXPECT_EQ(channel_count(std::string("6/JOC")), 6u);
    EXPECT_EQ(channel_count(std::string("16/-/BINAURAL")), 16u);
    EXPECT_EQ(channel_count(std::nullopt), 0u);
    EXPECT_EQ(channel_count(std::string("x")), 0u);
}

TEST(hls_renditions_select, order_is_name_then_languages_then_default_autoselect_first) {
    const auto m = master(ladder);
    audio_preferences p;
    EXPECT_EQ(name_of(m, select_rendition(m, "lo", p)), "English");  // DEFAULT
    p.languages = {"de-DE-1996"};
    EXPECT_EQ(name_of(m, select_rendition(m, "lo", p)), "Deutsch");  // lookup: de-DE
    p.languages = {"de"};
    EXPECT_EQ(name_of(m, select_rendition(m, "lo", p)), "Deutsch");  // filtering
    p.languages = {"it", "es"};
    EXPECT_EQ(name_of(m, select_rendition(m, "lo", p)), "Commentary");  // ASSOC-LANGUAGE
    p.languages = {"en"};
    p.channels = 6;
    EXPECT_EQ(name_of(m, select_rendition(m, "lo", p)), "English 5.1");
    p.channels = 2;
    EXPECT_EQ(name_of(m, select_rendition(m, "lo", p)), "English");
    p.name = "Commentary";
    EXPECT_EQ(name_of(m, select_rendition(m, "lo", p)), "Commentary");  // the name wins
    EXPECT_EQ(select_rendition(m, "none", p), std::nullopt);
}

TEST(hls_renditions_select, the_other_tiers_keep_the_rendition_and_its_uri) {
    const auto m = master(ladder);
    audio_preferences p;
    p.languages = {"de"};
    const auto lo = audio_for(m, 0, p);
    ASSERT_TRUE(lo.rendition);
    EXPECT_EQ(lo.uri, "https://example.com/m/de_lo.m3u8");
    const auto hi = audio_for(m, 1, p, &m.renditions[*lo.rendition]);
    EXPECT_EQ(hi.uri, "https://example.com/m/de_hi.m3u8");
    // A rendition without URI is in the variant's own stream.
    p = {};
    p.name = "Main";
    const auto main = audio_for(m, 1, p);
    EXPECT_EQ(name_of(m, main.rendition), "Main");
    EXPECT_EQ(main.uri, "https://example.com/m/v_hi.m3u8");
    // A variant without an AUDIO group plays its own URI.
    EXPECT_EQ(audio_for(m, 2, p).uri, "https://example.com/m/plain.m3u8");
    EXPECT_FALSE(audio_for(m, 2, p).rendition);
    // stream_info's view of the group.
    std::vector<rendition_info> infos;
    std::optional<std::size_t> chosen;
    describe_audio(m, 1, hi, infos, chosen);
    ASSERT_EQ(infos.size(), 3u);
    ASSERT_TRUE(chosen);
    EXPECT_EQ(infos[*chosen].name, "Deutsch");
    EXPECT_EQ(infos[*chosen].language, "de-DE");
    EXPECT_EQ(infos[*chosen].group, "hi");
    EXPECT_EQ(infos[*chosen].channels, 2u);
    EXPECT_EQ(infos[2].uri, "");  // "Main": in the variant's stream
}

}  // namespace
}  // namespace kithara::hls::detail
