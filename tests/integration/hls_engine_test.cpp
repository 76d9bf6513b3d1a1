// kithara::hls::open end to end over the loopback test server serving tests/media/hls fixtures:
// PCM against reference.json (sample count and SHA-256 of the local decode), seeks, a missing
// segment, a wrong key, restart without refetching, offline replay with zero requests.
#include "hls_support.hpp"

#include <test_server.hpp>

#include <kithara/decode/decoder.hpp>
#include <kithara/hls/aes.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <kithara/hls/loader.hpp>
#include <kithara/stream/memory_source.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kithara::hls {
namespace {

using namespace kithara::hls_test;  // env, pcm, drain, reference, local_decode, ...

struct fixture_case {
    const char* dir;
    const char* playlist;
};

class hls_fixture : public ::testing::TestWithParam<fixture_case> {};

TEST_P(hls_fixture, pcm_equals_the_local_decode) {
    const auto& c = GetParam();
    env e(std::string(c.dir) + "_" + c.playlist);
    auto s = open(e.srv->url(std::string("/") + c.dir + "/" + c.playlist), *e.store, *e.client);
    ASSERT_TRUE(s) << s.error().message();
    auto got = drain(**s);
    ASSERT_FALSE(got.failure) << got.failure->message();
    auto ref = reference(c.dir, c.playlist);
    EXPECT_EQ(got.frames(), ref["pcm_samples"].get<std::size_t>()) << c.dir << "/" << c.playlist;
    EXPECT_EQ(sha256(got.samples), ref["pcm_sha256"].get<std::string>());
}

// fMP4: the PCM equals the local kithara::decode of the concatenated (decrypted) init + segments
// and reference.json (ffmpeg's decode), sample for sample. The fMP4 init declares no edit-list
// end, so neither decoder cuts the last frame (docs/DECODE.md, "Gapless").
class hls_fmp4_fixture : public ::testing::TestWithParam<fixture_case> {};

TEST_P(hls_fmp4_fixture, pcm_equals_the_local_decode_of_the_concatenated_segments) {
    const auto& c = GetParam();
    env e(std::string("fmp4_") + c.dir + "_" + c.playlist);
    auto s = open(e.srv->url(std::string("/") + c.dir + "/" + c.playlist), *e.store, *e.client);
    ASSERT_TRUE(s) << s.error().message();
    auto got = drain(**s);
    ASSERT_FALSE(got.failure) << got.failure->message();
    auto local = local_decode(c.dir, c.playlist);
    ASSERT_FALSE(local.failure) << local.failure->message();
    ASSERT_EQ(got.frames(), local.frames());
    ASSERT_EQ(got.rate, local.rate);
    if (sha256(got.samples) != sha256(local.samples)) {
        EXPECT_GE(snr_db(got.samples.data(), local.samples.data(), got.samples.size()), 60.0);
    }
    auto ref = reference(c.dir, c.playlist);
    EXPECT_EQ(got.frames(), ref["pcm_samples"].get<std::size_t>());
}

INSTANTIATE_TEST_SUITE_P(fixtures, hls_fmp4_fixture,
                         ::testing::Values(fixture_case{"fmp4_multi", "a64.m3u8"},
                                           fixture_case{"byterange_fmp4", "index.m3u8"},
                                           fixture_case{"aes_fmp4", "iv_explicit.m3u8"},
                                           fixture_case{"aes_fmp4", "iv_sequence.m3u8"},
                                           fixture_case{"aes_fmp4", "rotate.m3u8"},
                                           fixture_case{"rate48", "index.m3u8"},
                                           fixture_case{"opus_fmp4", "index.m3u8"},
                                           fixture_case{"short_tail", "aac.m3u8"}),
                         [](const auto& i) {
                             std::string n = std::string(i.param.dir) + "_" + i.param.playlist;
                             for (auto& ch : n)
                                 if (ch == '.') ch = '_';
                             return n;
                         });

INSTANTIATE_TEST_SUITE_P(
    fixtures, hls_fixture,
    ::testing::Values(
        fixture_case{"ts_aac", "index.m3u8"}, fixture_case{"ts_mp3", "index.m3u8"},
        fixture_case{"byterange_ts", "index.m3u8"}, fixture_case{"aes_ts", "iv_explicit.m3u8"},
        fixture_case{"aes_ts", "iv_sequence.m3u8"}, fixture_case{"aes_ts", "mixed.m3u8"},
        fixture_case{"packed_adts", "index.m3u8"}, fixture_case{"packed_adts", "wrap.m3u8"},
        fixture_case{"packed_adts", "some_untagged.m3u8"},
        fixture_case{"packed_mp3", "some_untagged.m3u8"}, fixture_case{"packed_mp3", "index.m3u8"},
        fixture_case{"flac_fmp4", "index.m3u8"}, fixture_case{"ac3_ts", "ac3.m3u8"},
        fixture_case{"ac3_ts", "eac3.m3u8"}, fixture_case{"short_tail", "aac_ts.m3u8"}),
    [](const auto& i) {
        std::string n = std::string(i.param.dir) + "_" + i.param.playlist;
        for (auto& ch : n)
            if (ch == '.') ch = '_';
        return n;
    });

TEST(hls_engine, fixed_abr_starts_on_the_lowest_variant_and_fetches_no_other) {
    env e("master");
    stream_options o;
    o.abr.mode = abr_mode::fixed;
    auto s = open(e.srv->url("/fmp4_multi/master.m3u8"), *e.store, *e.client, o);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ((*s)->info().variants.size(), 4u);
    auto got = drain(**s);
    ASSERT_FALSE(got.failure) << got.failure->message();
    for (const auto& l : e.srv->log()) {
        EXPECT_TRUE(l.path.find("a128") == std::string::npos &&
                    l.path.find("a256") == std::string::npos &&
                    l.path.find("ts128") == std::string::npos)
            << l.path;
    }
    EXPECT_EQ(got.frames(), local_decode("fmp4_multi", "a64.m3u8").frames());
}

TEST(hls_engine, seek_returns_the_requested_sample_and_fetches_only_its_segment) {
    env e("seek");
    const auto url = e.srv->url("/ts_aac/index.m3u8");
    auto full_s = open(url, *e.store, *e.client);
    ASSERT_TRUE(full_s);
    auto full = drain(**full_s);
    ASSERT_FALSE(full.failure);
    const auto starts = [&] {
        std::vector<double> v;
        double t = 0;
        const auto ref = reference("ts_aac", "index.m3u8");
        for (const auto& seg : ref["segments"]) {
            v.push_back(t);
            t += seg["extinf"].get<double>();
        }
        return v;
    }();
    full_s->reset();
    // Segment boundaries and positions inside segments. The first returned sample is the
    // requested one: the rest of the stream has exactly the remaining length, and the samples
    // match the full decode. A segment decoded without its predecessor starts the AAC decoder
    // cold, so its first frame's overlap differs: compared from 2048 frames on at boundaries.
    for (double t : {starts[1], starts[2], starts[4], starts[3] + 0.5, starts[4] + 0.01, 0.25,
                     starts[2] + 1.2}) {
        env e2("seek2");
        auto s = open(url, *e2.store, *e2.client);
        ASSERT_TRUE(s);
        ASSERT_TRUE((*s)->seek(t));
        auto c = (*s)->next();
        ASSERT_TRUE(c && *c) << t;
        EXPECT_NEAR(std::chrono::duration<double>((*c)->start).count(), t, 1e-4);
        pcm rest;
        rest.rate = (*c)->sample_rate;
        rest.channels = (*c)->channels;
        rest.samples.assign((*c)->samples.begin(), (*c)->samples.end());
        auto tail = drain(**s);
        ASSERT_FALSE(tail.failure);
        rest.samples.insert(rest.samples.end(), tail.samples.begin(), tail.samples.end());
        const auto at = static_cast<std::size_t>(std::llround(t * full.rate));
        ASSERT_EQ(rest.frames(), full.frames() - at) << "seek to " << t << " s";
        std::size_t k = 0;
        while (k + 1 < starts.size() && starts[k + 1] <= t) ++k;
        const std::size_t warm = (t - starts[k]) * full.rate >= 2048 ? 0 : 2048;
        const std::size_t n = 4096 * 2;
        EXPECT_GE(snr_db(rest.samples.data() + warm * 2, full.samples.data() + (at + warm) * 2, n),
                  60.0)
            << "seek to " << t << " s";
        for (const auto& l : e2.srv->log()) {
            for (std::size_t before = 0; before < k; ++before) {
                char b[32];
                std::snprintf(b, sizeof b, "_%03zu.ts", before);
                EXPECT_EQ(l.path.find(b), std::string::npos) << "fetched " << l.path;
            }
        }
    }
}

TEST(hls_engine, discontinuities_reset_the_decoder_and_keep_the_timeline) {
    env e("discontinuity");
    std::atomic<int> discontinuities{0};
    stream_options o;
    o.on_event = [&](const event& ev) { discontinuities += ev.kind == event_kind::discontinuity; };
    auto s = open(e.srv->url("/discontinuity/index.m3u8"), *e.store, *e.client, o);
    ASSERT_TRUE(s);
    std::size_t frames = 0;
    std::vector<std::uint32_t> rates;
    double last_end = 0;
    for (;;) {
        auto c = (*s)->next();
        ASSERT_TRUE(c) << c.error().message();
        if (!*c) break;
        const double start = std::chrono::duration<double>((*c)->start).count();
        EXPECT_NEAR(start, last_end, 0.03) << "the timeline jumps at " << start;
        last_end = start + static_cast<double>((*c)->frames()) / (*c)->sample_rate;
        frames += (*c)->frames();
        if (rates.empty() || rates.back() != (*c)->sample_rate) rates.push_back((*c)->sample_rate);
    }
    EXPECT_EQ(discontinuities.load(), 2);
    EXPECT_EQ(rates, (std::vector<std::uint32_t>{44100, 48000}));
    const auto ref = reference("discontinuity", "index.m3u8");
    EXPECT_EQ(frames, ref["pcm_samples"].get<std::size_t>());
}

TEST(hls_engine, a_gap_is_not_fetched_and_is_rendered_as_silence_or_skipped) {
    for (auto policy : {gap_policy::silence, gap_policy::skip}) {
        env e("gap");
        std::atomic<int> gaps{0};
        stream_options o;
        o.gaps = policy;
        o.on_event = [&](const event& ev) { gaps += ev.kind == event_kind::gap; };
        auto s = open(e.srv->url("/gap/index.m3u8"), *e.store, *e.client, o);
        ASSERT_TRUE(s);
        auto got = drain(**s);
        ASSERT_FALSE(got.failure) << got.failure->message();
        EXPECT_EQ(gaps.load(), 1);
        EXPECT_TRUE(e.srv->log_for("/gap/full_002.m4s").empty());
        const auto ref = reference("gap", "index.m3u8")["pcm_samples"].get<std::size_t>();
        const std::size_t silence = policy == gap_policy::silence
                                        ? static_cast<std::size_t>(std::llround(1.996916 * 44100))
                                        : 0;
        EXPECT_EQ(got.frames(), ref + silence);
    }
}

TEST(hls_engine, sample_aes_and_other_keyformats_are_not_supported_by_name) {
    env e("sample_aes");
    e.srv->put(
        "/sa/a.m3u8",
        "#EXTM3U\n#EXT-X-VERSION:5\n#EXT-X-TARGETDURATION:2\n"
        "#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"k.bin\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n"
        "#EXTINF:2.0,\n../ts_aac/index_000.ts\n#EXT-X-ENDLIST\n");
    auto s = open(e.srv->url("/sa/a.m3u8"), *e.store, *e.client);
    ASSERT_TRUE(s);
    auto got = drain(**s);
    ASSERT_TRUE(got.failure);
    EXPECT_EQ(got.failure->code(), errc::not_supported);
    EXPECT_NE(got.failure->message().find("SAMPLE-AES"), std::string::npos)
        << got.failure->message();
    EXPECT_NE(got.failure->message().find("com.apple.streamingkeydelivery"), std::string::npos);
    EXPECT_TRUE(e.srv->log_for("/ts_aac/index_000.ts").empty());
}

TEST(hls_engine, offline_without_a_cache_fails_naming_what_is_missing) {
    env e("offline_miss");
    stream_options o;
    o.offline = true;
    auto s = open(e.srv->url("/ts_aac/index.m3u8"), *e.store, *e.client, o);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), errc::offline_miss);
    EXPECT_TRUE(e.srv->log().empty());
}

