// kithara::hls::load_playlist over the loopback test server: the final URL after redirects is
// the base, HTTP errors and rejected playlists come back as errors naming what and where.
#include <test_server.hpp>

#include <kithara/hls/loader.hpp>
#include <kithara/net/error.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace kithara::hls {
namespace {

const char* media_text =
    "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n"
    "#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.0,\nseg-0.m4s\n#EXTINF:4.0,\n../b/seg-1.m4s\n"
    "#EXT-X-ENDLIST\n";

struct env {
    kithara::test::http_server srv;
    worker::io_runtime io;
    std::optional<net::client> client;
    env() {
        EXPECT_TRUE(io.start());
        client.emplace(io.executor());
    }
    ~env() { client.reset(); }  // before the io thread that runs it
};

TEST(hls_loader, fetches_a_media_playlist_and_resolves_against_its_url) {
    env e;
    e.srv.put("/v/a/index.m3u8", media_text);
    auto p = load_playlist(*e.client, e.srv.url("/v/a/index.m3u8"));
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(p->final_url, e.srv.url("/v/a/index.m3u8"));
    EXPECT_FALSE(p->etag.empty());
    const auto& m = p->content.media();
    ASSERT_EQ(m.segments.size(), 2u);
    EXPECT_EQ(m.segments[0].resolved_uri, e.srv.url("/v/a/seg-0.m4s"));
    EXPECT_EQ(m.segments[1].resolved_uri, e.srv.url("/v/b/seg-1.m4s"));
    EXPECT_EQ(m.maps.at(0).resolved_uri, e.srv.url("/v/a/init.mp4"));
    EXPECT_EQ(e.srv.log_for("/v/a/index.m3u8").size(), 1u);
}

TEST(hls_loader, after_a_redirect_the_final_url_is_the_base) {
    env e;
    e.srv.put("/moved/deep/index.m3u8", media_text);
    e.srv.put("/start/index.m3u8", "unused");
    e.srv.add_fault("/start/index.m3u8", {.redirect_to = "/moved/deep/index.m3u8"}, 1, 0);
    auto p = load_playlist(*e.client, e.srv.url("/start/index.m3u8"));
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_EQ(p->final_url, e.srv.url("/moved/deep/index.m3u8"));
    EXPECT_EQ(p->content.media().segments[0].resolved_uri, e.srv.url("/moved/deep/seg-0.m4s"));
    EXPECT_EQ(p->content.media().url, e.srv.url("/moved/deep/index.m3u8"));
}

TEST(hls_loader, fetches_a_master_playlist) {
    env e;
    e.srv.put("/master.m3u8",
              "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS=\"mp4a.40.2\"\nlo/index.m3u8\n"
              "#EXT-X-STREAM-INF:BANDWIDTH=128000,CODECS=\"mp4a.40.2\"\nhi/index.m3u8\n");
    auto p = load_playlist(*e.client, e.srv.url("/master.m3u8"));
    ASSERT_TRUE(p) << p.error().message();
    ASSERT_TRUE(p->content.is_master());
    EXPECT_EQ(p->content.master().variants.at(1).resolved_uri, e.srv.url("/hi/index.m3u8"));
}

TEST(hls_loader, http_errors_pass_through_from_net) {
    env e;
    load_options o;
    o.request.retry.max_retries = 0;
    auto p = load_playlist(*e.client, e.srv.url("/missing.m3u8"), o);
    ASSERT_FALSE(p);
    EXPECT_EQ(net::http_status_of(p.error()), 404) << p.error().message();
}

TEST(hls_loader, a_rejected_playlist_names_its_line) {
    env e;
    e.srv.put("/bad.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\nb.ts\n");
    auto p = load_playlist(*e.client, e.srv.url("/bad.m3u8"));
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), errc::missing_extinf);
    EXPECT_TRUE(p.error().context().starts_with("line 5: ")) << p.error().context();
}

TEST(hls_loader, the_input_limit_bounds_the_download) {
    env e;
    e.srv.put("/big.m3u8", "#EXTM3U\n" + std::string(10000, '#') + "\n");
    load_options o;
    o.parse.limits.max_input_bytes = 1000;
    auto p = load_playlist(*e.client, e.srv.url("/big.m3u8"), o);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), net::errc::body_too_large) << p.error().message();
}

TEST(hls_loader, a_binary_body_is_not_a_playlist) {
    env e;
    e.srv.put("/bin.m3u8", std::string("#EXTM3U\n\0\0\0", 11));
    auto p = load_playlist(*e.client, e.srv.url("/bin.m3u8"));
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), errc::bad_response);
}

}  // namespace
}  // namespace kithara::hls
