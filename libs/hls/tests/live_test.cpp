// Live and event playlists (detail/live.hpp), from playlist text through the real parser: the
// timeline over reloads (no duplicate, no gap, anomalies, delta updates, ENDLIST), eviction,
// start positions, the reload schedule (RFC 8216 6.3.4, backoff, stuck, blocking reloads),
// delivery directives, and EXT-X-PROGRAM-DATE-TIME.
#include "detail/live.hpp"

#include <kithara/hls/parser.hpp>

#include <gtest/gtest.h>

#include <string>

namespace kithara::hls::detail {
namespace {

using namespace std::chrono_literals;

media_playlist parse(const std::string& body) {
    auto p = parse_playlist(body, "https://example.com/live/index.m3u8");
    EXPECT_TRUE(p) << p.error().message();
    if (!p || p->is_master()) return {};
    return p->media();
}

// A live window of `count` segments from `first`, `dur` seconds each; `head` goes after the
// media sequence tag, `tail` at the end.
std::string window_text(std::uint64_t first, std::size_t count, double dur = 4.0,
                        const std::string& head = "", const std::string& tail = "") {
    std::string t = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:" +
                    std::to_string(first) + "\n" + head;
    for (std::uint64_t i = first; i < first + count; ++i) {
        t += "#EXTINF:" + std::to_string(dur) + ",\nseg" + std::to_string(i) + ".aac\n";
    }
    return t + tail;
}

media_playlist window(std::uint64_t first, std::size_t count, double dur = 4.0,
                      const std::string& head = "", const std::string& tail = "") {
    return parse(window_text(first, count, dur, head, tail));
}

bool has(const live_merge_result& r, live_anomaly_kind k) {
    for (const auto& a : r.anomalies) {
        if (a.kind == k) return true;
    }
    return false;
}

// --- live_timeline -----------------------------------------------------------------------------

TEST(live_timeline, first_load_appends_every_segment_on_one_timeline) {
    live_timeline tl;
    auto r = tl.merge(window(10, 3));
    ASSERT_EQ(r.appended.size(), 3u);
    EXPECT_EQ(r.appended[0].msn, 10u);
    EXPECT_EQ(r.appended[2].msn, 12u);
    EXPECT_DOUBLE_EQ(r.appended[1].start, 4.0);
    EXPECT_DOUBLE_EQ(r.appended[2].start, 8.0);
    EXPECT_EQ(r.appended[0].resolved_uri, "https://example.com/live/seg10.aac");
    EXPECT_EQ(r.appended[0].label(), "seg10.aac (media sequence 10)");
    EXPECT_TRUE(r.changed);
    EXPECT_FALSE(r.ended);
    EXPECT_TRUE(r.anomalies.empty());
    EXPECT_DOUBLE_EQ(tl.end_time(), 12.0);
}

TEST(live_timeline, sliding_window_over_many_reloads_has_no_duplicate_and_no_gap) {
    live_timeline tl;
    std::vector<std::uint64_t> seen;
    std::vector<std::uint64_t> slid;
    double expect_start = 0;
    for (std::uint64_t k = 0; k < 30; ++k) {
        // The window advances by 1 or 2 segments per reload.
        const std::uint64_t first = 100 + k + k / 3;
        auto r = tl.merge(window(first, 5));
        EXPECT_TRUE(r.anomalies.empty()) << r.anomalies.front().message;
        for (const auto& s : r.appended) {
            seen.push_back(s.msn);
            EXPECT_DOUBLE_EQ(s.start, expect_start);
            expect_start += 4.0;
        }
        for (const auto& s : r.slid_out) slid.push_back(s.msn);
    }
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 100 + i);
    EXPECT_EQ(seen.back(), 100 + 29 + 29 / 3 + 4);
    for (std::size_t i = 0; i < slid.size(); ++i) EXPECT_EQ(slid[i], 100 + i);
    EXPECT_EQ(slid.size(), 29 + 29 / 3u);
}

TEST(live_timeline, unchanged_reload_is_not_a_change) {
    live_timeline tl;
    (void)tl.merge(window(5, 3));
    auto r = tl.merge(window(5, 3));
    EXPECT_FALSE(r.changed);
    EXPECT_TRUE(r.appended.empty());
    EXPECT_TRUE(r.anomalies.empty());
}

TEST(live_timeline, backwards_reload_is_ignored_and_reported) {
    live_timeline tl;
    (void)tl.merge(window(20, 3));
    auto r = tl.merge(window(18, 3));
    EXPECT_TRUE(r.ignored);
    EXPECT_FALSE(r.changed);
    ASSERT_TRUE(has(r, live_anomaly_kind::media_sequence_backwards));
    EXPECT_NE(r.anomalies[0].message.find("18..20"), std::string::npos) << r.anomalies[0].message;
    auto next = tl.merge(window(21, 3));
    ASSERT_EQ(next.appended.size(), 1u);
    EXPECT_EQ(next.appended[0].msn, 23u);
    EXPECT_DOUBLE_EQ(next.appended[0].start, 12.0);
}

TEST(live_timeline, repeated_backwards_reloads_are_a_restarted_stream) {
    live_timeline tl;
    (void)tl.merge(window(500, 3));
    EXPECT_TRUE(tl.merge(window(0, 2)).ignored);
    EXPECT_TRUE(tl.merge(window(0, 2)).ignored);
    auto r = tl.merge(window(0, 3));
    EXPECT_FALSE(r.ignored);
    ASSERT_TRUE(has(r, live_anomaly_kind::media_sequence_restart));
    EXPECT_EQ(r.dropped.size(), 3u);
    ASSERT_EQ(r.appended.size(), 3u);
    EXPECT_EQ(r.appended[0].msn, 0u);
    EXPECT_TRUE(r.appended[0].discontinuity);
    EXPECT_DOUBLE_EQ(r.appended[0].start, 12.0);  // the timeline goes on
    EXPECT_EQ(tl.merge(window(1, 3)).appended.size(), 1u);
}

TEST(live_timeline, window_that_jumps_reports_the_lost_range_and_continues) {
    live_timeline tl;
    (void)tl.merge(window(10, 3));
    auto r = tl.merge(window(20, 3));
    ASSERT_TRUE(has(r, live_anomaly_kind::gap));
    EXPECT_EQ(r.anomalies[0].first_msn, 13u);
    EXPECT_EQ(r.anomalies[0].last_msn, 19u);
    EXPECT_NE(r.anomalies[0].message.find("13..19"), std::string::npos);
    ASSERT_EQ(r.appended.size(), 3u);
    EXPECT_EQ(r.appended[0].msn, 20u);
    EXPECT_TRUE(r.appended[0].after_gap);
    EXPECT_TRUE(r.appended[0].discontinuity);  // the decoder restarts after lost media
    EXPECT_FALSE(r.appended[1].discontinuity);
    EXPECT_DOUBLE_EQ(r.appended[0].start, 12.0);
}

TEST(live_timeline, changed_uri_or_duration_at_a_known_msn_is_reported_and_first_kept) {
    live_timeline tl;
    (void)tl.merge(window(10, 3));
    std::string text = window_text(11, 3);
    text.replace(text.find("seg12.aac"), 9, "other.aac");
    auto r = tl.merge(parse(text));
    ASSERT_TRUE(has(r, live_anomaly_kind::segment_changed));
    EXPECT_EQ(r.anomalies[0].first_msn, 12u);
    EXPECT_NE(r.anomalies[0].message.find("other.aac"), std::string::npos);
    EXPECT_EQ(tl.find(12)->uri, "seg12.aac");
    auto d = tl.merge(window(11, 4, 3.5));
    ASSERT_TRUE(has(d, live_anomaly_kind::segment_changed));
    EXPECT_NE(d.anomalies[0].message.find("EXTINF 4.000 became 3.500"), std::string::npos)
        << d.anomalies[0].message;
}

TEST(live_timeline, discontinuity_sequence_is_tracked_and_mismatches_reported) {
    const std::string first =
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:10\n"
        "#EXT-X-DISCONTINUITY-SEQUENCE:5\n#EXTINF:4,\na.aac\n#EXTINF:4,\n"
        "b.aac\n#EXT-X-DISCONTINUITY\n#EXTINF:4,\nc.aac\n";
    live_timeline tl;
    auto r = tl.merge(parse(first));
    ASSERT_EQ(r.appended.size(), 3u);
    EXPECT_EQ(r.appended[1].discontinuity_sequence, 5u);
    EXPECT_EQ(r.appended[2].discontinuity_sequence, 6u);
    EXPECT_TRUE(r.appended[2].discontinuity);
    // The server removed the tagged segment's predecessors and counted up: consistent.
    const std::string good =
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:12\n"
        "#EXT-X-DISCONTINUITY-SEQUENCE:6\n#EXTINF:4,\nc.aac\n"
        "#EXTINF:4,\nd.aac\n";
    auto g = tl.merge(parse(good));
    EXPECT_TRUE(g.anomalies.empty()) << g.anomalies.front().message;
    ASSERT_EQ(g.appended.size(), 1u);
    EXPECT_EQ(g.appended[0].discontinuity_sequence, 6u);
    // Not counted up: reported, our count kept.
    const std::string bad =
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:13\n"
        "#EXT-X-DISCONTINUITY-SEQUENCE:9\n#EXTINF:4,\nd.aac\n"
        "#EXTINF:4,\ne.aac\n";
    auto b = tl.merge(parse(bad));
    ASSERT_TRUE(has(b, live_anomaly_kind::discontinuity_mismatch));
    ASSERT_EQ(b.appended.size(), 1u);
    EXPECT_EQ(b.appended[0].discontinuity_sequence, 6u);
}

TEST(live_timeline, endlist_is_the_vod_transition) {
    live_timeline tl;
    (void)tl.merge(window(0, 3));
    auto r = tl.merge(window(1, 3, 4.0, "", "#EXT-X-ENDLIST\n"));
    EXPECT_TRUE(r.ended);
    EXPECT_TRUE(r.changed);
    EXPECT_TRUE(tl.ended());
    ASSERT_EQ(r.appended.size(), 1u);
    EXPECT_EQ(r.appended[0].msn, 3u);
    auto after = tl.merge(window(2, 3));
    EXPECT_FALSE(after.changed);
    EXPECT_TRUE(after.appended.empty());
    // ENDLIST alone (no new segment) is a change too.
    live_timeline t2;
    (void)t2.merge(window(0, 3));
    EXPECT_TRUE(t2.merge(window(0, 3, 4.0, "", "#EXT-X-ENDLIST\n")).changed);
}

TEST(live_timeline, delta_update_takes_skipped_segments_from_what_is_known) {
    const std::string control = "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=24\n";
    // Delta: media sequence 11, 3 skipped (11..13), 14..16 listed.
    live_timeline t2;
    (void)t2.merge(window(10, 6, 4.0, control));
    std::string delta = window_text(14, 3, 4.0, control + "#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n");
    delta.replace(delta.find("MEDIA-SEQUENCE:14"), 17, "MEDIA-SEQUENCE:11");
    auto d = t2.merge(parse(delta));
    EXPECT_TRUE(d.anomalies.empty()) << d.anomalies.front().message;
    EXPECT_FALSE(d.needs_full_reload);
    ASSERT_EQ(d.appended.size(), 1u);
    EXPECT_EQ(d.appended[0].msn, 16u);
    EXPECT_DOUBLE_EQ(d.appended[0].start, 24.0);
    ASSERT_EQ(d.slid_out.size(), 1u);
    EXPECT_EQ(d.slid_out[0].msn, 10u);
}

TEST(live_timeline, delta_update_numbers_discontinuities_from_the_skipped_segments) {
    // A discontinuity before 12; the delta skips 11..13, so its listed segments cannot count it.
    const std::string head =
        "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=24\n";
    std::string full = head + "#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n";
    for (int i = 10; i < 16; ++i) {
        if (i == 12) full += "#EXT-X-DISCONTINUITY\n";
        full += "#EXTINF:4,\nseg" + std::to_string(i) + ".aac\n";
    }
    std::string delta = head +
                        "#EXT-X-MEDIA-SEQUENCE:11\n#EXT-X-DISCONTINUITY-SEQUENCE:2\n"
                        "#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n";
    for (int i = 14; i < 17; ++i) delta += "#EXTINF:4,\nseg" + std::to_string(i) + ".aac\n";
    live_timeline tl;
    (void)tl.merge(parse(full));
    EXPECT_EQ(tl.find(15)->discontinuity_sequence, 3u);
    auto d = tl.merge(parse(delta));
    EXPECT_TRUE(d.anomalies.empty()) << d.anomalies.front().message;
    ASSERT_EQ(d.appended.size(), 1u);
    EXPECT_EQ(d.appended[0].discontinuity_sequence, 3u);
    EXPECT_FALSE(d.appended[0].discontinuity);
}

TEST(live_timeline, delta_update_over_unknown_segments_asks_for_a_full_reload) {
    const std::string control = "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=24\n";
    std::string delta = window_text(14, 3, 4.0, control + "#EXT-X-SKIP:SKIPPED-SEGMENTS=3\n");
    delta.replace(delta.find("MEDIA-SEQUENCE:14"), 17, "MEDIA-SEQUENCE:11");
    live_timeline fresh;
    auto r = fresh.merge(parse(delta));
    EXPECT_TRUE(r.needs_full_reload);
    EXPECT_TRUE(r.appended.empty());
    EXPECT_TRUE(has(r, live_anomaly_kind::delta_without_base));
    live_timeline behind;
    (void)behind.merge(window(5, 3, 4.0, control));  // 5..7: 8..13 never seen
    auto b = behind.merge(parse(delta));
    EXPECT_TRUE(b.needs_full_reload);
    EXPECT_TRUE(b.appended.empty());
}

TEST(live_timeline, map_and_key_are_resolved_and_shared_between_segments) {
    const std::string text =
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:1\n"
        "#EXT-X-MAP:URI=\"init.mp4\"\n"
        "#EXT-X-KEY:METHOD=AES-128,URI=\"k1.key\"\n#EXTINF:4,\na.m4s\n#EXTINF:4,\nb.m4s\n"
        "#EXT-X-KEY:METHOD=NONE\n#EXTINF:4,\nc.m4s\n";
    live_timeline tl;
    auto r = tl.merge(parse(text));
    ASSERT_EQ(r.appended.size(), 3u);
    ASSERT_TRUE(r.appended[0].map);
    EXPECT_EQ(r.appended[0].map->resolved_uri, "https://example.com/live/init.mp4");
    EXPECT_EQ(r.appended[0].map.get(), r.appended[2].map.get());
    ASSERT_TRUE(r.appended[1].key);
    EXPECT_EQ(r.appended[1].key->resolved_uri, "https://example.com/live/k1.key");
    EXPECT_EQ(r.appended[0].key.get(), r.appended[1].key.get());
    EXPECT_FALSE(r.appended[2].key);
}

const std::string ll_head =
    "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=3.0\n#EXT-X-PART-INF:PART-TARGET=1."
    "0\n";

std::string ll_text(std::uint64_t first, std::size_t count, std::size_t trailing_parts) {
    std::string tail;
    for (std::size_t j = 0; j < trailing_parts; ++j) {
        tail += "#EXT-X-PART:DURATION=1.0,URI=\"p" + std::to_string(first + count) + "." +
                std::to_string(j) + ".aac\",INDEPENDENT=YES\n";
    }
    return window_text(first, count, 4.0, ll_head, tail);
}

TEST(live_timeline, new_trailing_parts_are_reported_once) {
    live_timeline tl;
    auto r = tl.merge(parse(ll_text(10, 3, 1)));
    EXPECT_EQ(r.parts_msn, 13u);
    ASSERT_EQ(r.new_parts.size(), 1u);
    auto r2 = tl.merge(parse(ll_text(10, 3, 3)));
    EXPECT_TRUE(r2.changed);
    EXPECT_TRUE(r2.appended.empty());
    ASSERT_EQ(r2.new_parts.size(), 2u);
    EXPECT_EQ(r2.new_parts[0].first, 1u);
    EXPECT_EQ(r2.new_parts[1].second.uri, "p13.2.aac");
    EXPECT_FALSE(tl.merge(parse(ll_text(10, 3, 3))).changed);
    auto r3 = tl.merge(parse(ll_text(11, 3, 1)));  // 13 completed, a part of 14
    ASSERT_EQ(r3.appended.size(), 1u);
    EXPECT_EQ(r3.parts_msn, 14u);
    ASSERT_EQ(r3.new_parts.size(), 1u);
}

TEST(live_timeline, played_slid_out_segments_are_forgotten_and_the_caps_hold) {
    live_timeline tl;
    (void)tl.merge(window(0, 3));
    tl.set_playing(4);
    auto r = tl.merge(window(3, 3));  // 0..2 slid out, all played
    EXPECT_EQ(r.dropped.size(), 3u);
    EXPECT_EQ(tl.segments().front().msn, 3u);
    // Unplayed slid-out segments stay (their bytes may be cached and playable).
    live_timeline slow;
    (void)slow.merge(window(0, 3));
    slow.set_playing(1);
    auto s = slow.merge(window(3, 3));
    ASSERT_EQ(s.dropped.size(), 1u);
    EXPECT_EQ(s.dropped[0].msn, 0u);
    // keep_all keeps them, up to the count cap.
    live_timeline_options o;
    o.keep_all = true;
    o.max_segments = 5;
    live_timeline all(o);
    all.set_playing(100);
    for (std::uint64_t k = 0; k < 4; ++k) (void)all.merge(window(k, 3));
    EXPECT_EQ(all.segments().size(), 5u);
    EXPECT_EQ(all.segments().front().msn, 1u);
    EXPECT_GT(all.bytes(), 5 * sizeof(live_segment));
}

TEST(live_timeline, random_reloads_keep_the_timeline_ordered_continuous_and_bounded) {
    live_timeline_options o;
    o.max_segments = 40;
    o.restart_after_backwards = 1000;  // stale copies only, never a restart
    live_timeline tl(o);
    std::uint64_t x = 12345, first = 1000;
    std::vector<std::uint64_t> appended;
    for (int k = 0; k < 400; ++k) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const auto roll = static_cast<int>((x >> 33) % 20);
        // Mostly 0..2 forward, sometimes backwards (stale copy) or a jump (lost segments).
        if (roll == 0 && first > 3)
            first -= 3;
        else if (roll == 1)
            first += 9;
        else
            first += static_cast<std::uint64_t>(roll % 3);
        tl.set_playing(first);
        auto r = tl.merge(window(first, 6, roll % 2 ? 4.0 : 3.5));
        for (const auto& s : r.appended) appended.push_back(s.msn);
        const auto& segs = tl.segments();
        ASSERT_LE(segs.size(), 40u);
        for (std::size_t i = 1; i < segs.size(); ++i) {
            ASSERT_LT(segs[i - 1].msn, segs[i].msn);
            ASSERT_DOUBLE_EQ(segs[i - 1].end(), segs[i].start);
        }
        ASSERT_EQ(tl.at(tl.end_time() - 0.5), &segs.back());
    }
    for (std::size_t i = 1; i < appended.size(); ++i) ASSERT_LT(appended[i - 1], appended[i]);
}

