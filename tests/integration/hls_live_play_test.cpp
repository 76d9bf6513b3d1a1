// kithara::hls live playback over the test server's live generator (test_server_live.hpp): a
// window that advances in accelerated real time over the ts_aac fixture's segments, cycled with
// a discontinuity at each wrap. Checked by content: each run of segments (between wraps)
// against the local decode of the same source segments; the timeline continuous across reloads
// (no gap, no duplicate); the live edge; EXT-X-ENDLIST; the sliding-window cache; a pause
// longer than the window; reload faults; a stuck playlist; seeks in the window; PDT.
#include "hls_support.hpp"
#include "test_server_live.hpp"

#include <kithara/hls/hls_stream.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <mutex>

namespace kithara::hls_test {
namespace {

using namespace std::chrono_literals;
using test::live_source;
using test::live_stream;
using test::live_stream_options;

struct live_env : env {
    std::unique_ptr<live_stream> live;
    live_source source;
    explicit live_env(const std::string& name, live_stream_options o,
                      const fs::path& vod = fixtures / "ts_aac/index.m3u8")
        : env(name) {
        std::string error;
        auto s = live_source::from_vod_playlist(vod, error);
        EXPECT_TRUE(s) << error;
        source = *s;
        o.source = source;
        live = live_stream::create(*srv, o, error);
        EXPECT_TRUE(live) << error;
    }
    std::string url() const { return srv->url(live->options().path); }
    // Options whose reload clock runs at the generator's speed (events into `log`, if given).
    hls::stream_options options(event_log* log = nullptr) const {
        hls::stream_options so;
        so.live.time_scale = live->options().time_scale;
        if (log) so.on_event = log->callback();
        return so;
    }
};

// A live stream at `path` of `window` segments, time_scale media seconds per wall second, and
// EXT-X-ENDLIST after end_after segments when given.
live_stream_options stream(std::string path, std::size_t window, double time_scale,
                           std::optional<std::uint64_t> end_after = std::nullopt) {
    live_stream_options o;
    o.path = std::move(path);
    o.window = window;
    o.time_scale = time_scale;
    o.end_after = end_after;
    return o;
}

// The reference PCM of source segments [first, last] decoded in one run, as a fresh decoder
// reading them in order produces it (the fixture's segments are written into one file).
pcm reference_run(const live_source& src, std::size_t first, std::size_t last) {
    std::vector<std::byte> all;
    if (src.init) {  // fMP4: the init section first
        const auto* p = reinterpret_cast<const std::byte*>(src.init->data());
        all.insert(all.end(), p, p + src.init->size());
    }
    for (std::size_t k = first; k <= last; ++k) {
        const auto& b = *src.segments[k].bytes;
        const auto* p = reinterpret_cast<const std::byte*>(b.data());
        all.insert(all.end(), p, p + b.size());
    }
    auto dec = decode::decoder::open(stream::memory_source::create(all)).value();
    pcm out;
    for (;;) {
        auto c = dec->next();
        if (!c || !*c) break;
        out.rate = (*c)->sample_rate;
        out.channels = (*c)->channels;
        out.samples.insert(out.samples.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    return out;
}

// Chunks' starts follow each other exactly (a chunk starts where the one before ended).
void expect_continuous(const std::vector<double>& starts, const std::vector<std::size_t>& frames,
                       std::uint32_t rate) {
    for (std::size_t i = 1; i < starts.size(); ++i) {
        const double end = starts[i - 1] + static_cast<double>(frames[i - 1]) / rate;
        ASSERT_NEAR(starts[i], end, 1.5 / rate) << "chunk " << i << " of " << starts.size();
    }
}

struct played {
    pcm all;
    std::vector<std::size_t> frames;  // per chunk
};

played play_to_end(hls::hls_stream& s, std::size_t max_frames = SIZE_MAX) {
    played p;
    while (p.all.frames() < max_frames) {
        auto c = s.next();
        if (!c) {
            p.all.failure = c.error();
            break;
        }
        if (!*c) break;
        p.all.rate = (*c)->sample_rate;
        p.all.channels = (*c)->channels;
        p.all.starts.push_back(std::chrono::duration<double>((*c)->start).count());
        p.frames.push_back((*c)->frames());
        p.all.samples.insert(p.all.samples.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    return p;
}

TEST(hls_live_play, plays_from_the_live_edge_across_reloads_to_endlist_without_gap_or_duplicate) {
    // 3 loops of the 5 source segments and 2 more: ENDLIST after MSN 16.
    auto o = stream("/live/radio.m3u8", 4, 8, 17);
    live_env t("live_play", o);
    ASSERT_TRUE(t.live);
    event_log log;
    auto so = t.options(&log);
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    const auto info = (*s)->info();
    EXPECT_TRUE(info.live);
    EXPECT_FALSE(info.ended);

    auto p = play_to_end(**s);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    ASSERT_FALSE(p.all.starts.empty());
    EXPECT_TRUE((*s)->info().ended);
    EXPECT_EQ(log.of(hls::event_kind::live_ended).size(), 1u);
    EXPECT_GE(log.of(hls::event_kind::live_reloaded).size(), 3u);

    // The live edge: the 4 segments at open, HOLD-BACK 3 target durations (6 s) from their
    // end: playback starts with the segment holding end - 6 s.
    ASSERT_EQ(t.source.segments.size(), 5u);
    double total = 0;
    for (std::size_t k = 0; k < 4; ++k) total += t.source.segments[k].duration;
    std::size_t start_msn = 0;
    double start_at = 0;
    while (start_at + t.source.segments[start_msn].duration <= total - 6.0)
        start_at += t.source.segments[start_msn++].duration;
    EXPECT_NEAR(p.all.starts.front(), start_at, 1e-6);

    // No gap, no duplicate: every chunk starts where the previous ended, except at the loop
    // wraps (discontinuities: a new decoder, which starts at the segment's EXTINF start).
    std::vector<double> wraps;  // timeline start of MSN 5, 10, 15
    double loop = 0;
    for (const auto& seg : t.source.segments) loop += seg.duration;
    for (int k = 1; k <= 3; ++k) wraps.push_back(loop * k);
    std::size_t run_begin = 0;
    std::vector<std::pair<std::size_t, std::size_t>> runs;  // chunk index ranges
    for (std::size_t i = 1; i <= p.all.starts.size(); ++i) {
        const bool wrap =
            i < p.all.starts.size() && std::any_of(wraps.begin(), wraps.end(), [&](double w) {
                return std::abs(p.all.starts[i] - w) < 1e-6;
            });
        if (i == p.all.starts.size() || wrap) {
            runs.emplace_back(run_begin, i);
            run_begin = i;
        }
    }
    ASSERT_EQ(runs.size(), 4u) << "runs: the first partial loop, two whole loops, the tail";
    const auto rate = p.all.rate;
    const auto ch = p.all.channels;
    for (const auto& [b, e] : runs) {
        std::vector<double> st(p.all.starts.begin() + static_cast<std::ptrdiff_t>(b),
                               p.all.starts.begin() + static_cast<std::ptrdiff_t>(e));
        std::vector<std::size_t> fr(p.frames.begin() + static_cast<std::ptrdiff_t>(b),
                                    p.frames.begin() + static_cast<std::ptrdiff_t>(e));
        expect_continuous(st, fr, rate);
    }
    // Content: each run against a fresh decode of the same source segments.
    const std::pair<std::size_t, std::size_t> sources[] = {{start_msn, 4}, {0, 4}, {0, 4}, {0, 1}};
    std::size_t offset = 0;
    for (std::size_t r = 0; r < runs.size(); ++r) {
        std::size_t n = 0;
        for (auto i = runs[r].first; i < runs[r].second; ++i) n += p.frames[i];
        const auto ref = reference_run(t.source, sources[r].first, sources[r].second);
        ASSERT_EQ(ref.rate, rate);
        EXPECT_EQ(n, ref.frames()) << "run " << r;
        const auto m = std::min(n, ref.frames());
        EXPECT_GT(snr_db(p.all.samples.data() + offset * ch, ref.samples.data(), m * ch), 90.0)
            << "run " << r;
        offset += n;
    }
}

// The streaming resources of the live playlist's asset in the cache, and their bytes.
std::pair<std::size_t, std::uint64_t> cached_segments(live_env& t) {
    auto asset = t.store->open_asset(t.url());
    EXPECT_TRUE(asset);
    if (!asset) return {};
    auto list = asset->resources();
    EXPECT_TRUE(list);
    if (!list) return {};
    std::pair<std::size_t, std::uint64_t> out;
    for (const auto& r : *list) {
        if (r.kind != assets::resource_kind::streaming) continue;
        ++out.first;
        out.second += r.bytes;
    }
    return out;
}

// A source of 50 segments: one decoder run spans them all (no discontinuity until the source
// wraps), so the window must slide inside a run, not only when a new run opens.
TEST(hls_live_play, the_cache_keeps_a_sliding_window_not_the_whole_stream) {
    auto o = stream("/live/long.m3u8", 3, 15, 60);  // about 120 s of media
    live_env t("live_window", o, fixtures / "abr/t64.m3u8");
    ASSERT_TRUE(t.live);
    auto so = t.options();
    so.prefetch_seconds = 4;
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    const std::uint64_t one = t.source.segments[0].bytes->size();
    // Played and out of the window: removed. What stays is the window (3), the segments
    // prefetched past it, and the last few the player was on.
    // Mid-run: about 40 segments in, before the source wraps.
    auto first = play_to_end(**s, 44100 * 80);
    ASSERT_FALSE(first.all.failure) << first.all.failure->message();
    const auto [mid, mid_bytes] = cached_segments(t);
    EXPECT_LE(mid, 8u) << "of about 40 played";
    EXPECT_LE(mid_bytes, 10 * one);
    auto p = play_to_end(**s);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    EXPECT_TRUE((*s)->info().ended);
    s->reset();
    const auto [end, end_bytes] = cached_segments(t);
    EXPECT_LE(end, 8u) << "of 60 played";
    EXPECT_LE(end_bytes, 10 * one);
}

// A live stream that plays for long holds a bounded segment table: the entries of segments
// behind the player and out of the server's window go, 64 at a time (memory stays flat; see the
// one-hour soak in docs/PERFORMANCE.md). Every segment still plays.
TEST(hls_live_play, the_segment_table_stays_bounded_however_long_the_stream_plays) {
    auto o = stream("/live/table.m3u8", 12, 40, 170);  // 340 s of media in about 9 s
    live_env t("live_table", o, fixtures / "abr/t64.m3u8");
    ASSERT_TRUE(t.live);
    event_log log;
    auto so = t.options(&log);
    so.prefetch_seconds = 4;
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    std::uint64_t most = 0;
    std::size_t frames = 0;
    for (;;) {
        auto part = play_to_end(**s, 44100 * 20);  // 20 s of media at a time
        ASSERT_FALSE(part.all.failure) << part.all.failure->message();
        frames += part.all.frames();
        most = std::max(most, (*s)->stats().segments_held);
        if (part.all.frames() < 44100 * 20) break;  // the end: ENDLIST after the last segment
    }
    EXPECT_TRUE((*s)->info().ended);
    EXPECT_TRUE(log.of(hls::event_kind::live_jump).empty()) << "segments lost";
    // From the live start (a few segments before the 170th's window end... at most the window)
    // to the last: over 150 segments of 2 s played, and at most two blocks and the window held.
    EXPECT_GT(frames, 44100u * 2 * 150);
    EXPECT_LE(most, 2u * 64 + 12 + 4) << "segments held at most";
}

// --- LL-HLS: the segment the server is building, read part by part. ---

// Each run of `p` (split where the timeline wraps the source: a discontinuity, a new decoder)
// against a fresh decode of the source segments it covers, from the frame where it starts.
// `primed`: the first run's decoder began a segment early (a live track switch), and so does
// its reference.
void expect_runs_match_source(const played& p, const live_source& src, bool primed = false) {
    ASSERT_FALSE(p.all.starts.empty());
    std::vector<double> cum{0};  // source segment starts within one loop
    for (const auto& seg : src.segments) cum.push_back(cum.back() + seg.duration);
    const double loop = cum.back();
    const auto rate = p.all.rate;
    const auto ch = p.all.channels;
    auto wraps_at = [&](double t) {
        const double r = std::fmod(t, loop);
        return t > 1e-6 && (r < 1e-6 || loop - r < 1e-6);
    };
    std::size_t b = 0, offset = 0, runs = 0;
    for (std::size_t i = 1; i <= p.all.starts.size(); ++i) {
        if (i < p.all.starts.size() && !wraps_at(p.all.starts[i])) continue;
        std::vector<double> st(p.all.starts.begin() + static_cast<std::ptrdiff_t>(b),
                               p.all.starts.begin() + static_cast<std::ptrdiff_t>(i));
        std::vector<std::size_t> fr(p.frames.begin() + static_cast<std::ptrdiff_t>(b),
                                    p.frames.begin() + static_cast<std::ptrdiff_t>(i));
        expect_continuous(st, fr, rate);
        std::size_t n = 0;
        for (auto f : fr) n += f;
        // Where the run begins and ends in the source.
        const double t0 = std::fmod(st.front() + 1e-7, loop);
        std::size_t first = 0;
        while (first + 1 < src.segments.size() && cum[first + 1] <= t0) ++first;
        const double t1 = t0 + static_cast<double>(n) / rate;
        std::size_t last = first;
        while (last + 1 < src.segments.size() && cum[last + 1] < t1 - 1e-3) ++last;
        const bool prime = primed && runs == 0 && first > 0;
        const auto ref = reference_run(src, prime ? first - 1 : first, last);
        EXPECT_EQ(ref.rate, rate);
        auto skip = static_cast<std::size_t>(
            std::llround((st.front() - std::floor(st.front() / loop) * loop - cum[first]) * rate));
        if (prime) skip += reference_run(src, first - 1, first - 1).frames();
        EXPECT_LE(skip + n, ref.frames()) << "run " << runs;
        const auto m = std::min(n, ref.frames() > skip ? ref.frames() - skip : 0);
        EXPECT_GT(
            snr_db(p.all.samples.data() + offset * ch, ref.samples.data() + skip * ch, m * ch),
            90.0)
            << "run " << runs << " from source segment " << first << " + " << skip << " frames";
        offset += n;
        b = i;
        ++runs;
    }
}

// The media sequence number and part whose media holds timeline position t (the generator's
// timeline: the source's segments cycled from MSN 0 at time 0, parts of equal duration).
std::pair<std::uint64_t, int> msn_part_at(const live_source& src, int parts, double t) {
    std::uint64_t k = 0;
    double at = 0;
    for (;;) {
        const double d = src.segments[k % src.segments.size()].duration;
        if (t < at + d - 1e-6) return {k, static_cast<int>((t - at) / (d / parts))};
        at += d;
        ++k;
    }
}

TEST(hls_live_play, ll_hls_reads_the_segment_being_built_part_by_part_without_gap_or_duplicate) {
    // 0.5 s parts of 2 s segments; media runs at 2x (a part every 250 ms of wall time).
    auto o = stream("/live/ll.m3u8", 4, 2, 11);
    o.parts_per_segment = 4;
    live_env t("live_ll_parts", o);
    ASSERT_TRUE(t.live);
    event_log log;
    auto so = t.options(&log);
    const auto complete_at_open = t.live->last_media_sequence();
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();

    // Play as fast as the server publishes, noting when each chunk came.
    played p;
    std::vector<std::chrono::steady_clock::time_point> came;
    for (;;) {
        auto c = (*s)->next();
        ASSERT_TRUE(c) << c.error().message();
        if (!*c) break;
        came.push_back(std::chrono::steady_clock::now());
        p.all.rate = (*c)->sample_rate;
        p.all.channels = (*c)->channels;
        p.all.starts.push_back(std::chrono::duration<double>((*c)->start).count());
        p.frames.push_back((*c)->frames());
        p.all.samples.insert(p.all.samples.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    EXPECT_TRUE((*s)->info().ended);
    EXPECT_TRUE(log.of(hls::event_kind::live_jump).empty());

    // The start: PART-HOLD-BACK (3 part targets, 1.5 s) from the end of the playlist at open,
    // at an independent part (the first of a segment on this server), never at HOLD-BACK.
    ASSERT_FALSE(p.all.starts.empty());
    const auto [start_msn, start_part] = msn_part_at(t.source, 4, p.all.starts.front());
    EXPECT_GE(start_msn + 1, complete_at_open) << "starts within the last segments";
    EXPECT_EQ(start_part, 0) << "at an independent part";

    // Whole and in order: no gap, no duplicate, the content of the source.
    expect_runs_match_source(p, t.source);
    const double end = p.all.starts.back() + static_cast<double>(p.frames.back()) / p.all.rate;
    double total = 0;
    for (std::uint64_t k = 0; k < 11; ++k)
        total += t.source.segments[k % t.source.segments.size()].duration;
    EXPECT_NEAR(end, total, 0.05) << "played to the end of the last segment";

    // Read from parts: segments the player reached while the server built them played before
    // they were whole on the server. A chunk in the first two parts of such a segment came at
    // least two part durations (500 ms of media, 250 ms of wall time) before the segment was
    // published whole.
    const auto st = (*s)->stats();
    EXPECT_GT(st.parts_fetched, 0u);
    EXPECT_GE(st.segments_from_parts, 5u);
    std::size_t early = 0, checked = 0;
    for (std::size_t i = 0; i < p.all.starts.size(); ++i) {
        const auto [msn, part] = msn_part_at(t.source, 4, p.all.starts[i] + 1e-7);
        if (msn <= complete_at_open + 1 || part > 1) continue;
        const auto whole = t.live->published_at(msn);
        ASSERT_TRUE(whole);
        ++checked;
        if (came[i] < *whole) ++early;
    }
    EXPECT_GT(checked, 20u);
    EXPECT_EQ(early, checked) << "chunks of early parts that came before their segment was whole";
}

TEST(hls_live_play, ll_hls_a_part_that_fails_is_had_from_its_segment_and_nothing_is_lost) {
    auto o = stream("/live/llf.m3u8", 4, 4, 10);
    o.parts_per_segment = 4;
    live_env t("live_ll_fault", o);
    ASSERT_TRUE(t.live);
    // Every request for parts 1 and 2 of the segments after the live start answers 404: the
    // rest of each of those segments comes from its own URI with a Range request, once the
    // playlist lists it whole.
    const auto from = t.live->last_media_sequence() + 1;
    for (auto k = from; k < 10; ++k) {
        t.srv->add_fault(t.live->path_of(t.live->part_uri(k, 1)), {.status = 404}, 1, 0);
        t.srv->add_fault(t.live->path_of(t.live->part_uri(k, 2)), {.status = 404}, 1, 0);
    }
    event_log log;
    auto s = hls::open(t.url(), *t.store, *t.client, t.options(&log));
    ASSERT_TRUE(s) << s.error().message();
    auto p = play_to_end(**s);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    EXPECT_TRUE((*s)->info().ended);
    EXPECT_TRUE(log.of(hls::event_kind::gap).empty());
    expect_runs_match_source(p, t.source);
    const double end = p.all.starts.back() + static_cast<double>(p.frames.back()) / p.all.rate;
    double total = 0;
    for (std::uint64_t k = 0; k < 10; ++k)
        total += t.source.segments[k % t.source.segments.size()].duration;
    EXPECT_NEAR(end, total, 0.05);
    EXPECT_GE((*s)->stats().segments_from_parts, 3u);
    // A Range request for the rest of a segment whose part failed.
    bool ranged = false;
    for (const auto& r : t.srv->log())
        if (r.path == t.live->path_of(t.live->segment_uri(from + 1)) && !r.range.empty())
            ranged = true;
    EXPECT_TRUE(ranged) << "the rest of segment " << from + 1 << " by Range";
}

TEST(hls_live_play, ll_hls_off_plays_whole_segments_from_hold_back) {
    auto o = stream("/live/llo.m3u8", 4, 8, 8);
    o.parts_per_segment = 4;
    live_env t("live_ll_off", o);
    ASSERT_TRUE(t.live);
    auto so = t.options();
    so.live.low_latency = false;
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    auto p = play_to_end(**s);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    expect_runs_match_source(p, t.source);
    EXPECT_EQ((*s)->stats().parts_fetched, 0u);
    EXPECT_EQ((*s)->stats().segments_from_parts, 0u);
}

// A live master: two bitrate tiers, each with an English and a German live rendition (four live
// streams of the renditions fixture's playlists, served side by side).
struct live_master {
    std::vector<std::unique_ptr<live_stream>> streams;
    std::map<std::string, live_source> sources;
    std::string dir;  // "/live/<name>/"
    live_master(env& t, const std::string& case_name, double time_scale, std::uint64_t end_after)
        : dir("/live/" + case_name + "/") {
        for (const char* name : {"en64", "de64", "en128", "de128"}) {
            std::string error;
            auto src = live_source::from_vod_playlist(
                fixtures / "renditions" / (std::string(name) + ".m3u8"), error);
            EXPECT_TRUE(src) << error;
            if (!src) return;
            sources[name] = *src;
            auto o = stream(dir + name + ".m3u8", 4, time_scale, end_after);
            o.source = *src;
            auto s = live_stream::create(*t.srv, o, error);
            EXPECT_TRUE(s) << error;
            streams.push_back(std::move(s));
        }
        t.srv->put(dir + "master.m3u8",
                   "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n"
                   "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a64\",NAME=\"English\",LANGUAGE=\"en\","
                   "DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"en64.m3u8\"\n"
                   "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a64\",NAME=\"Deutsch\",LANGUAGE=\"de\","
                   "AUTOSELECT=YES,CHANNELS=\"2\",URI=\"de64.m3u8\"\n"
                   "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a128\",NAME=\"English\",LANGUAGE=\"en\","
                   "DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"en128.m3u8\"\n"
                   "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a128\",NAME=\"Deutsch\",LANGUAGE=\"de\","
                   "AUTOSELECT=YES,CHANNELS=\"2\",URI=\"de128.m3u8\"\n"
                   "#EXT-X-STREAM-INF:BANDWIDTH=100000,CODECS=\"mp4a.40.2\",AUDIO=\"a64\"\n"
                   "en64.m3u8\n"
                   "#EXT-X-STREAM-INF:BANDWIDTH=180000,CODECS=\"mp4a.40.2\",AUDIO=\"a128\"\n"
                   "en128.m3u8\n");
    }
};

// Options for a live master's streams at time_scale, events into `log`.
hls::stream_options master_options(double time_scale, event_log& log) {
    hls::stream_options so;
    so.live.time_scale = time_scale;
    so.on_event = log.callback();
    return so;
}

TEST(hls_live_play, a_live_master_plays_the_preferred_rendition_of_the_chosen_variant) {
    env t("live_master");
    for (const auto& [variant, want] :
         {std::pair<std::size_t, std::string>{0, "de64"}, {1, "de128"}}) {
        // A stream of its own for each case (each plays to its ENDLIST).
        live_master m(t, want, 8, 12);
        ASSERT_EQ(m.streams.size(), 4u);
        event_log log;
        auto so = master_options(8, log);
        so.variant = variant;
        so.audio.languages = {"de"};
        auto s = hls::open(t.srv->url(m.dir + "master.m3u8"), *t.store, *t.client, so);
        ASSERT_TRUE(s) << s.error().message();
        const auto info = (*s)->info();
        EXPECT_TRUE(info.live);
        ASSERT_TRUE(info.rendition);
        EXPECT_EQ(info.renditions[*info.rendition].language, "de") << want;
        EXPECT_EQ(info.variant, variant);
        auto p = play_to_end(**s);
        ASSERT_FALSE(p.all.failure) << p.all.failure->message();
        EXPECT_TRUE((*s)->info().ended);
        // The German rendition of that tier, whole from the live start to ENDLIST.
        expect_runs_match_source(p, m.sources[want]);
        const double end = p.all.starts.back() + static_cast<double>(p.frames.back()) / p.all.rate;
        double total = 0;
        const auto& src = m.sources[want];
        for (std::uint64_t k = 0; k < 12; ++k)
            total += src.segments[k % src.segments.size()].duration;
        EXPECT_NEAR(end, total, 0.05) << want;
        // Only that rendition's segments were requested.
        for (const auto& r : t.srv->log()) {
            if (r.path.ends_with(".m4s")) {
                EXPECT_TRUE(r.path.starts_with(m.dir + want + "_")) << r.path;
            }
        }
        t.srv->clear_log();
    }
}

// The chunks of `p` from index `from` to `to` as a played of their own.
played slice(const played& p, std::size_t from, std::size_t to) {
    played out;
    out.all.rate = p.all.rate;
    out.all.channels = p.all.channels;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < from; ++i) offset += p.frames[i];
    for (std::size_t i = from; i < to; ++i) {
        out.all.starts.push_back(p.all.starts[i]);
        out.frames.push_back(p.frames[i]);
        const auto* b = p.all.samples.data() + offset * p.all.channels;
        out.all.samples.insert(out.all.samples.end(), b, b + p.frames[i] * p.all.channels);
        offset += p.frames[i];
    }
    return out;
}

// Appends `q` to `p`.
void append(played& p, const played& q) {
    p.all.rate = q.all.rate;
    p.all.channels = q.all.channels;
    p.all.starts.insert(p.all.starts.end(), q.all.starts.begin(), q.all.starts.end());
    p.frames.insert(p.frames.end(), q.frames.begin(), q.frames.end());
    p.all.samples.insert(p.all.samples.end(), q.all.samples.begin(), q.all.samples.end());
    if (q.all.failure) p.all.failure = q.all.failure;
}

// The chunk that starts at t (a switch point), or the number of chunks.
std::size_t chunk_at(const played& p, double t) {
    for (std::size_t i = 0; i < p.all.starts.size(); ++i)
        if (std::abs(p.all.starts[i] - t) < 1.5 / p.all.rate) return i;
    return p.all.starts.size();
}

TEST(hls_live_play, select_audio_on_a_live_master_switches_rendition_at_a_segment_boundary) {
    env t("live_master_switch");
    live_master m(t, "switch", 4, 12);
    ASSERT_EQ(m.streams.size(), 4u);
    event_log log;
    auto so = master_options(4, log);
    so.variant = 0;
    so.audio.languages = {"en"};
    auto s = hls::open(t.srv->url(m.dir + "master.m3u8"), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_TRUE((*s)->info().rendition);
    EXPECT_EQ((*s)->info().renditions[*(*s)->info().rendition].language, "en");
    auto p = play_to_end(**s, 44100 * 3);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    hls::audio_preferences de;
    de.languages = {"de"};
    ASSERT_TRUE((*s)->select_audio(de));
    append(p, play_to_end(**s));
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    EXPECT_TRUE((*s)->info().ended);
    ASSERT_TRUE((*s)->info().rendition);
    EXPECT_EQ((*s)->info().renditions[*(*s)->info().rendition].language, "de");

    // One switch, at a segment boundary after the position it was asked at: English whole up
    // to it, German whole from it, the timeline continuous through it.
    const auto switched = log.of(hls::event_kind::rendition_switched);
    ASSERT_EQ(switched.size(), 1u);
    const double at = switched[0].time;
    EXPECT_GE(at, 3.0);
    const auto i = chunk_at(p, at);
    ASSERT_LT(i, p.all.starts.size()) << "no chunk starts at the switch (" << at << " s)";
    ASSERT_GT(i, 0u);
    EXPECT_NEAR(p.all.starts[i - 1] + static_cast<double>(p.frames[i - 1]) / p.all.rate, at,
                1.5 / p.all.rate);
    expect_runs_match_source(slice(p, 0, i), m.sources["en64"]);
    expect_runs_match_source(slice(p, i, p.all.starts.size()), m.sources["de64"], true);
    const double end = p.all.starts.back() + static_cast<double>(p.frames.back()) / p.all.rate;
    double total = 0;
    const auto& src = m.sources["de64"];
    for (std::uint64_t k = 0; k < 12; ++k) total += src.segments[k % src.segments.size()].duration;
    EXPECT_NEAR(end, total, 0.05);
    EXPECT_EQ((*s)->stats().switches, 1u);
    // Asking for what plays already changes nothing.
    EXPECT_TRUE((*s)->select_audio(de));
}

TEST(hls_live_play, a_live_master_adapts_its_variant_to_the_measured_network) {
    env t("live_master_abr");
    // Media at 4x (playback_speed 4: a variant needs 4x its bandwidth). A link the 64 kbit/s
    // tier fits and the 128 kbit/s one does not (90 kB/s, 720 kbit/s: 4 x 100 <= 0.7 x 720 <
    // 4 x 180), then a fast one.
    t.srv->set_link_rate(90'000);
    live_master m(t, "abr", 4, 14);
    ASSERT_EQ(m.streams.size(), 4u);
    event_log log;
    hls::stream_options so;
    so.live.time_scale = 4;
    so.abr.playback_speed = 4;
    so.on_event = log.callback();
    auto s = hls::open(t.srv->url(m.dir + "master.m3u8"), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ((*s)->info().variant, 0u);
    auto p = play_to_end(**s, 44100 * 5);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    EXPECT_EQ((*s)->info().variant, 0u) << "stays on the tier the link fits";
    EXPECT_TRUE(log.of(hls::event_kind::variant_switched).empty());
    t.srv->set_link_rate(0);
    append(p, play_to_end(**s));
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    EXPECT_TRUE((*s)->info().ended);
    EXPECT_EQ((*s)->info().variant, 1u) << "up once the link allows";
    const auto switched = log.of(hls::event_kind::variant_switched);
    ASSERT_EQ(switched.size(), 1u);
    EXPECT_EQ(switched[0].variant, 1u);
    const auto i = chunk_at(p, switched[0].time);
    ASSERT_LT(i, p.all.starts.size());
    ASSERT_GT(i, 0u);
    // English at 64 kbit/s up to the switch, at 128 kbit/s from it, no gap, no duplicate.
    expect_runs_match_source(slice(p, 0, i), m.sources["en64"]);
    expect_runs_match_source(slice(p, i, p.all.starts.size()), m.sources["en128"], true);
    EXPECT_NEAR(p.all.starts[i - 1] + static_cast<double>(p.frames[i - 1]) / p.all.rate,
                p.all.starts[i], 1.5 / p.all.rate);
    EXPECT_TRUE(log.of(hls::event_kind::live_jump).empty());
}

TEST(hls_live_play, lock_variant_on_a_live_master_switches_at_the_next_segment_boundary) {
    env t("live_master_lock");
    live_master m(t, "lock", 8, 10);
    ASSERT_EQ(m.streams.size(), 4u);
    event_log log;
    auto so = master_options(8, log);
    so.variant = 0;
    auto s = hls::open(t.srv->url(m.dir + "master.m3u8"), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    auto p = play_to_end(**s, 44100 * 2);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    (*s)->lock_variant(1);
    append(p, play_to_end(**s));
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    EXPECT_EQ((*s)->info().variant, 1u);
    const auto switched = log.of(hls::event_kind::variant_switched);
    ASSERT_EQ(switched.size(), 1u);
    const auto i = chunk_at(p, switched[0].time);
    ASSERT_LT(i, p.all.starts.size());
    ASSERT_GT(i, 0u);
    expect_runs_match_source(slice(p, 0, i), m.sources["en64"]);
    expect_runs_match_source(slice(p, i, p.all.starts.size()), m.sources["en128"], true);
}

TEST(hls_live_play, a_pause_longer_than_the_window_resumes_at_its_oldest_segment_with_an_event) {
    auto o = stream("/live/pause.m3u8", 3, 10);
    o.grace = 0ms;  // segments are gone as soon as they leave the window
    live_env t("live_pause", o);
    ASSERT_TRUE(t.live);
    event_log log;
    auto so = t.options(&log);
    so.prefetch_seconds = 1;  // only the segment being played is fetched ahead
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    auto first = play_to_end(**s, 4096);
    ASSERT_FALSE(first.all.failure);
    ASSERT_FALSE(first.all.starts.empty());
    // Away for 12 segments (~23 s of media): the window moved far past the position.
    const auto now = t.live->last_media_sequence();
    ASSERT_TRUE(t.live->wait_published(now + 12, std::nullopt, 10s));
    auto after = play_to_end(**s, 44100 * 6);
    ASSERT_FALSE(after.all.failure) << after.all.failure->message();
    const auto jumps = log.of(hls::event_kind::live_jump);
    ASSERT_GE(jumps.size(), 1u);
    ASSERT_FALSE(after.all.starts.empty());
    // Playback went on from the window's oldest segment then: at least `now + 12 - window`
    // (the timeline stays continuous over what was lost: it counts media played, not missed).
    EXPECT_GE(jumps.back().media_sequence, now + 12 - 3);
    EXPECT_GE(jumps.back().time, first.all.starts.back());
    EXPECT_GE(after.all.frames(), std::size_t{44100} * 6);
}

TEST(hls_live_play, failed_reloads_back_off_and_playback_goes_on) {
    auto o = stream("/live/faulty.m3u8", 4, 8, 12);
    live_env t("live_faults", o);
    ASSERT_TRUE(t.live);
    event_log log;
    auto so = t.options(&log);
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    t.live->fail_next_reloads(3, 503);
    auto p = play_to_end(**s);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    EXPECT_TRUE((*s)->info().ended);
    EXPECT_GE(log.of(hls::event_kind::live_reload_failed).size(), 1u);
    // The whole tail played, to the end of MSN 11.
    double end = 0;
    for (std::uint64_t m = 0; m < 12; ++m) end += t.source.segments[m % 5].duration;
    const double last = p.all.starts.back() + static_cast<double>(p.frames.back()) / p.all.rate;
    EXPECT_NEAR(last, end, 0.05);
}

TEST(hls_live_play, a_stuck_playlist_is_reported_and_playback_resumes_when_it_moves) {
    auto o = stream("/live/stuck.m3u8", 4, 8, 14);
    live_env t("live_stuck", o);
    ASSERT_TRUE(t.live);
    event_log log;
    auto so = t.options(&log);
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    // Frozen for 2 s of wall time = 16 s of media = 8 target durations, then caught up.
    t.live->freeze(2000ms, true);
    auto p = play_to_end(**s);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    EXPECT_GE(log.of(hls::event_kind::live_stuck).size(), 1u);
    EXPECT_GE(log.of(hls::event_kind::live_recovered).size(), 1u);
    EXPECT_TRUE((*s)->info().ended);
}

// next() waiting at the live edge of a frozen playlist returns cancelled at once when another
// thread calls interrupt(), and so does every later next().
TEST(hls_live_play, interrupt_ends_a_next_waiting_at_the_live_edge) {
    auto o = stream("/live/interrupt.m3u8", 4, 8);
    live_env t("live_interrupt", o);
    ASSERT_TRUE(t.live);
    std::promise<void> stuck;
    std::once_flag once;
    auto so = t.options();
    so.on_event = [&](const hls::event& ev) {
        if (ev.kind == hls::event_kind::live_stuck)
            std::call_once(once, [&] { stuck.set_value(); });
    };
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    t.live->freeze(60'000ms, false);  // frozen for longer than the test
    auto played = std::async(std::launch::async, [&]() -> std::optional<error> {
        for (;;) {
            auto c = (*s)->next();
            if (!c) return c.error();
            if (!*c) return std::nullopt;
        }
    });
    // Stuck: the player has played the window and waits for a reload that brings nothing new.
    ASSERT_EQ(stuck.get_future().wait_for(30s), std::future_status::ready);
    EXPECT_EQ(played.wait_for(0s), std::future_status::timeout);  // still waiting
    (*s)->interrupt();
    ASSERT_EQ(played.wait_for(10s), std::future_status::ready);
    const auto err = played.get();
    ASSERT_TRUE(err);
    EXPECT_EQ(*err, kithara::condition::cancelled) << err->message();
    auto again = (*s)->next();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), kithara::condition::cancelled);
}

TEST(hls_live_play, seeks_within_the_window_and_back_to_the_live_edge) {
    auto o = stream("/live/seek.m3u8", 6, 1);  // real time: the window stays put meanwhile
    live_env t("live_seek", o);
    ASSERT_TRUE(t.live);
    auto s = hls::open(t.url(), *t.store, *t.client, t.options());
    ASSERT_TRUE(s) << s.error().message();
    auto first = play_to_end(**s, 1);
    ASSERT_FALSE(first.all.starts.empty());
    const auto info = (*s)->info();
    EXPECT_NEAR(info.window_start, 0.0, 1e-9);
    EXPECT_GT(info.window_end, 10.0);
    // Back to the window's start (earlier than the live edge we started at).
    ASSERT_TRUE((*s)->seek(0.5));
    auto back = play_to_end(**s, 1);
    ASSERT_FALSE(back.all.failure);
    ASSERT_FALSE(back.all.starts.empty());
    EXPECT_NEAR(back.all.starts.front(), 0.5, 1.0 / 44100);
    // Before the window: clamped to its start.
    ASSERT_TRUE((*s)->seek(-5));
    auto clamp = play_to_end(**s, 1);
    ASSERT_FALSE(clamp.all.starts.empty());
    EXPECT_NEAR(clamp.all.starts.front(), info.window_start, 1.0 / 44100);
    // The live edge again.
    ASSERT_TRUE((*s)->seek_to_live_edge());
    auto edge = play_to_end(**s, 1);
    ASSERT_FALSE(edge.all.starts.empty());
    EXPECT_NEAR(edge.all.starts.front(), first.all.starts.front(), 2.5);
    EXPECT_GT(edge.all.starts.front(), 1.0);
    // Wall clock: the generator dates position 0 at pdt_epoch (now minus the initial window).
    const auto w0 = (*s)->wall_clock(0);
    const auto w4 = (*s)->wall_clock(4);
    ASSERT_TRUE(w0 && w4);
    EXPECT_NEAR(std::chrono::duration<double>(*w4 - *w0).count(), 4.0, 1e-3);
}

TEST(hls_live_play, an_event_playlist_starts_at_its_beginning_when_asked) {
    auto o = stream("/live/event.m3u8", 4, 8, 8);
    o.type = test::live_playlist_type::event;
    live_env t("live_event", o);
    ASSERT_TRUE(t.live);
    auto so = t.options();
    so.live.event_from_beginning = true;
    auto s = hls::open(t.url(), *t.store, *t.client, so);
    ASSERT_TRUE(s) << s.error().message();
    auto p = play_to_end(**s);
    ASSERT_FALSE(p.all.failure) << p.all.failure->message();
    ASSERT_FALSE(p.all.starts.empty());
    EXPECT_NEAR(p.all.starts.front(), 0.0, 1e-9);
    EXPECT_TRUE((*s)->info().ended);
}

// An EVENT playlist's window never moves: without keep_event the segments the player passed
// leave the cache all the same (mid-play and at the end); with it every segment stays.
TEST(hls_live_play, an_event_playlist_leaves_played_segments_unless_kept) {
    for (const bool keep : {false, true}) {
        SCOPED_TRACE(keep ? "keep_event" : "default");
        auto o = stream(keep ? "/live/event_keep.m3u8" : "/live/event_drop.m3u8", 4, 15, 30);
        o.type = test::live_playlist_type::event;
        live_env t(keep ? "live_event_keep" : "live_event_drop", o, fixtures / "abr/t64.m3u8");
        ASSERT_TRUE(t.live);
        auto so = t.options();
        so.live.event_from_beginning = true;
        so.live.keep_event = keep;
        so.prefetch_seconds = 4;
        auto s = hls::open(t.url(), *t.store, *t.client, so);
        ASSERT_TRUE(s) << s.error().message();
        auto first = play_to_end(**s, 44100 * 40);  // about 20 segments in
        ASSERT_FALSE(first.all.failure) << first.all.failure->message();
        const auto mid = cached_segments(t).first;
        auto p = play_to_end(**s);
        ASSERT_FALSE(p.all.failure) << p.all.failure->message();
        EXPECT_TRUE((*s)->info().ended);
        s->reset();
        const auto end = cached_segments(t).first;
        if (keep) {
            EXPECT_GE(mid, 20u);
            EXPECT_EQ(end, 30u);
        } else {
            EXPECT_LE(mid, 8u) << "of about 20 played";
            EXPECT_LE(end, 8u) << "of 30 played";
        }
    }
}

TEST(hls_live_play, a_live_playlist_cannot_be_pinned) {
    live_stream_options o;
    o.path = "/live/pin.m3u8";
    live_env t("live_pin", o);
    ASSERT_TRUE(t.live);
    auto r = hls::pin(t.url(), *t.store, *t.client, {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), hls::errc::not_supported);
}

// Playlist timed metadata (EXTINF titles, a DATERANGE through PROGRAM-DATE-TIME) arrives with
// the chunk during which it starts, in order; after a seek the item in effect comes first.
TEST(hls_timed_metadata, playlist_items_arrive_with_the_chunk_they_start_in_and_after_a_seek) {
    const auto dir = fs::temp_directory_path() / ("kithara_meta_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const auto src = fixtures / "ts_aac";
    auto ref = hls::read_playlist_file(src / "index.m3u8").value();
    const auto& segs = ref.content.media().segments;
    ASSERT_EQ(segs.size(), 5u);
    std::string body =
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-05T10:00:00.000Z\n"
        "#EXT-X-DATERANGE:ID=\"ad1\",START-DATE=\"2026-12-05T10:00:05.000Z\",DURATION=1.5,"
        "X-TITLE=\"Ad\"\n";
    const char* titles[] = {"Artist A - Song One", "Artist A - Song One", "Artist B - Song Two",
                            "Artist B - Song Two", "Artist C - Song Three"};
    std::vector<double> starts;
    double t0 = 0;
    for (std::size_t k = 0; k < segs.size(); ++k) {
        fs::copy_file(src / segs[k].uri, dir / segs[k].uri);
        char extinf[64];
        std::snprintf(extinf, sizeof extinf, "#EXTINF:%.6f,", segs[k].duration);
        body += std::string(extinf) + titles[k] + "\n" + segs[k].uri + "\n";
        starts.push_back(t0);
        t0 += segs[k].duration;
    }
    body += "#EXT-X-ENDLIST\n";
    {
        std::ofstream f(dir / "meta.m3u8", std::ios::binary);
        f << body;
    }
    kithara::test::http_server srv(dir);
    client_env c("timed_meta");
    struct seen {
        hls::timed_metadata item;
        std::size_t chunk;  // index of the chunk next() returned right after
    };
    std::vector<seen> got;
    std::size_t chunks = 0;
    hls::stream_options so;
    so.on_metadata = [&](const hls::timed_metadata& m) { got.push_back({m, chunks}); };
    auto s = hls::open(srv.url("/meta.m3u8"), *c.store, *c.client, so);
    ASSERT_TRUE(s) << s.error().message();
    std::vector<std::pair<double, double>> spans;  // each chunk's [start, end)
    for (;;) {
        auto ch = (*s)->next();
        ASSERT_TRUE(ch) << ch.error().message();
        if (!*ch) break;
        const double b = std::chrono::duration<double>((*ch)->start).count();
        spans.emplace_back(b, b + static_cast<double>((*ch)->frames()) / (*ch)->sample_rate);
        ++chunks;
    }
    // Song One at 0, Song Two at segment 2, Song Three at segment 4, the ad at 5.0 s.
    ASSERT_EQ(got.size(), 4u);
    const double want[] = {starts[0], starts[2], starts[4], 5.0};
    std::vector<double> times;
    for (const auto& g : got) times.push_back(g.item.time);
    std::vector<double> sorted_want(std::begin(want), std::end(want));
    std::sort(sorted_want.begin(), sorted_want.end());
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_NEAR(times[i], sorted_want[i], 1e-6) << i;
        ASSERT_LT(got[i].chunk, spans.size());
        const auto [b, e] = spans[got[i].chunk];
        EXPECT_LE(b, got[i].item.time + 1e-6) << i;  // announced with the chunk it starts in
        EXPECT_GT(e, got[i].item.time) << i;
    }
    EXPECT_EQ(got[0].item.from, hls::timed_metadata::source::extinf);
    EXPECT_NE(got[0].item.title.find("Song One"), std::string::npos) << got[0].item.title;
    const auto ad = std::find_if(got.begin(), got.end(), [](const seen& g) {
        return g.item.from == hls::timed_metadata::source::daterange;
    });
    ASSERT_NE(ad, got.end());
    EXPECT_EQ(ad->item.daterange->id, "ad1");
    EXPECT_NEAR(ad->item.duration.value_or(0), 1.5, 1e-9);

    // A seek into Song Two: it comes first (in effect), then what follows.
    got.clear();
    chunks = 0;
    ASSERT_TRUE((*s)->seek(starts[2] + 0.5));
    auto ch = (*s)->next();
    ASSERT_TRUE(ch && *ch);
    ASSERT_FALSE(got.empty());
    EXPECT_NEAR(got.front().item.time, starts[2], 1e-6);
    EXPECT_NE(got.front().item.title.find("Song Two"), std::string::npos);
    s->reset();
    fs::remove_all(dir);
}

}  // namespace
}  // namespace kithara::hls_test