TEST(hls_engine, paused_reading_stops_the_prefetch_window) {
    env e("window");
    std::mutex m;
    std::condition_variable cv;
    std::set<std::string> complete;
    stream_options o;
    o.prefetch_seconds = 3.0;  // the segment being read and the next one (2 s segments)
    o.on_event = [&](const event& ev) {
        if (ev.kind != event_kind::segment_complete) return;
        std::lock_guard lock(m);
        complete.insert(ev.uri.substr(ev.uri.rfind('/') + 1));
        cv.notify_all();
    };
    {
        auto s = open(e.srv->url("/ts_aac/index.m3u8"), *e.store, *e.client, o);
        ASSERT_TRUE(s);
        auto c = (*s)->next();  // then the reader pauses
        ASSERT_TRUE(c && *c);
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return complete.count("index_001.ts") == 1; });
    }  // closing waits for every running request (and the refills they trigger)
    EXPECT_FALSE(e.srv->log_for("/ts_aac/index_000.ts").empty());
    EXPECT_FALSE(e.srv->log_for("/ts_aac/index_001.ts").empty());
    for (const char* later :
         {"/ts_aac/index_002.ts", "/ts_aac/index_003.ts", "/ts_aac/index_004.ts"})
        EXPECT_TRUE(e.srv->log_for(later).empty()) << later << " fetched while paused";
}