// --- sliding_window_eviction -------------------------------------------------------------------

TEST(live_eviction, removes_what_slid_out_and_was_played) {
    live_timeline tl;
    for (std::uint64_t k = 0; k <= 4; ++k) (void)tl.merge(window(k, 3));  // window 4..6
    auto p = sliding_window_eviction(tl, 5, 0, false);
    EXPECT_EQ(p.msns, (std::vector<std::uint64_t>{0, 1, 2, 3}));
    ASSERT_EQ(p.resources.size(), 4u);
    EXPECT_EQ(p.resources[0], "https://example.com/live/seg0.aac");
    EXPECT_EQ(p.next_from, 4u);
    EXPECT_TRUE(sliding_window_eviction(tl, 6, p.next_from, false).msns.empty());
}

TEST(live_eviction, keeps_unplayed_segments_and_everything_with_keep_all) {
    live_timeline tl;
    for (std::uint64_t k = 0; k <= 4; ++k) (void)tl.merge(window(k, 3));
    auto p = sliding_window_eviction(tl, 2, 0, false);  // the player is behind the window
    EXPECT_EQ(p.msns, (std::vector<std::uint64_t>{0, 1}));
    EXPECT_EQ(p.next_from, 2u);
    auto all = sliding_window_eviction(tl, 6, 0, true);
    EXPECT_TRUE(all.msns.empty());
    EXPECT_TRUE(all.resources.empty());
}

