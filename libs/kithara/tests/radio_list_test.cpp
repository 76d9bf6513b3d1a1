// Radio lists without the network: what radio_list_entries makes of M3U and PLS texts as
// stations and directories serve them, and what it refuses (HLS, binary, no entries).
#include "detail/radio_list.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using kithara::detail::radio_list_entries;
using list = std::vector<std::string>;

TEST(kithara_radio_list, a_plain_m3u_names_its_urls_in_order) {
    const auto e = radio_list_entries(
        "http://ice1.example:8000/stream.mp3\r\n\r\nhttp://ice2.example:8000/stream.mp3\r\n",
        "http://dir.example/station.m3u");
    ASSERT_TRUE(e);
    EXPECT_EQ(*e,
              (list{"http://ice1.example:8000/stream.mp3", "http://ice2.example:8000/stream.mp3"}));
}

TEST(kithara_radio_list, an_extended_m3u_skips_comments_and_resolves_relative_entries) {
    const auto e = radio_list_entries(
        "\xEF\xBB\xBF#EXTM3U\n#EXTINF:-1,Station One\nlive/one.aac\n# a comment\n"
        "#EXTINF:-1,Two\n../two.mp3\nhttps://cdn.example/three.ogg\nlive/one.aac\n",
        "https://radio.example/lists/all.m3u?token=x");
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, (list{"https://radio.example/lists/live/one.aac", "https://radio.example/two.mp3",
                        "https://cdn.example/three.ogg"}))
        << "relative entries resolve against the list, duplicates go";
}

TEST(kithara_radio_list, a_pls_names_its_files_by_number) {
    const auto e = radio_list_entries(
        "[playlist]\nNumberOfEntries=3\nFile2=http://b.example/s\nTitle2=B\n"
        "File1 = http://a.example/s \nLength1=-1\nFile10=http://j.example/s\nVersion=2\n",
        "http://dir.example/x.pls");
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, (list{"http://a.example/s", "http://b.example/s", "http://j.example/s"}));
}

TEST(kithara_radio_list, keys_outside_the_playlist_section_and_other_schemes_are_left_out) {
    const auto e = radio_list_entries(
        "[other]\nFile1=http://no.example/\n[PLAYLIST]\nFile1=rtsp://x.example/s\n"
        "File2=C:\\Music\\a.mp3\nFileX=http://no.example/x\nFile3=http://yes.example/\n",
        "http://dir.example/x.pls");
    ASSERT_TRUE(e);
    EXPECT_EQ(*e, (list{"http://yes.example/"}));
}

TEST(kithara_radio_list, an_m3u_with_hls_tags_is_not_a_list) {
    EXPECT_FALSE(radio_list_entries("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\na.ts\n",
                                    "http://h/index.m3u"));
    EXPECT_FALSE(radio_list_entries("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000\nlow.m3u8\n",
                                    "http://h/master.m3u"));
}

TEST(kithara_radio_list, bytes_that_are_not_text_are_not_a_list) {
    EXPECT_FALSE(radio_list_entries(std::string("ID3\x04\x00\x00", 6), "http://h/a.m3u"));
    EXPECT_FALSE(radio_list_entries(std::string(9000, 'a'), "http://h/a.m3u"));  // one long line
}

TEST(kithara_radio_list, a_list_naming_nothing_is_an_empty_list) {
    const auto blank = radio_list_entries("", "http://h/a.m3u");
    ASSERT_TRUE(blank);
    EXPECT_TRUE(blank->empty());
    const auto comments = radio_list_entries("#EXTM3U\n#EXTINF:-1,Nothing\n", "http://h/a.m3u");
    ASSERT_TRUE(comments);
    EXPECT_TRUE(comments->empty());
    const auto pls = radio_list_entries("[playlist]\nNumberOfEntries=0\n", "http://h/a.pls");
    ASSERT_TRUE(pls);
    EXPECT_TRUE(pls->empty());
}

TEST(kithara_radio_list, entries_are_bounded) {
    std::string text;
    for (int i = 0; i < 200; ++i) text += "http://h/s" + std::to_string(i) + "\n";
    const auto e = radio_list_entries(text, "http://h/a.m3u");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->size(), kithara::detail::max_list_entries);
    EXPECT_EQ(e->front(), "http://h/s0");
}

}  // namespace