TEST(hls_engine, a_missing_segment_ends_playback_with_an_error_naming_it) {
    env e("missing");
    e.srv->add_fault("/ts_aac/index_002.ts", {.status = 404}, 1, 0);
    auto s = open(e.srv->url("/ts_aac/index.m3u8"), *e.store, *e.client);
    ASSERT_TRUE(s);
    auto got = drain(**s);
    ASSERT_TRUE(got.failure) << "a 404 segment must fail playback";
    EXPECT_EQ(got.failure->code(), errc::segment_failed) << got.failure->message();
    EXPECT_NE(got.failure->message().find("index_002.ts"), std::string::npos)
        << got.failure->message();
    EXPECT_NE(got.failure->message().find("404"), std::string::npos) << got.failure->message();
}

TEST(hls_engine, a_wrong_key_is_a_clear_error) {
    env e("wrong_key");
    e.srv->put("/aes_ts/key_a.bin", std::string(16, 'x'));
    auto s = open(e.srv->url("/aes_ts/iv_explicit.m3u8"), *e.store, *e.client);
    ASSERT_TRUE(s);
    auto got = drain(**s);
    ASSERT_TRUE(got.failure);
    EXPECT_NE(got.failure->message().find("segment"), std::string::npos) << got.failure->message();
}

TEST(hls_engine, replay_from_the_cache_and_offline_makes_no_request) {
    env e("offline");
    const auto url = e.srv->url("/fmp4_multi/a64.m3u8");
    pcm first;
    {
        auto s = open(url, *e.store, *e.client);
        ASSERT_TRUE(s);
        first = drain(**s);
        ASSERT_FALSE(first.failure);
    }
    e.reopen_store();
    e.srv->clear_log();
    stream_options o;
    o.offline = true;
    auto s = open(url, *e.store, *e.client, o);
    ASSERT_TRUE(s) << s.error().message();
    auto again = drain(**s);
    ASSERT_FALSE(again.failure) << again.failure->message();
    EXPECT_EQ(e.srv->log().size(), 0u);
    EXPECT_EQ(sha256(again.samples), sha256(first.samples));
    const auto st = (*s)->stats();
    EXPECT_GT(st.bytes_from_cache, 0u)
        << st.requests << " requests, " << st.bytes_from_network << " bytes from the network";
}