// An EVENT playlist: the window does not move (it starts at 0), so the window would keep
// everything; the server keeps every segment, so what the player passed may go.
TEST(live_eviction, an_event_playlist_evicts_behind_the_player_whatever_the_window) {
    live_timeline_options o;
    live_timeline tl(o);
    (void)tl.merge(window(0, 8));  // segments 0..7, all in the window
    EXPECT_TRUE(sliding_window_eviction(tl, 5, 0, false).msns.empty());
    auto p = sliding_window_eviction(tl, 5, 0, false, /*server_keeps_all=*/true);
    EXPECT_EQ(p.msns, (std::vector<std::uint64_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(p.next_from, 5u);
    EXPECT_TRUE(sliding_window_eviction(tl, 5, 0, true, true).msns.empty());  // keep_all wins
}

TEST(live_eviction, keeps_an_init_section_or_resource_a_later_segment_uses) {
    const auto text = [](std::uint64_t first) {
        std::string t =
            "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n"
            "#EXT-X-MEDIA-SEQUENCE:" +
            std::to_string(first) + "\n#EXT-X-MAP:URI=\"init.mp4\"\n";
        for (std::uint64_t i = first; i < first + 3; ++i) {
            t += "#EXTINF:4,\n#EXT-X-BYTERANGE:1000@" + std::to_string((i % 2) * 1000) + "\nfile" +
                 std::to_string(i / 2) + ".m4s\n";
        }
        return t;
    };
    live_timeline tl;
    (void)tl.merge(parse(text(0)));
    (void)tl.merge(parse(text(3)));  // 0..2 slid out; file1 = msn 2 and 3
    auto p = sliding_window_eviction(tl, 4, 0, false);
    EXPECT_EQ(p.msns, (std::vector<std::uint64_t>{0, 1, 2}));
    EXPECT_EQ(p.resources, (std::vector<std::string>{"https://example.com/live/file0.m4s"}));
    EXPECT_TRUE(p.maps.empty());
}

// --- live_start --------------------------------------------------------------------------------

TEST(live_start, starts_three_target_durations_from_the_end) {
    auto p = live_start(window(100, 10));  // 40 s, edge limit 28 s
    ASSERT_TRUE(p);
    EXPECT_EQ(p->msn, 107u);
    EXPECT_DOUBLE_EQ(p->time, 28.0);
    EXPECT_EQ(p->why, start_position::rule::hold_back);
    EXPECT_FALSE(p->part);
    auto q = live_start(window(100, 10, 3.0));  // 30 s: the last starting at or before 18 s
    ASSERT_TRUE(q);
    EXPECT_EQ(q->msn, 106u);
}

TEST(live_start, hold_back_of_the_server_and_a_short_window) {
    auto p = live_start(window(0, 10, 4.0, "#EXT-X-SERVER-CONTROL:HOLD-BACK=20\n"));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->msn, 5u);
    auto s = live_start(window(7, 2));  // shorter than the hold-back: the first segment
    ASSERT_TRUE(s);
    EXPECT_EQ(s->msn, 7u);
}

TEST(live_start, ext_x_start_from_the_start_from_the_end_clamped_and_precise) {
    auto a = live_start(window(0, 10, 4.0, "#EXT-X-START:TIME-OFFSET=9\n"));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->msn, 2u);
    EXPECT_DOUBLE_EQ(a->offset, 0.0);
    EXPECT_DOUBLE_EQ(a->time, 8.0);
    EXPECT_EQ(a->why, start_position::rule::start_tag);
    auto b = live_start(window(0, 10, 4.0, "#EXT-X-START:TIME-OFFSET=-13,PRECISE=YES\n"));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->msn, 6u);  // 27 s
    EXPECT_NEAR(b->offset, 3.0, 1e-9);
    EXPECT_NEAR(b->time, 27.0, 1e-9);
    auto c = live_start(window(0, 10, 4.0, "#EXT-X-START:TIME-OFFSET=-100\n"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->msn, 0u);
    // Live: never closer than the hold-back even when the tag says so.
    auto d = live_start(window(0, 10, 4.0, "#EXT-X-START:TIME-OFFSET=-1\n"));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->msn, 7u);
    // VOD: the tag may point at the last segment.
    auto e = live_start(window(0, 10, 4.0, "#EXT-X-START:TIME-OFFSET=100\n", "#EXT-X-ENDLIST\n"));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->msn, 9u);
}

