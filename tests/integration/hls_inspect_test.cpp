// kithara-inspect run as a process: --json checked field by field against the schema of issue 14
// (docs/HLS.md), over files and over the loopback test server; rejections exit non-zero with the
// line and rule on stderr.
#include <test_server.hpp>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

using json = nlohmann::json;

struct run_result {
    int status = -1;
    std::string out;
    std::string err;
};

run_result run(const std::string& args) {
    const auto err_path = std::filesystem::temp_directory_path() /
                          ("kithara_inspect_err_" + std::to_string(::getpid()));
    const std::string cmd = std::string(KITHARA_INSPECT) + " " + args + " 2>" + err_path.string();
    run_result r;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return r;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
    const int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    std::ifstream e(err_path);
    std::stringstream ss;
    ss << e.rdbuf();
    r.err = ss.str();
    std::filesystem::remove(err_path);
    return r;
}

std::string write_temp(const std::string& name, const std::string& text) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("kithara_inspect_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

std::set<std::string> keys_of(const json& j) {
    std::set<std::string> k;
    for (const auto& [name, _] : j.items()) k.insert(name);
    return k;
}

const std::set<std::string> media_keys = {
    "kind",          "target_duration",   "media_sequence", "discontinuity_sequence",
    "endlist",       "playlist_type",     "version",        "independent_segments",
    "i_frames_only", "start_time_offset", "segment_count",  "segments"};
const std::set<std::string> segment_keys = {"duration", "uri",           "byterange",         "key",
                                            "map",      "discontinuity", "program_date_time", "gap",
                                            "title"};
const std::set<std::string> master_keys = {
    "kind",   "variants", "iframe_variants", "media", "independent_segments", "start_time_offset",
    "version"};
const std::set<std::string> variant_keys = {
    "bandwidth", "average_bandwidth", "codecs",          "resolution", "frame_rate", "audio",
    "video",     "subtitles",         "closed_captions", "uri"};
const std::set<std::string> rendition_keys = {"type",     "group_id",   "name",   "language",
                                              "default",  "autoselect", "forced", "instream_id",
                                              "channels", "uri"};

const char* rich_media =
    "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:100\n"
    "#EXT-X-DISCONTINUITY-SEQUENCE:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    "#EXT-X-START:TIME-OFFSET=-8.5\n"
    "#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"700@0\"\n"
    "#EXT-X-PROGRAM-DATE-TIME:2026-12-04T10:00:00Z\n"
    "#EXTINF:4,First\n#EXT-X-BYTERANGE:1000@700\nmedia.mp4\n"
    "#EXT-X-KEY:METHOD=AES-128,URI=\"../keys/k1\",IV=0x00000000000000000000000000000001\n"
    "#EXTINF:3.5,\n#EXT-X-BYTERANGE:500\nmedia.mp4\n"
    "#EXT-X-KEY:METHOD=NONE\n#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"init2.mp4\"\n"
    "#EXT-X-GAP\n#EXTINF:4.0,\ngap.m4s\n"
    "#EXT-X-KEY:METHOD=AES-128,URI=\"k2\"\n#EXTINF:0.02,\nlast.m4s\n#EXT-X-ENDLIST\n";

TEST(hls_inspect, media_json_field_by_field) {
    const auto r = run("--json " + write_temp("rich.m3u8", rich_media));
    ASSERT_EQ(r.status, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(keys_of(j), media_keys);
    EXPECT_EQ(j["kind"], "media");
    EXPECT_EQ(j["target_duration"], 4);
    EXPECT_EQ(j["media_sequence"], 100);
    EXPECT_EQ(j["discontinuity_sequence"], 2);
    EXPECT_EQ(j["endlist"], true);
    EXPECT_EQ(j["playlist_type"], "VOD");
    EXPECT_EQ(j["version"], 7);
    EXPECT_EQ(j["independent_segments"], true);
    EXPECT_EQ(j["i_frames_only"], false);
    EXPECT_EQ(j["start_time_offset"], -8.5);
    EXPECT_EQ(j["segment_count"], 4);
    const json& s = j["segments"];
    ASSERT_EQ(s.size(), 4u);
    for (const auto& seg : s) EXPECT_EQ(keys_of(seg), segment_keys);

    EXPECT_EQ(s[0]["duration"], 4.0);
    EXPECT_EQ(s[0]["uri"], "media.mp4");
    EXPECT_EQ(s[0]["byterange"], (json{{"length", 1000}, {"offset", 700}}));
    EXPECT_TRUE(s[0]["key"].is_null());
    EXPECT_EQ(s[0]["map"]["uri"], "init.mp4");
    EXPECT_EQ(s[0]["map"]["byterange"], (json{{"length", 700}, {"offset", 0}}));
    EXPECT_EQ(s[0]["discontinuity"], false);
    EXPECT_EQ(s[0]["program_date_time"], "2026-12-04T10:00:00Z");
    EXPECT_EQ(s[0]["gap"], false);
    EXPECT_EQ(s[0]["title"], "First");

    EXPECT_EQ(s[1]["duration"], 3.5);
    EXPECT_EQ(s[1]["byterange"], (json{{"length", 500}, {"offset", 1700}}));  // carried over
    EXPECT_EQ(s[1]["key"], (json{{"method", "AES-128"},
                                 {"uri", "../keys/k1"},
                                 {"iv", "0x00000000000000000000000000000001"}}));
    EXPECT_EQ(s[1]["map"]["uri"], "init.mp4");
    EXPECT_EQ(s[1]["program_date_time"], "2026-12-04T10:00:00Z");  // in effect
    EXPECT_TRUE(s[1]["title"].is_null());

    EXPECT_TRUE(s[2]["key"].is_null());  // METHOD=NONE
    EXPECT_EQ(s[2]["discontinuity"], true);
    EXPECT_EQ(s[2]["gap"], true);
    EXPECT_EQ(s[2]["map"]["uri"], "init2.mp4");
    EXPECT_TRUE(s[2]["map"]["byterange"].is_null());
    EXPECT_TRUE(s[2]["byterange"].is_null());

    EXPECT_EQ(s[3]["duration"], 0.02);
    EXPECT_EQ(s[3]["key"], (json{{"method", "AES-128"}, {"uri", "k2"}, {"iv", nullptr}}));
    EXPECT_EQ(s[3]["discontinuity"], false);
}

TEST(hls_inspect, absent_media_fields_are_null_or_defaults) {
    const auto r = run("--json " + write_temp("bare.m3u8", "#EXTM3U\n#EXTINF:2,\na.ts\n"));
    ASSERT_EQ(r.status, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(keys_of(j), media_keys);
    EXPECT_TRUE(j["target_duration"].is_null());
    EXPECT_EQ(j["media_sequence"], 0);
    EXPECT_EQ(j["discontinuity_sequence"], 0);
    EXPECT_EQ(j["endlist"], false);
    EXPECT_TRUE(j["playlist_type"].is_null());
    EXPECT_TRUE(j["version"].is_null());
    EXPECT_TRUE(j["start_time_offset"].is_null());
    EXPECT_TRUE(j["segments"][0]["program_date_time"].is_null());
    EXPECT_TRUE(j["segments"][0]["map"].is_null());
    // Warnings go to stderr, never into the JSON.
    EXPECT_NE(r.err.find("TARGETDURATION"), std::string::npos) << r.err;
}

TEST(hls_inspect, master_json_field_by_field_over_http) {
    kithara::test::http_server srv;
    srv.put("/radio/master.m3u8",
            "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"
            "#EXT-X-START:TIME-OFFSET=2.5,PRECISE=YES\n"
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"English\",LANGUAGE=\"en\","
            "DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"en/index.m3u8\"\n"
            "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC1\",INSTREAM-ID=\"CC1\","
            "FORCED=NO\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=256000,AVERAGE-BANDWIDTH=200000,CODECS=\"mp4a.40.2\","
            "RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO=\"aud\",VIDEO=\"v\",SUBTITLES=\"s\","
            "CLOSED-CAPTIONS=\"cc\"\nhi/index.m3u8\n"
            "#EXT-X-STREAM-INF:BANDWIDTH=64000,CLOSED-CAPTIONS=NONE\nlo/index.m3u8\n"
            "#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=9000,URI=\"if/index.m3u8\"\n");
    const auto r = run("--json " + srv.url("/radio/master.m3u8"));
    ASSERT_EQ(r.status, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(keys_of(j), master_keys);
    EXPECT_EQ(j["kind"], "master");
    EXPECT_EQ(j["independent_segments"], true);
    EXPECT_EQ(j["start_time_offset"], 2.5);
    EXPECT_EQ(j["version"], 6);
    ASSERT_EQ(j["variants"].size(), 2u);
    const json& v = j["variants"][0];
    EXPECT_EQ(keys_of(v), variant_keys);
    EXPECT_EQ(v["bandwidth"], 256000);
    EXPECT_EQ(v["average_bandwidth"], 200000);
    EXPECT_EQ(v["codecs"], "mp4a.40.2");
    EXPECT_EQ(v["resolution"], "640x360");
    EXPECT_EQ(v["frame_rate"], 25.0);
    EXPECT_EQ(v["audio"], "aud");
    EXPECT_EQ(v["video"], "v");
    EXPECT_EQ(v["subtitles"], "s");
    EXPECT_EQ(v["closed_captions"], "cc");
    EXPECT_EQ(v["uri"], "hi/index.m3u8");  // as written, not resolved
    const json& lo = j["variants"][1];
    EXPECT_TRUE(lo["average_bandwidth"].is_null());
    EXPECT_TRUE(lo["codecs"].is_null());
    EXPECT_TRUE(lo["resolution"].is_null());
    EXPECT_TRUE(lo["frame_rate"].is_null());
    EXPECT_TRUE(lo["audio"].is_null());
    EXPECT_EQ(lo["closed_captions"], "NONE");
    ASSERT_EQ(j["iframe_variants"].size(), 1u);
    EXPECT_EQ(keys_of(j["iframe_variants"][0]), variant_keys);
    EXPECT_EQ(j["iframe_variants"][0]["bandwidth"], 9000);
    EXPECT_EQ(j["iframe_variants"][0]["uri"], "if/index.m3u8");
    ASSERT_EQ(j["media"].size(), 2u);
    const json& en = j["media"][0];
    EXPECT_EQ(keys_of(en), rendition_keys);
    EXPECT_EQ(en["type"], "AUDIO");
    EXPECT_EQ(en["group_id"], "aud");
    EXPECT_EQ(en["name"], "English");
    EXPECT_EQ(en["language"], "en");
    EXPECT_EQ(en["default"], true);
    EXPECT_EQ(en["autoselect"], true);
    EXPECT_EQ(en["forced"], false);
    EXPECT_TRUE(en["instream_id"].is_null());
    EXPECT_EQ(en["channels"], "2");
    EXPECT_EQ(en["uri"], "en/index.m3u8");
    const json& cc = j["media"][1];
    EXPECT_EQ(cc["type"], "CLOSED-CAPTIONS");
    EXPECT_EQ(cc["instream_id"], "CC1");
    EXPECT_TRUE(cc["uri"].is_null());
    EXPECT_TRUE(cc["language"].is_null());
    EXPECT_EQ(srv.log_for("/radio/master.m3u8").size(), 1u);
}

TEST(hls_inspect, resolve_prints_absolute_uris_after_redirects) {
    kithara::test::http_server srv;
    srv.put("/final/dir/index.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg.ts\n");
    srv.put("/start.m3u8", "unused");
    srv.add_fault("/start.m3u8", {.redirect_to = "/final/dir/index.m3u8"}, 1, 0);
    const auto r = run("--resolve " + srv.url("/start.m3u8"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find(srv.url("/final/dir/seg.ts")), std::string::npos) << r.out;
    const auto plain = run(srv.url("/start.m3u8"));
    EXPECT_EQ(plain.out.find(srv.url("/final/dir/seg.ts")), std::string::npos) << plain.out;
    EXPECT_NE(plain.out.find("seg.ts"), std::string::npos) << plain.out;
}

TEST(hls_inspect, summary_lists_variants_by_bandwidth) {
    const auto r = run(write_temp("m.m3u8",
                                  "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300\nc.m3u8\n"
                                  "#EXT-X-STREAM-INF:BANDWIDTH=100\na.m3u8\n"
                                  "#EXT-X-STREAM-INF:BANDWIDTH=200\nb.m3u8\n"));
    ASSERT_EQ(r.status, 0) << r.err;
    const auto a = r.out.find("a.m3u8");
    const auto b = r.out.find("b.m3u8");
    const auto c = r.out.find("c.m3u8");
    ASSERT_NE(c, std::string::npos) << r.out;
    EXPECT_LT(a, b);
    EXPECT_LT(b, c);
}

TEST(hls_inspect, rejected_playlist_exits_non_zero_with_line_and_rule) {
    const auto r = run("--json " + write_temp("bad.m3u8", "#EXTM3U\n#EXTINF:1,\na.ts\nb.ts\n"));
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find("line 4"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("without a preceding EXTINF"), std::string::npos) << r.err;
}

TEST(hls_inspect, unreachable_url_and_usage_errors) {
    EXPECT_EQ(run("http://127.0.0.1:9/x.m3u8").status, 1);
    EXPECT_EQ(run("").status, 2);
    EXPECT_EQ(run("--no-such-flag x").status, 2);
}

}  // namespace
