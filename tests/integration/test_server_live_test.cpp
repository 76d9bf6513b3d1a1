// The test server's live HLS generator (test_server_live.hpp) over real loopback HTTP with a raw
// client: the window in accelerated time, loop wraps, validators, slide-out, ENDLIST, EVENT,
// fMP4 sources, LL-HLS parts and blocking reload, and each fault. Waits are on publish events
// (wait_published) or on the server holding a request, never sleeps.
#include "test_server_live.hpp"
#include "raw_http_client.hpp"
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kithara::test {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

const std::filesystem::path fixtures{KITHARA_HLS_FIXTURES_DIR};

// The playlist's tags and URIs, as a client sees them.
struct parsed {
    std::uint64_t media_sequence = 0;
    std::uint64_t discontinuity_sequence = 0;
    std::vector<std::string> uris;   // segment URIs, in order
    std::vector<std::string> parts;  // EXT-X-PART URIs
    std::vector<std::string> pdts;
    std::vector<std::size_t> discontinuity_before;  // indices into uris
    std::string preload_hint;
    bool endlist = false;
};

parsed parse(const std::string& body) {
    parsed p;
    std::istringstream in(body);
    std::string line;
    auto value = [&](const char* tag) { return line.substr(std::string(tag).size()); };
    auto quoted = [&](const std::string& key) {
        const auto at = line.find(key + "=\"");
        if (at == std::string::npos) return std::string();
        const auto from = at + key.size() + 2;
        return line.substr(from, line.find('"', from) - from);
    };
    while (std::getline(in, line)) {
        if (line.rfind("#EXT-X-MEDIA-SEQUENCE:", 0) == 0)
            p.media_sequence = std::stoull(value("#EXT-X-MEDIA-SEQUENCE:"));
        else if (line.rfind("#EXT-X-DISCONTINUITY-SEQUENCE:", 0) == 0)
            p.discontinuity_sequence = std::stoull(value("#EXT-X-DISCONTINUITY-SEQUENCE:"));
        else if (line == "#EXT-X-DISCONTINUITY")
            p.discontinuity_before.push_back(p.uris.size());
        else if (line.rfind("#EXT-X-PROGRAM-DATE-TIME:", 0) == 0)
            p.pdts.push_back(value("#EXT-X-PROGRAM-DATE-TIME:"));
        else if (line.rfind("#EXT-X-PART:", 0) == 0)
            p.parts.push_back(quoted("URI"));
        else if (line.rfind("#EXT-X-PRELOAD-HINT:", 0) == 0)
            p.preload_hint = quoted("URI");
        else if (line == "#EXT-X-ENDLIST")
            p.endlist = true;
        else if (!line.empty() && line[0] != '#')
            p.uris.push_back(line);
    }
    return p;
}

std::string read(const std::filesystem::path& f) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// 2 s segments of 188 * 40 bytes; time_scale 20 publishes one every 100 ms.
live_stream_options synthetic_options(std::size_t count = 5, double time_scale = 20) {
    live_stream_options o;
    o.path = "/live/radio.m3u8";
    o.source = live_source::synthetic(count, 2.0, 188 * 40);
    o.window = 3;
    o.time_scale = time_scale;
    return o;
}

std::unique_ptr<live_stream> make(http_server& srv, live_stream_options o) {
    std::string error;
    auto live = live_stream::create(srv, std::move(o), error);
    EXPECT_TRUE(live) << error;
    return live;
}

double ms_between(clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

TEST(test_server_live, window_advances_with_wall_time) {
    http_server srv;
    auto live = make(srv, synthetic_options());
    raw_client c(srv.port());
    auto first = c.get("/live/radio.m3u8");
    ASSERT_EQ(first.status, 200);
    EXPECT_EQ(first.headers["content-type"], "application/vnd.apple.mpegurl");
    auto p = parse(first.body);
    EXPECT_EQ(p.media_sequence, 0u);
    EXPECT_EQ(p.uris, (std::vector<std::string>{"radio_0.ts", "radio_1.ts", "radio_2.ts"}));
    EXPECT_FALSE(p.endlist);

    ASSERT_TRUE(live->wait_published(5, std::nullopt, 5s));
    p = parse(c.get("/live/radio.m3u8").body);
    EXPECT_GE(p.media_sequence, 3u);
    EXPECT_EQ(p.uris.size(), 3u);
    EXPECT_EQ(p.uris.front(), "radio_" + std::to_string(p.media_sequence) + ".ts");
    // One 2 s segment per 100 ms of wall time.
    for (std::uint64_t msn = 3; msn < 5; ++msn)
        EXPECT_NEAR(ms_between(*live->published_at(msn), *live->published_at(msn + 1)), 100, 1);
    EXPECT_EQ(*live->published_at(0), *live->published_at(2));  // the initial window at once
    EXPECT_NEAR(ms_between(*live->published_at(2), *live->published_at(3)), 100, 1);
    EXPECT_EQ(live->playlist_requests(), 2u);
}

TEST(test_server_live, loop_wraps_with_discontinuities_and_sequence) {
    http_server srv;
    auto o = synthetic_options(3);
    o.media_sequence = 100;
    o.discontinuity_sequence = 7;
    auto live = make(srv, o);
    raw_client c(srv.port());
    live->freeze(10s, false);  // hold still while reading
    ASSERT_TRUE(live->wait_published(102, std::nullopt, 1s));
    live->jump(5);  // complete: 8 segments, window 5..7 = sources 2, 0, 1
    auto p = parse(c.get("/live/radio.m3u8").body);
    EXPECT_EQ(p.media_sequence, 105u);
    EXPECT_EQ(p.discontinuity_sequence, 8u);  // the wrap before 103 left with it
    EXPECT_EQ(p.discontinuity_before, (std::vector<std::size_t>{1}));  // before radio_106
    EXPECT_EQ(live->source_index(106), 0u);
    EXPECT_EQ(c.get("/live/radio_106.ts").body, *o.source.segments[0].bytes);
    EXPECT_EQ(c.get("/live/radio_107.ts").body, *o.source.segments[1].bytes);

    live->jump(1);  // radio_106 (with the tag) is first now
    p = parse(c.get("/live/radio.m3u8").body);
    EXPECT_EQ(p.media_sequence, 106u);
    EXPECT_EQ(p.discontinuity_sequence, 9u);
    EXPECT_TRUE(p.discontinuity_before.empty());
    EXPECT_EQ(live->discontinuity_sequence(), 9u);
}

TEST(test_server_live, playlist_etag_and_last_modified_give_304) {
    http_server srv;
    auto live = make(srv, synthetic_options(5, 0.001));  // does not advance by itself
    raw_client c(srv.port());
    auto a = c.get("/live/radio.m3u8");
    auto b = c.get("/live/radio.m3u8");
    ASSERT_FALSE(a.headers["etag"].empty());
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(a.headers["etag"], b.headers["etag"]);
    auto by_etag = c.get("/live/radio.m3u8", "If-None-Match: " + a.headers["etag"] + "\r\n");
    EXPECT_EQ(by_etag.status, 304);
    EXPECT_TRUE(by_etag.body.empty());
    EXPECT_EQ(by_etag.headers["etag"], a.headers["etag"]);
    auto by_date =
        c.get("/live/radio.m3u8", "If-Modified-Since: " + a.headers["last-modified"] + "\r\n");
    EXPECT_EQ(by_date.status, 304);

    live->jump(1);
    auto changed = c.get("/live/radio.m3u8", "If-None-Match: " + a.headers["etag"] + "\r\n");
    EXPECT_EQ(changed.status, 200);
    EXPECT_NE(changed.headers["etag"], a.headers["etag"]);
    EXPECT_EQ(parse(changed.body).media_sequence, 1u);
    auto since =
        c.get("/live/radio.m3u8", "If-Modified-Since: " + a.headers["last-modified"] + "\r\n");
    EXPECT_EQ(since.status, 200);  // Last-Modified moved on with the body
    EXPECT_EQ(live->not_modified(), 2u);
    EXPECT_EQ(live->playlist_requests(), 6u);
}

TEST(test_server_live, segments_serve_ranges_and_404_after_sliding_out) {
    http_server srv;
    auto o = synthetic_options(5, 10);  // a segment per 200 ms
    o.grace = 100ms;
    auto live = make(srv, o);
    raw_client c(srv.port());
    auto ranged = c.get("/live/radio_1.ts", "Range: bytes=188-375\r\n");
    EXPECT_EQ(ranged.status, 206);
    EXPECT_EQ(ranged.body, o.source.segments[1].bytes->substr(188, 188));
    EXPECT_EQ(ranged.headers["etag"], "\"radio-1\"");
    EXPECT_EQ(c.get("/live/radio_4.ts").status, 404);  // not published yet

    ASSERT_TRUE(live->wait_published(4, std::nullopt, 5s));
    // Segment 0 left the window when 3 was published, 200 ms ago: past the grace. Segment 1 left
    // just now, within it.
    EXPECT_EQ(c.get("/live/radio_0.ts").status, 404);
    EXPECT_EQ(c.get("/live/radio_1.ts").status, 200);
    EXPECT_EQ(c.get("/live/radio_4.ts").body, *o.source.segments[4].bytes);
    EXPECT_EQ(c.get("/live/radio_x.ts").status, 404);
    EXPECT_EQ(srv.log_for("/live/radio_0.ts").back().status, 404);  // a stale fetch shows
}

TEST(test_server_live, endlist_after_n_segments) {
    http_server srv;
    auto o = synthetic_options();
    o.end_after = 5;
    auto live = make(srv, o);
    EXPECT_FALSE(live->ended());
    EXPECT_FALSE(live->published_at(5).has_value());
    ASSERT_TRUE(live->wait_published(4, std::nullopt, 5s));
    raw_client c(srv.port());
    auto p = parse(c.get("/live/radio.m3u8").body);
    EXPECT_TRUE(p.endlist);
    EXPECT_TRUE(live->ended());
    EXPECT_EQ(p.uris, (std::vector<std::string>{"radio_2.ts", "radio_3.ts", "radio_4.ts"}));

    auto once = synthetic_options(3);  // no loop: the source once, at once (window 3)
    once.path = "/live/once.m3u8";
    once.loop = false;
    auto vod = make(srv, once);
    EXPECT_TRUE(parse(c.get("/live/once.m3u8").body).endlist);
}

TEST(test_server_live, event_playlist_keeps_every_segment) {
    http_server srv;
    auto o = synthetic_options();
    o.type = live_playlist_type::event;
    o.window = 2;
    auto live = make(srv, o);
    ASSERT_TRUE(live->wait_published(5, std::nullopt, 5s));
    raw_client c(srv.port());
    const auto body = c.get("/live/radio.m3u8").body;
    EXPECT_NE(body.find("#EXT-X-PLAYLIST-TYPE:EVENT\n"), std::string::npos);
    auto p = parse(body);
    EXPECT_EQ(p.media_sequence, 0u);
    EXPECT_GE(p.uris.size(), 6u);
    EXPECT_EQ(p.uris.front(), "radio_0.ts");
    EXPECT_EQ(c.get("/live/radio_0.ts").status, 200);
}

TEST(test_server_live, fmp4_source_from_a_vod_playlist_with_map_pdt_and_start) {
    const auto dir = fixtures / "fmp4_multi";
    std::string error;
    auto source = live_source::from_vod_playlist(dir / "a128.m3u8", error);
    ASSERT_TRUE(source) << error;
    ASSERT_EQ(source->segments.size(), 10u);
    EXPECT_EQ(source->extension, ".m4s");
    EXPECT_DOUBLE_EQ(source->segments[0].duration, 2.020136);

    http_server srv;
    live_stream_options o;
    o.path = "/hls/live.m3u8";
    o.source = *source;
    o.window = 4;
    o.time_scale = 0.001;
    o.pdt_epoch = std::chrono::system_clock::from_time_t(1'800'000'000);
    o.start_offset = -6;
    o.start_precise = true;
    auto live = make(srv, o);
    raw_client c(srv.port());
    const auto body = c.get("/hls/live.m3u8").body;
    EXPECT_NE(body.find("#EXT-X-MAP:URI=\"live_init.mp4\"\n"), std::string::npos);
    EXPECT_NE(body.find("#EXT-X-START:TIME-OFFSET=-6.000,PRECISE=YES\n"), std::string::npos);
    EXPECT_NE(body.find("#EXT-X-TARGETDURATION:2\n"), std::string::npos);
    auto p = parse(body);
    ASSERT_EQ(p.pdts.size(), 4u);
    EXPECT_EQ(p.pdts[0], "2027-01-15T08:00:00.000Z");
    EXPECT_EQ(p.pdts[1], "2027-01-15T08:00:02.020Z");
    EXPECT_EQ(c.get("/hls/live_init.mp4").body, read(dir / "a128_init.mp4"));
    EXPECT_EQ(c.get("/hls/" + p.uris[3]).body, read(dir / "a128_003.m4s"));

    auto ranged = live_source::from_vod_playlist(fixtures / "byterange_ts/index.m3u8", error);
    ASSERT_TRUE(ranged) << error;
    ASSERT_EQ(ranged->segments.size(), 5u);
    EXPECT_EQ(*ranged->segments[2].bytes,
              read(fixtures / "byterange_ts/media.ts").substr(53016, 26884));
    EXPECT_FALSE(live_source::from_vod_playlist(fixtures / "aes_ts/iv_explicit.m3u8", error));
    EXPECT_NE(error.find("encrypted"), std::string::npos);
    EXPECT_FALSE(live_source::from_vod_playlist(fixtures / "none.m3u8", error));
    EXPECT_NE(error.find("none.m3u8"), std::string::npos);
}

live_stream_options ll_options() {
    auto o = synthetic_options(5, 10);  // a segment per 200 ms, a part per 50 ms
    o.parts_per_segment = 4;
    return o;
}

TEST(test_server_live, ll_hls_parts_cut_at_packets_and_advertised) {
    http_server srv;
    auto o = ll_options();
    auto live = make(srv, o);
    ASSERT_TRUE(live->wait_published(3, 1, 5s));
    raw_client c(srv.port());
    const auto body = c.get("/live/radio.m3u8").body;
    EXPECT_NE(body.find("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500\n"),
              std::string::npos);
    EXPECT_NE(body.find("#EXT-X-PART-INF:PART-TARGET=0.500\n"), std::string::npos);
    EXPECT_NE(body.find("#EXT-X-PART:DURATION=0.50000,URI=\"radio_2.p0.ts\",INDEPENDENT=YES\n"),
              std::string::npos);
    auto p = parse(body);
    EXPECT_FALSE(p.preload_hint.empty());
    std::string joined;
    for (int j = 0; j < 4; ++j) {
        auto part = c.get("/live/radio_2.p" + std::to_string(j) + ".ts");
        ASSERT_EQ(part.status, 200);
        EXPECT_EQ(part.body.size() % 188, 0u);
        EXPECT_EQ(part.body.size(), 188u * 10);
        joined += part.body;
    }
    EXPECT_EQ(joined, *o.source.segments[2].bytes);
    EXPECT_EQ(c.get("/live/radio_2.p4.ts").status, 404);
}

TEST(test_server_live, blocking_reload_returns_when_the_part_is_published) {
    http_server srv;
    auto live = make(srv, ll_options());
    raw_client c(srv.port());
    for (int round = 0; round < 3; ++round) {
        // The next part, from one snapshot: the preload hint "radio_<msn>.p<part>.ts".
        const auto hint = parse(c.get("/live/radio.m3u8").body).preload_hint;
        const auto dot = hint.find(".p");
        ASSERT_NE(dot, std::string::npos) << hint;
        const auto msn = std::stoull(hint.substr(6, dot - 6));
        const int part = std::stoi(hint.substr(dot + 2));
        const auto at = *live->part_published_at(msn, part);
        auto r = c.get("/live/radio.m3u8?_HLS_msn=" + std::to_string(msn) +
                       "&_HLS_part=" + std::to_string(part));
        const auto done = clock::now();
        ASSERT_EQ(r.status, 200);
        const auto uri = "radio_" + std::to_string(msn) + ".p" + std::to_string(part) + ".ts";
        EXPECT_NE(r.body.find(uri), std::string::npos) << r.body;
        EXPECT_GE(done, at);
        EXPECT_LT(ms_between(at, done), 40);  // answered as soon as it is out, not at a poll
    }
    EXPECT_GE(live->blocked_requests(), 1u);

    // The preload hint's part is held too, and answered when published.
    const auto hint = parse(c.get("/live/radio.m3u8").body).preload_hint;
    auto part = c.get("/live/" + hint);
    EXPECT_EQ(part.status, 200);
}

TEST(test_server_live, blocking_reload_rejects_far_requests_and_times_out) {
    http_server srv;
    auto o = ll_options();
    o.block_timeout = 150ms;
    auto live = make(srv, o);
    raw_client c(srv.port());
    const auto last = live->last_media_sequence();
    EXPECT_EQ(c.get("/live/radio.m3u8?_HLS_msn=" + std::to_string(last + 3)).status, 400);
    EXPECT_EQ(c.get("/live/radio.m3u8?_HLS_part=1").status, 400);
    EXPECT_EQ(c.get("/live/radio.m3u8?_HLS_msn=x").status, 400);
    EXPECT_EQ(live->bad_requests(), 3u);

    live->freeze(10s);  // nothing is published: the request times out with the playlist
    const auto msn = live->last_media_sequence() + 1;
    const auto t0 = clock::now();
    auto r = c.get("/live/radio.m3u8?_HLS_msn=" + std::to_string(msn));
    const auto waited = ms_between(t0, clock::now());
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("radio_" + std::to_string(msn) + ".ts"), std::string::npos);
    EXPECT_GE(waited, 140);
    EXPECT_LT(waited, 1000);
}

TEST(test_server_live, parts_advertised_but_never_published_hold_until_timeout) {
    http_server srv;
    auto o = ll_options();
    o.parts_never_published = true;
    o.block_timeout = 300ms;
    auto live = make(srv, o);
    raw_client c(srv.port());
    auto plain = c.get("/live/radio.m3u8").body;
    EXPECT_NE(plain.find("CAN-BLOCK-RELOAD=YES"), std::string::npos);
    EXPECT_NE(plain.find("#EXT-X-PART-INF"), std::string::npos);
    EXPECT_EQ(plain.find("#EXT-X-PART:"), std::string::npos);
    EXPECT_EQ(plain.find("#EXT-X-PRELOAD-HINT"), std::string::npos);
    EXPECT_FALSE(live->part_published_at(live->last_media_sequence() + 1, 0).has_value());

    const auto msn = live->last_media_sequence() + 1;  // due in <= 200 ms
    const auto t0 = clock::now();
    auto r = c.get("/live/radio.m3u8?_HLS_msn=" + std::to_string(msn) + "&_HLS_part=0");
    EXPECT_EQ(r.status, 200);
    EXPECT_GE(ms_between(t0, clock::now()), 290);  // held to the timeout though segments came
    EXPECT_NE(r.body.find("radio_" + std::to_string(msn) + ".ts"), std::string::npos);
}

TEST(test_server_live, fault_next_reloads_fail) {
    http_server srv;
    auto live = make(srv, synthetic_options());
    live->fail_next_reloads(2);
    raw_client c(srv.port());
    EXPECT_EQ(c.get("/live/radio.m3u8").status, 503);
    EXPECT_EQ(c.get("/live/radio.m3u8").status, 503);
    EXPECT_EQ(c.get("/live/radio.m3u8").status, 200);
    EXPECT_EQ(c.get("/live/radio_0.ts").status, 200);  // segments are not affected
    EXPECT_EQ(live->playlist_requests(), 3u);
}

TEST(test_server_live, fault_freeze_holds_the_window_then_catches_up) {
    http_server srv;
    auto live = make(srv, synthetic_options());
    raw_client c(srv.port());
    const auto t0 = clock::now();
    live->freeze(300ms);
    const auto last = live->last_media_sequence();
    auto before = c.get("/live/radio.m3u8");
    // The next segment comes at the freeze's end, with the ones it held back.
    const auto next = live->wait_published(last + 1, std::nullopt, 5s);
    ASSERT_TRUE(next);
    EXPECT_GE(ms_between(t0, *next), 299);
    EXPECT_EQ(*live->published_at(last + 2), *next);
    const auto after =
        c.get("/live/radio.m3u8", "If-None-Match: " + before.headers["etag"] + "\r\n");
    EXPECT_EQ(after.status, 200);
    EXPECT_GE(parse(after.body).media_sequence, parse(before.body).media_sequence + 3);

    live->freeze(200ms, false);  // resumes where it stopped: one segment after the freeze
    const auto l2 = live->last_media_sequence();
    const auto t1 = clock::now();
    ASSERT_TRUE(live->wait_published(l2 + 1, std::nullopt, 5s));
    EXPECT_GE(ms_between(t1, *live->published_at(l2 + 1)), 199);
    EXPECT_NEAR(ms_between(*live->published_at(l2 + 1), *live->published_at(l2 + 2)), 100, 1);
}

TEST(test_server_live, fault_jump_and_rewind) {
    http_server srv;
    auto live = make(srv, synthetic_options(5, 0.001));
    raw_client c(srv.port());
    EXPECT_EQ(parse(c.get("/live/radio.m3u8").body).media_sequence, 0u);
    const auto t0 = clock::now();
    live->jump(4);
    EXPECT_EQ(live->last_media_sequence(), 6u);
    EXPECT_GE(*live->published_at(6), t0);
    auto p = parse(c.get("/live/radio.m3u8").body);
    EXPECT_EQ(p.media_sequence, 4u);  // 0..2 -> 4..6: segment 3 never seen
    EXPECT_EQ(p.discontinuity_before, (std::vector<std::size_t>{1}));

    live->rewind_next_reload(2);
    EXPECT_EQ(parse(c.get("/live/radio.m3u8").body).media_sequence, 2u);  // backwards once
    EXPECT_EQ(parse(c.get("/live/radio.m3u8").body).media_sequence, 4u);
}

// kithara_serve --live: a child process serving a fixture as a live stream with LL-HLS parts.
struct serve_process {
    explicit serve_process(std::vector<std::string> args) {
        int fds[2];
        if (pipe(fds) != 0) return;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        std::vector<char*> argv;
        args.insert(args.begin(), KITHARA_SERVE);
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawn(&pid, KITHARA_SERVE, &actions, nullptr, argv.data(), environ) != 0) pid = 0;
        posix_spawn_file_actions_destroy(&actions);
        close(fds[1]);
        out = fdopen(fds[0], "r");
    }
    ~serve_process() {
        if (pid > 0 && !exited) {
            kill(pid, SIGTERM);
            wait();
        }
        if (out) fclose(out);
    }
    std::string line() {  // blocks until the child writes a line or exits
        char buf[256];
        return out && fgets(buf, sizeof buf, out) ? std::string(buf) : std::string();
    }
    int wait() {
        int status = 0;
        waitpid(pid, &status, 0);
        exited = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    pid_t pid = 0;
    bool exited = false;
    FILE* out = nullptr;
};

TEST(test_server_live, kithara_serve_serves_a_vod_fixture_live) {
    const auto vod = (fixtures / "ts_aac/index.m3u8").string();
    serve_process serve({"/nonexistent", "--live", "/live/radio.m3u8=" + vod, "--live-window", "3",
                         "--live-time-scale", "10", "--live-ll-parts", "4"});
    ASSERT_GT(serve.pid, 0);
    const auto port = serve.line();
    ASSERT_FALSE(port.empty());
    raw_client c(static_cast<std::uint16_t>(std::stoi(port)));
    const auto r = c.get("/live/radio.m3u8");
    ASSERT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("#EXT-X-PART-INF:PART-TARGET=0.506\n"), std::string::npos) << r.body;
    auto p = parse(r.body);
    ASSERT_EQ(p.uris.size(), 3u);
    const auto seg = c.get("/live/" + p.uris.back());
    EXPECT_EQ(seg.body, read(fixtures / "ts_aac" /
                             ("index_00" + std::to_string((p.media_sequence + 2) % 5) + ".ts")));
    // The blocking reload for the next segment returns once it is out (a segment per ~200 ms).
    const auto next = p.media_sequence + 3;
    const auto blocked = c.get("/live/radio.m3u8?_HLS_msn=" + std::to_string(next));
    EXPECT_NE(blocked.body.find("radio_" + std::to_string(next) + ".ts"), std::string::npos);

    serve_process bad({"/nonexistent", "--live", "/live/x.m3u8=/nonexistent/vod.m3u8"});
    EXPECT_EQ(bad.wait(), 2);
}

}  // namespace
}  // namespace kithara::test