TEST(live_start, event_from_the_beginning_and_vod_from_the_start) {
    const std::string ev = "#EXT-X-PLAYLIST-TYPE:EVENT\n";
    start_options o;
    o.event_from_beginning = true;
    auto a = live_start(window(3, 10, 4.0, ev), o);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->msn, 3u);
    EXPECT_EQ(a->why, start_position::rule::event_beginning);
    auto b = live_start(window(3, 10, 4.0, ev));  // without the option: the live edge
    ASSERT_TRUE(b);
    EXPECT_EQ(b->msn, 10u);
    auto c = live_start(window(3, 10, 4.0, "", "#EXT-X-ENDLIST\n"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->msn, 3u);
    EXPECT_EQ(c->why, start_position::rule::playlist_start);
}

TEST(live_start, part_hold_back_starts_at_a_part) {
    // 3 segments (12 s) + 2 trailing parts (2 s): end 14 s, PART-HOLD-BACK 3 -> at or before 11.
    std::string text =
        "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-MEDIA-SEQUENCE:20\n" +
        ll_head;
    for (int i = 20; i < 23; ++i) {
        for (int j = 0; j < 4; ++j) {
            text += "#EXT-X-PART:DURATION=1.0,URI=\"p" + std::to_string(i) + "." +
                    std::to_string(j) + ".aac\"\n";
        }
        text += "#EXTINF:4,\nseg" + std::to_string(i) + ".aac\n";
    }
    text +=
        "#EXT-X-PART:DURATION=1.0,URI=\"p23.0.aac\"\n#EXT-X-PART:DURATION=1.0,URI=\"p23.1.aac\"\n";
    auto p = live_start(parse(text));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->why, start_position::rule::part_hold_back);
    EXPECT_EQ(p->msn, 22u);
    ASSERT_TRUE(p->part);
    EXPECT_EQ(*p->part, 3u);
    EXPECT_DOUBLE_EQ(p->time, 11.0);
    start_options o;
    o.low_latency = false;  // whole segments: HOLD-BACK (3 x 4 s) from 12 s
    auto q = live_start(parse(text), o);
    ASSERT_TRUE(q);
    EXPECT_EQ(q->msn, 20u);
    EXPECT_FALSE(q->part);
}

