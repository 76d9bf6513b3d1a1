// kithara::hls under faults, over the loopback test server serving tests/media/hls fixtures:
// connections dropped mid-segment, 503 bursts, a stalled segment, a key that 404s, a wrong key, a
// segment that 404s (an error naming it, or a gap), a segment changed on the server, a restart
// that fetches no cached byte again, offline replay with the server stopped, pinning. PCM is
// checked against reference.json (sample count and SHA-256 of the local decode).
#include "hls_support.hpp"

#include <kithara/core/condition.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/hls/hls_stream.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

namespace kithara::hls {
namespace {

using namespace kithara::hls_test;

const std::string ts_playlist = "/ts_aac/index.m3u8";

std::string seg_path(int i) {
    char b[64];
    std::snprintf(b, sizeof b, "/ts_aac/index_%03d.ts", i);
    return b;
}

void expect_reference_pcm(const pcm& got, const std::string& dir, const std::string& playlist) {
    ASSERT_FALSE(got.failure) << got.failure->message();
    const auto ref = reference(dir, playlist);
    EXPECT_EQ(got.frames(), ref["pcm_samples"].get<std::size_t>());
    EXPECT_EQ(sha256(got.samples), ref["pcm_sha256"].get<std::string>());
}

// Fast retries: the faults below are recovered by net's retry policy within milliseconds.
stream_options fast_retries() {
    stream_options o;
    o.request.retry.initial_backoff = std::chrono::milliseconds(1);
    o.request.retry.max_backoff = std::chrono::milliseconds(5);
    return o;
}

TEST(hls_stats, count_segments_bytes_and_requests_from_network_then_from_cache) {
    env e("stats");
    const auto url = e.srv->url(ts_playlist);
    stream_stats first;
    {
        auto s = open(url, *e.store, *e.client);
        ASSERT_TRUE(s) << s.error().message();
        expect_reference_pcm(drain(**s), "ts_aac", "index.m3u8");
        first = (*s)->stats();
    }
    std::uint64_t segment_bytes = 0;
    const auto ref = reference("ts_aac", "index.m3u8");
    for (const auto& seg : ref["segments"]) segment_bytes += seg["bytes"].get<std::uint64_t>();
    const auto playlist_bytes = read_file(fixtures / "ts_aac/index.m3u8").size();
    EXPECT_EQ(first.segments_from_network, 5u);
    EXPECT_EQ(first.segments_from_cache, 0u);
    EXPECT_EQ(first.bytes_from_network, segment_bytes + playlist_bytes);
    EXPECT_EQ(first.bytes_from_cache, 0u);
    EXPECT_EQ(first.requests, 6u);  // the playlist and five segments
    EXPECT_EQ(first.retries, 0u);
    EXPECT_EQ(first.buffered_seconds, 0.0);  // everything was played

    e.srv->clear_log();
    auto s = open(url, *e.store, *e.client);
    ASSERT_TRUE(s);
    auto c = (*s)->next();
    ASSERT_TRUE(c && *c);
    expect_reference_pcm(
        [&] {
            auto rest = drain(**s);
            rest.samples.insert(rest.samples.begin(), (*c)->samples.begin(), (*c)->samples.end());
            return rest;
        }(),
        "ts_aac", "index.m3u8");
    const auto again = (*s)->stats();
    EXPECT_EQ(again.segments_from_network, 0u);
    EXPECT_EQ(again.segments_from_cache, 5u);
    // The test server ignores If-None-Match: the playlist comes again (200), segments do not.
    EXPECT_EQ(again.bytes_from_cache, segment_bytes);
    EXPECT_EQ(again.bytes_from_network, playlist_bytes);
    EXPECT_EQ(again.requests, 1u);  // the playlist's revalidation
    EXPECT_EQ(e.srv->log().size(), 1u);
}

TEST(hls_stats, buffered_seconds_is_the_cached_media_ahead_of_the_last_chunk) {
    env e("buffered");
    const auto url = e.srv->url(ts_playlist);
    {
        auto s = open(url, *e.store, *e.client);
        ASSERT_TRUE(s);
        ASSERT_FALSE(drain(**s).failure);
    }
    auto s = open(url, *e.store, *e.client);
    ASSERT_TRUE(s);
    const double total = (*s)->info().duration;
    auto c = (*s)->next();
    ASSERT_TRUE(c && *c);
    const double end = std::chrono::duration<double>((*c)->start).count() +
                       static_cast<double>((*c)->frames()) / (*c)->sample_rate;
    // Everything is cached (the first segment was just read from the cache; the rest is marked
    // complete as the window reaches it): at least the first segment's rest is buffered, at most
    // the whole rest of the stream.
    const auto st = (*s)->stats();
    EXPECT_GT(st.buffered_seconds, 0.0);
    EXPECT_LE(st.buffered_seconds, total - end + 1e-9);
    ASSERT_TRUE((*s)->seek(total));
    EXPECT_EQ((*s)->stats().buffered_seconds, 0.0);
}

TEST(hls_faults, a_503_burst_is_retried_and_counted) {
    env e("503");
    for (int i : {0, 2, 4}) e.srv->add_fault(seg_path(i), {.status = 503}, 1, 3);
    auto s = open(e.srv->url(ts_playlist), *e.store, *e.client, fast_retries());
    ASSERT_TRUE(s);
    expect_reference_pcm(drain(**s), "ts_aac", "index.m3u8");
    EXPECT_EQ((*s)->stats().retries, 9u);
    EXPECT_EQ(e.srv->log_for(seg_path(2)).size(), 4u);
}

TEST(hls_faults, connections_dropped_mid_segment_cost_no_sample) {
    env e("drops");
    for (int i = 0; i < 5; ++i)
        e.srv->add_fault(seg_path(i), {.drop_after = 3000 + 4000 * static_cast<std::uint64_t>(i)});
    auto s = open(e.srv->url(ts_playlist), *e.store, *e.client, fast_retries());
    ASSERT_TRUE(s);
    expect_reference_pcm(drain(**s), "ts_aac", "index.m3u8");
    for (int i = 0; i < 5; ++i) {
        const auto log = e.srv->log_for(seg_path(i));
        ASSERT_GE(log.size(), 2u) << seg_path(i);
        // The retry resumes where the drop cut it (If-Range: the same entity or nothing).
        EXPECT_EQ(log[1].range.rfind("bytes=", 0), 0u) << log[1].range;
        EXPECT_NE(log[1].range, "bytes=0-");
        EXPECT_FALSE(log[1].if_range.empty());
    }
    EXPECT_GE((*s)->stats().retries, 5u);
}

TEST(hls_faults, a_stalled_segment_emits_stall_and_resume_and_costs_no_sample) {
    env e("stall");
    event_log events;
    stream_options o;
    o.prefetch_seconds = 0;  // only the segment being read: the decoder meets the stall
    o.on_event = events.callback();
    e.srv->add_fault(seg_path(2),
                     {.stall_after = 2000, .stall_for = std::chrono::milliseconds(400)});
    auto s = open(e.srv->url(ts_playlist), *e.store, *e.client, o);
    ASSERT_TRUE(s);
    expect_reference_pcm(drain(**s), "ts_aac", "index.m3u8");
    const auto stalls = events.of(event_kind::stall);
    const auto resumes = events.of(event_kind::resume);
    ASSERT_FALSE(stalls.empty());
    EXPECT_EQ(stalls.size(), resumes.size());
    // The wait at segment 2 lasted at least most of the server's 400 ms pause.
    bool seen = false;
    for (const auto& r : resumes) {
        if (r.media_sequence != 2) continue;
        ASSERT_EQ(r.message.rfind("after ", 0), 0u) << r.message;
        const double ms = std::stod(r.message.substr(6));
        if (ms >= 300) seen = true;
    }
    EXPECT_TRUE(seen) << "no resume of segment 2 after >= 300 ms";
    EXPECT_EQ(e.srv->log_for(seg_path(2)).size(), 1u);  // a stall is waited out, not retried
}

TEST(hls_faults, a_key_that_404s_is_an_error_naming_key_and_segment) {
    env e("key404");
    e.srv->add_fault("/aes_ts/key_a.bin", {.status = 404}, 1, 0);
    auto s = open(e.srv->url("/aes_ts/iv_explicit.m3u8"), *e.store, *e.client, fast_retries());
    ASSERT_TRUE(s);
    auto got = drain(**s);
    ASSERT_TRUE(got.failure);
    const auto msg = got.failure->message();
    EXPECT_EQ(got.failure->code(), errc::segment_failed) << msg;
    EXPECT_NE(msg.find("key_a.bin"), std::string::npos) << msg;
    EXPECT_NE(msg.find("iv_explicit_000.ts (media sequence 0)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("404"), std::string::npos) << msg;
    EXPECT_EQ(got.frames(), 0u);  // nothing undecrypted reached the decoder
}

TEST(hls_faults, a_wrong_key_is_decrypt_failed_naming_the_segment_before_any_noise) {
    env e("wrong_key");
    e.srv->put("/aes_ts/key_a.bin", std::string(16, 'x'));
    auto s = open(e.srv->url("/aes_ts/iv_explicit.m3u8"), *e.store, *e.client);
    ASSERT_TRUE(s);
    auto got = drain(**s);
    ASSERT_TRUE(got.failure);
    const auto msg = got.failure->message();
    EXPECT_EQ(got.failure->code(), errc::decrypt_failed) << msg;
    EXPECT_NE(msg.find("iv_explicit_000.ts (media sequence 0)"), std::string::npos) << msg;
    EXPECT_EQ(got.frames(), 0u);
    // The key is never part of an error.
    EXPECT_EQ(msg.find("xxxxxxxx"), std::string::npos) << msg;
}

TEST(hls_faults, a_segment_that_404s_ends_playback_naming_uri_sequence_and_status) {
    env e("seg404");
    event_log events;
    stream_options o = fast_retries();
    o.on_event = events.callback();
    e.srv->add_fault(seg_path(2), {.status = 404}, 1, 0);
    auto s = open(e.srv->url(ts_playlist), *e.store, *e.client, o);
    ASSERT_TRUE(s);
    auto got = drain(**s);
    ASSERT_TRUE(got.failure);
    const auto msg = got.failure->message();
    EXPECT_EQ(got.failure->code(), errc::segment_failed) << msg;
    EXPECT_NE(msg.find("index_002.ts"), std::string::npos) << msg;
    EXPECT_NE(msg.find("media sequence 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("HTTP status 404"), std::string::npos) << msg;
    // Never a silent short result: what came before is exact, then the error.
    const auto ref = reference("ts_aac", "index.m3u8");
    EXPECT_LE(got.frames(), ref["segments"][0]["samples"].get<std::size_t>() +
                                ref["segments"][1]["samples"].get<std::size_t>());
    const auto errors = events.of(event_kind::error);
    ASSERT_FALSE(errors.empty());
    EXPECT_EQ(errors.front().media_sequence, 2u);
    EXPECT_EQ(e.srv->log_for(seg_path(2)).size(), 1u);  // a 404 is not retried
}

TEST(hls_faults, a_segment_that_404s_with_gaps_allowed_is_silence_of_its_extinf) {
    env e("seg404_gap");
    event_log events;
    stream_options o = fast_retries();
    o.failed_segment_as_gap = true;
    o.on_event = events.callback();
    e.srv->add_fault(seg_path(2), {.status = 404}, 1, 0);
    auto s = open(e.srv->url(ts_playlist), *e.store, *e.client, o);
    ASSERT_TRUE(s);
    auto got = drain(**s);
    ASSERT_FALSE(got.failure) << got.failure->message();
    const auto ref = reference("ts_aac", "index.m3u8");
    const auto& segs = ref["segments"];
    const auto extinf2 = segs[2]["extinf"].get<double>();
    // Exact: the other segments' samples plus EXTINF x rate of silence.
    const std::size_t expected = ref["pcm_samples"].get<std::size_t>() -
                                 segs[2]["samples"].get<std::size_t>() +
                                 static_cast<std::size_t>(std::llround(extinf2 * 44100));
    EXPECT_EQ(got.frames(), expected);
    const auto gaps = events.of(event_kind::gap);
    ASSERT_EQ(gaps.size(), 1u);
    EXPECT_EQ(gaps[0].media_sequence, 2u);
    EXPECT_NE(gaps[0].uri.find("index_002.ts"), std::string::npos);
    EXPECT_NE(gaps[0].message.find("404"), std::string::npos) << gaps[0].message;
    // The silence is where segment 2 was, and the samples before it are the reference's.
    const double start2 = segs[0]["extinf"].get<double>() + segs[1]["extinf"].get<double>();
    const std::size_t before =
        segs[0]["samples"].get<std::size_t>() + segs[1]["samples"].get<std::size_t>();
    for (std::size_t f = before; f < before + 88000; ++f)
        ASSERT_EQ(got.samples[f * 2], 0.0f) << "frame " << f;
    bool at_gap = false;
    for (double t : got.starts) at_gap |= std::abs(t - start2) < 1e-6;
    EXPECT_TRUE(at_gap) << "no chunk starts at segment 2's time " << start2;
    // The PCM before the gap equals an undisturbed decode's.
    env clean("seg404_gap_clean");
    auto s2 = open(clean.srv->url(ts_playlist), *clean.store, *clean.client);
    ASSERT_TRUE(s2);
    auto full = drain(**s2);
    ASSERT_GE(full.samples.size(), before * 2);
    EXPECT_TRUE(std::equal(full.samples.begin(),
                           full.samples.begin() + static_cast<std::ptrdiff_t>(before * 2),
                           got.samples.begin()));
}

TEST(hls_faults, restart_mid_stream_resumes_at_the_first_missing_byte) {
    env e("restart");
    const auto url = e.srv->url(ts_playlist);
    {
        // The first run ends mid-segment 2: its connection drops after 10000 bytes and the
        // resume request gets a 404.
        stream_options o;
        o.request.retry.max_retries = 0;
        e.srv->add_fault(seg_path(2), {.drop_after = 10000}, 1);
        e.srv->add_fault(seg_path(2), {.status = 404}, 2);
        auto s = open(url, *e.store, *e.client, o);
        ASSERT_TRUE(s);
        auto part = drain(**s);
        ASSERT_TRUE(part.failure);
    }
    e.reopen_store();
    std::uint64_t prefix = 0;
    {
        auto asset = e.store->open_asset(url).value();
        auto h = asset.open_streaming(e.srv->url(seg_path(2))).value();
        prefix = h->available().contiguous_end(0);
        EXPECT_FALSE(h->complete());
    }
    ASSERT_GT(prefix, 0u);
    e.srv->clear_log();
    auto s = open(url, *e.store, *e.client);
    ASSERT_TRUE(s);
    expect_reference_pcm(drain(**s), "ts_aac", "index.m3u8");
    EXPECT_TRUE(e.srv->log_for(seg_path(0)).empty());
    EXPECT_TRUE(e.srv->log_for(seg_path(1)).empty());
    const auto log = e.srv->log_for(seg_path(2));
    ASSERT_EQ(log.size(), 1u);
    // bytes=<first missing>-<last> (the length is known from the first response).
    EXPECT_EQ(log[0].range.rfind("bytes=" + std::to_string(prefix) + "-", 0), 0u) << log[0].range;
    EXPECT_FALSE(log[0].if_range.empty()) << "a resume proves it continues the same entity";
}

TEST(hls_faults, a_segment_changed_on_the_server_is_detected_and_never_spliced) {
    env e("changed");
    const auto url = e.srv->url(ts_playlist);
    {
        stream_options o;
        o.request.retry.max_retries = 0;
        e.srv->add_fault(seg_path(2), {.drop_after = 10000}, 1);
        e.srv->add_fault(seg_path(2), {.status = 404}, 2);
        auto s = open(url, *e.store, *e.client, o);
        ASSERT_TRUE(s);
        ASSERT_TRUE(drain(**s).failure);
    }
    // The file is replaced on the server (new ETag and Last-Modified, same playlist).
    const auto original = read_file(fixtures / "ts_aac/index_002.ts");
    auto changed = original;
    changed[20000] = static_cast<char>(changed[20000] ^ 0x55);
    e.srv->put(seg_path(2), changed);
    e.reopen_store();
    std::uint64_t prefix_before = 0;
    {
        auto asset = e.store->open_asset(url).value();
        prefix_before =
            asset.open_streaming(e.srv->url(seg_path(2))).value()->available().contiguous_end(0);
    }
    auto s = open(url, *e.store, *e.client);
    ASSERT_TRUE(s);
    auto got = drain(**s);
    ASSERT_TRUE(got.failure);
    EXPECT_EQ(got.failure->code(), errc::content_changed) << got.failure->message();
    EXPECT_NE(got.failure->message().find("index_002.ts (media sequence 2)"), std::string::npos)
        << got.failure->message();
    s->reset();
    // The cache holds the old prefix only: no byte of the new entity was written after it.
    e.reopen_store();
    auto asset = e.store->open_asset(url).value();
    auto h = asset.open_streaming(e.srv->url(seg_path(2))).value();
    EXPECT_EQ(h->available().contiguous_end(0), prefix_before);
    EXPECT_EQ(h->available_bytes(), prefix_before);
}

TEST(hls_faults, a_vod_playlist_whose_segments_changed_is_detected_at_open) {
    env e("playlist_changed");
    const auto url = e.srv->url(ts_playlist);
    {
        auto s = open(url, *e.store, *e.client);
        ASSERT_TRUE(s);
        ASSERT_FALSE(drain(**s, 1).failure);
    }
    auto text = read_file(fixtures / "ts_aac/index.m3u8");
    const auto at = text.find("index_003.ts");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 12, "index_004.ts");
    e.srv->put(ts_playlist, text);
    auto s = open(url, *e.store, *e.client);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code(), errc::content_changed) << s.error().message();
    EXPECT_NE(s.error().message().find("segment 3"), std::string::npos) << s.error().message();
    EXPECT_EQ(s.error(), kithara::condition::content_changed);
}

TEST(hls_faults, offline_replay_with_the_server_stopped_makes_no_request) {
    env e("offline");
    const auto url = e.srv->url("/aes_ts/iv_sequence.m3u8");
    {
        stream_options o;
        o.cache_keys = true;
        auto s = open(url, *e.store, *e.client, o);
        ASSERT_TRUE(s);
        expect_reference_pcm(drain(**s), "aes_ts", "iv_sequence.m3u8");
    }
    e.srv.reset();  // no server: any request would fail
    e.reopen_store();
    stream_options o;
    o.offline = true;
    auto s = open(url, *e.store, *e.client, o);
    ASSERT_TRUE(s) << s.error().message();
    expect_reference_pcm(drain(**s), "aes_ts", "iv_sequence.m3u8");
    const auto st = (*s)->stats();
    EXPECT_EQ(st.requests, 0u);
    EXPECT_EQ(st.bytes_from_network, 0u);
    EXPECT_EQ(st.segments_from_cache, 5u);
}

TEST(hls_pin, downloads_a_variant_with_progress_and_plays_it_offline_beyond_the_budget) {
    // A budget smaller than the pinned stream: pins are outside it (pin_accounting::excluded).
    assets::store_options so;
    so.max_bytes = 64 * 1024;
    env e("pin", so);
    const auto url = e.srv->url("/fmp4_multi/master.m3u8");
    event_log events;
    stream_options o;
    o.variant = 1;
    o.on_event = events.callback();
    auto st = pin(url, *e.store, *e.client, o);
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_TRUE(e.store->is_pinned(url).value());
    const auto progress = events.of(event_kind::progress);
    ASSERT_FALSE(progress.empty());
    std::size_t last_segments = 0;
    std::uint64_t last_bytes = 0;
    for (const auto& p : progress) {
        EXPECT_GE(p.segments_done, last_segments);
        EXPECT_GE(p.bytes_done, last_bytes);
        EXPECT_LE(p.bytes_done, p.bytes_total);
        last_segments = p.segments_done;
        last_bytes = p.bytes_done;
    }
    const auto& end = progress.back();
    EXPECT_GT(end.segments_total, 1u);
    EXPECT_EQ(end.segments_done, end.segments_total);
    EXPECT_TRUE(end.bytes_total_exact);
    EXPECT_EQ(end.bytes_done, end.bytes_total);
    EXPECT_EQ(st->segments_from_network, end.segments_total);

    // Another stream goes through the small budget meanwhile: the budget holds for it (evicted
    // once closed), the pinned one stays.
    const auto other_url = e.srv->url("/ts_mp3/index.m3u8");
    {
        auto other = open(other_url, *e.store, *e.client);
        ASSERT_TRUE(other);
        ASSERT_FALSE(drain(**other).failure);
    }
    EXPECT_FALSE(e.store->contains(other_url));
    EXPECT_GE(e.store->stats().evictions, 1u);
    e.reopen_store(so);
    EXPECT_TRUE(e.store->contains(url));
    e.srv.reset();
    stream_options off;
    off.offline = true;
    off.variant = 1;
    auto s = open(url, *e.store, *e.client, off);
    ASSERT_TRUE(s) << s.error().message();
    auto got = drain(**s);
    ASSERT_FALSE(got.failure) << got.failure->message();
    EXPECT_EQ((*s)->stats().requests, 0u);
    const std::string v = (*s)->info().variants[1].uri;
    const auto ref = reference("fmp4_multi", v.substr(v.rfind('/') + 1));
    // fMP4: kithara::decode trims the edit list's padding (at most one frame, see HLS.md).
    EXPECT_LE(got.frames(), ref["pcm_samples"].get<std::size_t>());
    EXPECT_LT(ref["pcm_samples"].get<std::size_t>() - got.frames(), 1024u);
}

TEST(hls_pin, pins_keys_for_offline_play_of_an_encrypted_stream) {
    env e("pin_aes");
    const auto url = e.srv->url("/aes_ts/mixed.m3u8");
    auto st = pin(url, *e.store, *e.client);
    ASSERT_TRUE(st) << st.error().message();
    e.srv.reset();
    stream_options off;
    off.offline = true;
    auto s = open(url, *e.store, *e.client, off);
    ASSERT_TRUE(s) << s.error().message();
    expect_reference_pcm(drain(**s), "aes_ts", "mixed.m3u8");
    EXPECT_EQ((*s)->stats().requests, 0u);
}

TEST(hls_pin, skips_gap_segments_and_plays_them_offline_as_gaps) {
    env e("pin_gap");
    const auto url = e.srv->url("/gap/index.m3u8");
    event_log events;
    stream_options o;
    o.on_event = events.callback();
    auto st = pin(url, *e.store, *e.client, o);
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_TRUE(e.srv->log_for("/gap/full_002.m4s").empty());
    const auto progress = events.of(event_kind::progress);
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back().segments_done, progress.back().segments_total);
    e.srv.reset();
    stream_options off;
    off.offline = true;
    event_log played;
    off.on_event = played.callback();
    auto s = open(url, *e.store, *e.client, off);
    ASSERT_TRUE(s) << s.error().message();
    auto got = drain(**s);
    ASSERT_FALSE(got.failure) << got.failure->message();
    EXPECT_EQ(played.of(event_kind::gap).size(), 1u);
    EXPECT_EQ((*s)->stats().requests, 0u);
}

}  // namespace
}  // namespace kithara::hls