TEST(hls_engine, restart_mid_stream_fetches_no_cached_byte_again) {
    env e("restart");
    const auto url = e.srv->url("/ts_aac/index.m3u8");
    {
        auto s = open(url, *e.store, *e.client);
        ASSERT_TRUE(s);
        auto part = drain(**s, 44100 * 3);
        ASSERT_FALSE(part.failure);
    }
    e.reopen_store();
    // What the cache holds now, per segment: complete, or a prefix of this many bytes.
    struct cached {
        std::string path;
        std::uint64_t prefix = 0;
        bool complete = false;
    };
    std::vector<cached> before;
    {
        auto asset = e.store->open_asset(url).value();
        for (int i = 0; i < 5; ++i) {
            char name[64];
            std::snprintf(name, sizeof name, "/ts_aac/index_%03d.ts", i);
            auto h = asset.open_streaming(e.srv->url(name)).value();
            before.push_back({name, h->available().contiguous_end(0), h->complete()});
        }
    }
    ASSERT_TRUE(before[0].complete);
    e.srv->clear_log();
    auto s = open(url, *e.store, *e.client);
    ASSERT_TRUE(s);
    auto all = drain(**s);
    ASSERT_FALSE(all.failure);
    EXPECT_EQ(all.frames(), reference("ts_aac", "index.m3u8")["pcm_samples"].get<std::size_t>());
    EXPECT_EQ(sha256(all.samples), reference("ts_aac", "index.m3u8")["pcm_sha256"]);
    for (const auto& c : before) {
        for (const auto& l : e.srv->log_for(c.path)) {
            EXPECT_FALSE(c.complete) << c.path << " was complete and was fetched again";
            if (c.prefix > 0) {
                EXPECT_EQ(l.range, "bytes=" + std::to_string(c.prefix) + "-") << c.path;
            }
        }
    }
}

}  // namespace
}  // namespace kithara::hls