TEST(live_start, an_empty_playlist_is_an_error) {
    auto p = live_start(parse("#EXTM3U\n#EXT-X-TARGETDURATION:4\n"));
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), errc::invalid_value);
    EXPECT_NE(p.error().message().find("no media segment"), std::string::npos);
}

// --- reload_schedule ---------------------------------------------------------------------------

const steady_time t0 = steady_time{} + 1000s;

TEST(reload_schedule, changed_waits_the_target_duration_from_the_request_start) {
    reload_schedule s;
    const auto m = window(0, 3);
    (void)s.on_result(reload_outcome::changed, t0, t0 + 300ms, &m);
    EXPECT_EQ(s.next().at, t0 + 4s);
    EXPECT_FALSE(s.next().blocking);
}

TEST(reload_schedule, unchanged_and_not_modified_wait_half_of_it) {
    reload_schedule s;
    const auto m = window(0, 3);
    (void)s.on_result(reload_outcome::changed, t0, t0 + 10ms, &m);
    (void)s.on_result(reload_outcome::unchanged, t0 + 4s, t0 + 4100ms, nullptr);
    EXPECT_EQ(s.next().at, t0 + 6s);
    auto r = s.on_result(reload_outcome::not_modified, t0 + 6s, t0 + 6050ms, nullptr);
    EXPECT_EQ(s.next().at, t0 + 8s);
    EXPECT_EQ(r.consecutive_errors, 0u);
}

