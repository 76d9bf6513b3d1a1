// How a context tells a progressive file from an HLS playlist, without the network: the URL's
// extension, the Content-Type, the body's first bytes, and what the cache holds.
#include "detail/sniff.hpp"

#include <kithara/assets/asset_store.hpp>

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using kithara::stream_kind;
using kithara::detail::source;
using namespace kithara::detail;

std::vector<std::byte> bytes(std::string_view s) {
    std::vector<std::byte> v(s.size());
    std::memcpy(v.data(), s.data(), s.size());
    return v;
}

TEST(kithara_sniff, the_url_extension_decides_when_it_names_a_kind) {
    EXPECT_EQ(kind_from_url("https://h/live/index.m3u8?token=x"), source::hls);
    EXPECT_EQ(kind_from_url("https://h/a/song.mp3"), source::file);
    EXPECT_EQ(kind_from_url("https://h/book.m4b#t=10"), source::file);
    EXPECT_EQ(kind_from_url("https://h/a.opus"), source::file);
    EXPECT_EQ(kind_from_url("https://h/stream"), std::nullopt);
    EXPECT_EQ(kind_from_url("https://h/play.php?file=a.mp3"), std::nullopt);  // the path decides
    EXPECT_EQ(kind_from_url("https://h/a.m3u8/segment"), std::nullopt);
}

// .m3u names radio lists and (rarely) HLS: its text decides (radio_list_entries); .pls is a list.
TEST(kithara_sniff, m3u_and_pls_urls_are_lists_whose_text_decides) {
    EXPECT_EQ(kind_from_url("https://h/list.M3U"), source::list);
    EXPECT_EQ(kind_from_url("https://h/station.pls?sid=2"), source::list);
}

TEST(kithara_sniff, the_content_type_decides_when_it_names_a_kind) {
    EXPECT_EQ(kind_from_content_type("application/vnd.apple.mpegurl"), source::hls);
    EXPECT_EQ(kind_from_content_type("Application/VND.Apple.MpegURL ; charset=utf-8"), source::hls);
    EXPECT_EQ(kind_from_content_type("audio/mpeg"), source::file);
    EXPECT_EQ(kind_from_content_type("audio/mp4; codecs=\"mp4a.40.2\""), source::file);
    EXPECT_EQ(kind_from_content_type("application/octet-stream"), std::nullopt);
    EXPECT_EQ(kind_from_content_type("text/plain"), std::nullopt);
    EXPECT_EQ(kind_from_content_type(""), std::nullopt);
}

// audio/x-mpegurl and its kin serve HLS and radio lists alike (the body tells them apart);
// audio/x-scpls is PLS.
TEST(kithara_sniff, mpegurl_types_other_than_apples_and_scpls_are_lists) {
    EXPECT_EQ(kind_from_content_type("Audio/X-MpegURL; charset=utf-8"), source::list);
    EXPECT_EQ(kind_from_content_type("application/x-mpegurl"), source::list);
    EXPECT_EQ(kind_from_content_type("audio/x-scpls"), source::list);
}

TEST(kithara_sniff, a_body_starting_with_extm3u_and_hls_tags_is_hls) {
    EXPECT_EQ(kind_from_body(bytes("#EXTM3U\n#EXT-X-VERSION:3\n")), source::hls);
    EXPECT_EQ(kind_from_body(bytes("\xEF\xBB\xBF#EXTM3U\r\n#EXT-X-TARGETDURATION:6\n")),
              source::hls);  // UTF-8 BOM
    EXPECT_EQ(kind_from_body(bytes("\r\n  \t#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n")),
              source::hls);
    EXPECT_EQ(kind_from_body(bytes("ID3\x04\x00")), source::file);
    EXPECT_EQ(kind_from_body(bytes("#EXTINF:10,\nsong.mp3\n")), source::file);
    EXPECT_EQ(kind_from_body(bytes("#EXTM3")), source::file);  // cut short
    EXPECT_EQ(kind_from_body({}), source::file);
}

TEST(kithara_sniff, a_plain_or_extended_m3u_and_a_pls_body_are_lists) {
    EXPECT_EQ(kind_from_body(bytes("#EXTM3U\n#EXTINF:-1,Radio\nhttp://h/stream\n")), source::list);
    EXPECT_EQ(kind_from_body(bytes("http://h:8000/stream.mp3\r\nhttp://h:8002/\r\n")),
              source::list);
    EXPECT_EQ(kind_from_body(bytes("\n[Playlist]\nFile1=http://h/s\n")), source::list);
}

TEST(kithara_sniff, the_cache_tells_an_hls_asset_from_a_file_asset) {
    namespace fs = std::filesystem;
    const fs::path dir =
        fs::temp_directory_path() / ("kithara_sniff_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    {
        auto store = kithara::assets::asset_store::open(dir).value();
        const kithara::assets::key_policy keys;
        const std::string hls_url = "http://h/live";
        const std::string file_url = "http://h/audio";
        EXPECT_EQ(kind_from_cache(store, hls_url, keys), std::nullopt);  // nothing cached
        EXPECT_FALSE(store.contains(hls_url));                           // and nothing created
        {
            // An HLS stream stores its playlist under the URL it opened.
            auto a = store.open_asset(hls_url).value();
            auto r = a.open_atomic(hls_url).value();
            ASSERT_TRUE(r.replace(bytes("#EXTM3U\n")));
            // A file stores its bytes and metadata under names of its own.
            auto b = store.open_asset(file_url).value();
            auto m = b.open_atomic("kithara-file://meta/v1").value();
            ASSERT_TRUE(m.replace(bytes("meta")));
        }
        EXPECT_EQ(kind_from_cache(store, hls_url, keys), stream_kind::hls);
        EXPECT_EQ(kind_from_cache(store, file_url, keys), stream_kind::file);
    }
    fs::remove_all(dir);
}

}  // namespace