TEST(reload_schedule, slow_requests_do_not_make_the_schedule_drift) {
    reload_schedule s;
    const auto m = window(0, 3);
    steady_time start = t0;
    for (int k = 0; k < 20; ++k) {
        (void)s.on_result(reload_outcome::changed, start, start + 700ms, &m);
        start = s.next().at;
    }
    EXPECT_EQ(start, t0 + 20 * 4s);
}

TEST(reload_schedule, errors_back_off_exponentially_to_a_cap_with_bounded_jitter_then_recover) {
    reload_options o;
    o.seed = 42;
    reload_schedule s(o);
    const auto m = window(0, 3);
    (void)s.on_result(reload_outcome::changed, t0, t0, &m);
    steady_time now = t0 + 4s;
    const double bases[] = {2, 4, 8, 16, 16, 16};  // target/2 doubling, cap 4 x target
    for (int k = 0; k < 6; ++k) {
        auto r = s.on_result(reload_outcome::error, now, now + 100ms, nullptr);
        EXPECT_EQ(r.consecutive_errors, static_cast<std::uint32_t>(k + 1));
        const double wait = std::chrono::duration<double>(s.next().at - (now + 100ms)).count();
        EXPECT_GE(wait, bases[k] * 0.9 - 1e-6) << k;
        EXPECT_LE(wait, std::min(bases[k] * 1.1, 16.0) + 1e-6) << k;
        now = s.next().at;
    }
    auto ok = s.on_result(reload_outcome::changed, now, now + 100ms, &m);
    EXPECT_EQ(ok.consecutive_errors, 0u);
    EXPECT_EQ(s.next().at, now + 4s);
}

TEST(reload_schedule, jitter_is_a_function_of_the_seed) {
    const auto m = window(0, 3);
    auto delay = [&](std::uint64_t seed) {
        reload_options o;
        o.seed = seed;
        reload_schedule s(o);
        (void)s.on_result(reload_outcome::changed, t0, t0, &m);
        (void)s.on_result(reload_outcome::error, t0, t0, nullptr);
        return s.next().at - t0;
    };
    EXPECT_EQ(delay(7), delay(7));
    EXPECT_NE(delay(7), delay(8));
}

TEST(reload_schedule, unchanged_for_three_and_a_half_targets_is_stuck_once_then_recovers) {
    reload_schedule s;
    const auto m = window(0, 3);
    (void)s.on_result(reload_outcome::changed, t0, t0, &m);
    int began = 0;
    steady_time now = t0;
    for (int k = 0; k < 12; ++k) {
        now = s.next().at;
        auto r = s.on_result(k % 3 == 2 ? reload_outcome::error : reload_outcome::unchanged, now,
                             now + 10ms, nullptr);
        const double since = std::chrono::duration<double>(now + 10ms - t0).count();
        EXPECT_EQ(r.stuck, since >= 14.0) << since;
        began += r.stuck_began ? 1 : 0;
    }
    EXPECT_EQ(began, 1);
    EXPECT_TRUE(s.stuck());
    now = s.next().at;
    auto r = s.on_result(reload_outcome::changed, now, now, &m);
    EXPECT_TRUE(r.recovered);
    EXPECT_FALSE(r.stuck);
}

TEST(reload_schedule, can_block_reload_asks_for_the_next_part_at_once) {
    reload_schedule s;
    const auto m = parse(ll_text(10, 3, 2));
    (void)s.on_result(reload_outcome::changed, t0, t0 + 20ms, &m);
    EXPECT_TRUE(s.blocking());
    const auto n = s.next();
    EXPECT_EQ(n.at, t0 + 20ms);
    ASSERT_TRUE(n.blocking);
    EXPECT_EQ(n.blocking->msn, 13u);
    EXPECT_EQ(n.blocking->part, std::optional<std::uint32_t>(2));
    EXPECT_EQ(n.timeout, 3s + 500ms);  // 3 part targets + slack
}

TEST(reload_schedule, blocking_timeouts_fall_back_to_ordinary_reloads) {
    reload_schedule s;
    const auto m = parse(ll_text(10, 3, 0));
    (void)s.on_result(reload_outcome::changed, t0, t0, &m);
    steady_time now = t0;
    for (int k = 0; k < 2; ++k) {
        auto r = s.on_result(reload_outcome::blocking_timeout, now, now + 3500ms, nullptr);
        EXPECT_FALSE(r.fell_back);
        EXPECT_TRUE(s.next().blocking);
        now += 3500ms;
    }
    auto r = s.on_result(reload_outcome::blocking_timeout, now, now + 3500ms, nullptr);
    EXPECT_TRUE(r.fell_back);
    EXPECT_FALSE(s.next().blocking);
    EXPECT_EQ(s.next().at, now + 2s);  // polling: half the target duration after that request
    (void)s.on_result(reload_outcome::changed, now + 2s, now + 2s, &m);
    EXPECT_FALSE(s.next().blocking);
    EXPECT_EQ(s.next().at, now + 6s);
}

TEST(reload_schedule, parts_advertised_but_never_published_are_asked_for_by_msn) {
    reload_schedule s;
    // PART-INF and CAN-BLOCK-RELOAD, but no part ever.
    const auto m = parse(window_text(10, 3, 4.0, ll_head));
    (void)s.on_result(reload_outcome::changed, t0, t0, &m);
    ASSERT_TRUE(s.next().blocking);
    EXPECT_EQ(s.next().blocking->part, std::optional<std::uint32_t>(0));
    for (std::uint64_t k = 1; k <= 3; ++k) {
        const auto mk = parse(window_text(10 + k, 3, 4.0, ll_head));
        (void)s.on_result(reload_outcome::changed, t0, t0, &mk);
    }
    ASSERT_TRUE(s.next().blocking);
    EXPECT_EQ(*s.next().blocking, (delivery_target{16, std::nullopt}));
    EXPECT_EQ(s.next().timeout, 12s + 500ms);
}

TEST(reload_schedule, endlist_finishes_the_schedule) {
    reload_schedule s;
    const auto m = window(0, 3, 4.0, "", "#EXT-X-ENDLIST\n");
    (void)s.on_result(reload_outcome::changed, t0, t0, &m);
    EXPECT_TRUE(s.finished());
    EXPECT_FALSE(s.next().blocking);
}

// --- delivery directives -----------------------------------------------------------------------

TEST(delivery_directives, query_is_appended_sorted_and_replaces_old_directives) {
    const delivery_target msn_only{273, std::nullopt};
    const delivery_target with_part{273, 2};
    EXPECT_EQ(with_delivery_directives("https://h/a.m3u8", with_part),
              "https://h/a.m3u8?_HLS_msn=273&_HLS_part=2");
    EXPECT_EQ(with_delivery_directives("https://h/a.m3u8?token=x&a=1", msn_only),
              "https://h/a.m3u8?_HLS_msn=273&a=1&token=x");
    EXPECT_EQ(with_delivery_directives("https://h/a.m3u8?_HLS_msn=5&_HLS_part=1&z=2", msn_only),
              "https://h/a.m3u8?_HLS_msn=273&z=2");
    EXPECT_EQ(with_delivery_directives("https://h/a.m3u8?b=1#frag", with_part, skip_directive::yes),
              "https://h/a.m3u8?_HLS_msn=273&_HLS_part=2&_HLS_skip=YES&b=1#frag");
    EXPECT_EQ(with_delivery_directives("https://h/a.m3u8?x=1&", std::nullopt, skip_directive::v2),
              "https://h/a.m3u8?_HLS_skip=v2&x=1");
    EXPECT_EQ(with_delivery_directives("https://h/a.m3u8?_HLS_msn=3", std::nullopt),
              "https://h/a.m3u8");
}

TEST(delivery_directives, next_target_is_the_part_or_segment_after_the_last) {
    EXPECT_EQ(next_delivery_target(window(5, 3)), (delivery_target{8, std::nullopt}));
    EXPECT_EQ(next_delivery_target(parse(ll_text(5, 3, 2))), (delivery_target{8, 2}));
    EXPECT_EQ(next_delivery_target(parse(ll_text(5, 3, 2)), false),
              (delivery_target{8, std::nullopt}));
}

TEST(delivery_directives, delta_updates_only_within_half_the_skip_boundary) {
    const auto m = window(0, 3, 4.0, "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=24\n");
    EXPECT_EQ(delta_update_directive(m, 5), skip_directive::yes);
    EXPECT_EQ(delta_update_directive(m, 13), skip_directive::none);
    const auto v2 =
        window(0, 3, 4.0, "#EXT-X-SERVER-CONTROL:CAN-SKIP-UNTIL=24,CAN-SKIP-DATERANGES=YES\n");
    EXPECT_EQ(delta_update_directive(v2, 5), skip_directive::v2);
    EXPECT_EQ(delta_update_directive(window(0, 3), 1), skip_directive::none);
}

// --- program date time -------------------------------------------------------------------------

wall_time utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms = 0) {
    return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{mo} /
                                 std::chrono::day{d}} +
           std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s} +
           std::chrono::milliseconds{ms};
}

TEST(program_date_time, parses_zones_and_fractions) {
    EXPECT_EQ(*parse_program_date_time("2026-12-05T09:00:00Z"), utc(2026, 12, 5, 9, 0, 0));
    EXPECT_EQ(*parse_program_date_time("2026-12-05T09:00:00.250Z"), utc(2026, 12, 5, 9, 0, 0, 250));
    EXPECT_EQ(*parse_program_date_time("2026-12-05T10:00:00+01:00"), utc(2026, 12, 5, 9, 0, 0));
    EXPECT_EQ(*parse_program_date_time("2026-12-05T04:30:00-0430"), utc(2026, 12, 5, 9, 0, 0));
    EXPECT_EQ(*parse_program_date_time("2026-12-05T04:00:00-05"), utc(2026, 12, 5, 9, 0, 0));
    EXPECT_EQ(*parse_program_date_time("2026-12-05T09:00:00"), utc(2026, 12, 5, 9, 0, 0));
    EXPECT_EQ(
        *parse_program_date_time("2024-02-29T23:59:59.123456789Z") - utc(2024, 2, 29, 23, 59, 59),
        std::chrono::nanoseconds{123456789});
}

TEST(program_date_time, rejects_bad_values_with_a_clear_message) {
    for (const char* bad : {"", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-12-05 09:00Z",
                            "2026-12-05T25:00:00Z", "yesterday", "2026-12-05T09:00:00.Z",
                            "2026-12-05T09:00:00Zjunk", "2026-12-05T09:00:00+1"}) {
        auto r = parse_program_date_time(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), errc::invalid_value);
        EXPECT_NE(r.error().message().find("EXT-X-PROGRAM-DATE-TIME"), std::string::npos);
    }
}

TEST(pdt_map, carries_forward_resets_at_a_discontinuity_and_extrapolates_backward) {
    const std::string text =
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.aac\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-05T09:00:04Z\n#EXTINF:4,\nb.aac\n#EXTINF:4,\nc.aac\n"
        "#EXT-X-DISCONTINUITY\n#EXTINF:4,\nd.aac\n"
        "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-12-05T12:00:00Z\n#EXTINF:4,\n"
        "e.aac\n#EXTINF:4,\nf.aac\n";
    pdt_map p;
    EXPECT_TRUE(p.add_playlist(parse(text)).empty());
    EXPECT_EQ(p.wall_clock_at(1.0), utc(2026, 12, 5, 9, 0, 1));  // backward from b's date
    EXPECT_EQ(p.wall_clock_at(4.0), utc(2026, 12, 5, 9, 0, 4));
    EXPECT_EQ(p.wall_clock_at(10.5), utc(2026, 12, 5, 9, 0, 10, 500));  // carried over c
    EXPECT_FALSE(p.wall_clock_at(13.0));  // d: a discontinuity without a date
    EXPECT_EQ(p.wall_clock_at(16.0), utc(2026, 12, 5, 12, 0, 0));
    EXPECT_EQ(p.wall_clock_at(22.0), utc(2026, 12, 5, 12, 0, 6));
    EXPECT_FALSE(p.wall_clock_at(-1.0));
    EXPECT_NEAR(*p.position_of(utc(2026, 12, 5, 9, 0, 6)), 6.0, 1e-6);
    EXPECT_NEAR(*p.position_of(utc(2026, 12, 5, 12, 0, 5)), 21.0, 1e-6);
    EXPECT_FALSE(p.position_of(utc(2026, 12, 5, 11, 0, 0)));
    p.forget_before(12.0);
    EXPECT_FALSE(p.wall_clock_at(5.0));
    EXPECT_EQ(p.wall_clock_at(16.0), utc(2026, 12, 5, 12, 0, 0));
}

TEST(pdt_map, follows_the_live_timeline_and_bad_dates_are_reported) {
    const auto text = [](std::uint64_t first, const char* date) {
        // seg<first>, then the date, then seg<first + 1>.
        std::string t = window_text(first, 2);
        t.insert(t.rfind("#EXTINF"), std::string("#EXT-X-PROGRAM-DATE-TIME:") + date + "\n");
        return t;
    };
    live_timeline tl;
    pdt_map p;
    auto a = tl.merge(parse(text(0, "2026-12-05T09:00:04Z")));  // on seg1
    for (const auto& s : a.appended) p.add(s);
    EXPECT_EQ(p.wall_clock_at(0.0), utc(2026, 12, 5, 9, 0, 0));
    auto b = tl.merge(parse(text(1, "2026-12-05T09:00:08Z")));  // on seg2, appended
    for (const auto& s : b.appended) p.add(s);
    EXPECT_EQ(p.wall_clock_at(10.0), utc(2026, 12, 5, 9, 0, 10));
    auto c = tl.merge(parse(text(2, "2026-12-05T09:00:99Z")));  // on seg3: bad
    ASSERT_TRUE(has(c, live_anomaly_kind::bad_program_date_time));
    EXPECT_NE(c.anomalies[0].message.find("seg3.aac (media sequence 3)"), std::string::npos)
        << c.anomalies[0].message;
    for (const auto& s : c.appended) p.add(s);
    EXPECT_EQ(p.wall_clock_at(14.0), utc(2026, 12, 5, 9, 0, 14));  // carried forward
}

}  // namespace
}  // namespace kithara::hls::detail
