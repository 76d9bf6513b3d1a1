// EXT-X-DATERANGE and EXTINF titles as timed metadata: START-DATE placed on the stream timeline
// through EXT-X-PROGRAM-DATE-TIME, durations from DURATION / END-DATE / END-ON-NEXT / PLANNED-
// DURATION, skipped items with their reason; RFC 3339 dates.
#include "detail/timed_metadata.hpp"

#include <kithara/hls/parser.hpp>
#include <kithara/hls/timed_metadata.hpp>

#include <gtest/gtest.h>

namespace kithara::hls {
namespace {

media_playlist parse(const std::string& text) {
    auto p = parse_playlist(text, "https://example.com/live/index.m3u8");
    EXPECT_TRUE(p) << p.error().message();
    return p->media();
}

TEST(playlist_metadata, dates_follow_rfc3339) {
    using detail::parse_date_time;
    EXPECT_EQ(parse_date_time("1970-01-01T00:00:00Z"), 0.0);
    EXPECT_EQ(parse_date_time("2026-12-05T09:30:00Z"), 1796463000.0);
    EXPECT_DOUBLE_EQ(parse_date_time("2026-12-05T09:30:00.250Z").value(), 1796463000.25);
    EXPECT_EQ(parse_date_time("2026-12-05T10:30:00+01:00"), 1796463000.0);
    EXPECT_EQ(parse_date_time("2026-12-05T04:00:00-0530"), 1796463000.0);
    EXPECT_EQ(parse_date_time("2026-12-05t09:30:00z"), 1796463000.0);
    EXPECT_EQ(parse_date_time("2024-02-29T00:00:00Z"), 1709164800.0);
    EXPECT_EQ(parse_date_time("2000-03-01T00:00:00Z"), 951868800.0);
    for (const char* bad : {"2026-12-05T09:30:00", "2026-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
                            "2026-12-05T24:00:00Z", "2026-12-05", "26-12-05T09:30:00Z",
                            "2026-12-05T09:30:00.Z", "2026-12-05T09:30:00Zjunk", ""})
        EXPECT_FALSE(parse_date_time(bad)) << bad;
}

TEST(playlist_metadata, daterange_is_placed_through_program_date_time) {
    const auto m = parse(
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:100\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-05T09:00:00.000Z\n"
        "#EXT-X-DATERANGE:ID=\"song1\",CLASS=\"com.example.song\","
        "START-DATE=\"2026-12-05T09:00:05.500Z\",DURATION=180.5,X-TITLE=\"Song\","
        "X-ARTIST=\"Band\"\n"
        "#EXTINF:4,\na.aac\n#EXTINF:4,\nb.aac\n#EXTINF:4,\nc.aac\n#EXTINF:4,\nd.aac\n");
    const auto r = playlist_metadata(m, 400.0);
    EXPECT_TRUE(r.skipped.empty());
    ASSERT_EQ(r.items.size(), 1u);
    const auto& it = r.items[0];
    EXPECT_EQ(it.from, timed_metadata::source::daterange);
    EXPECT_DOUBLE_EQ(it.time, 405.5);
    EXPECT_DOUBLE_EQ(it.duration.value(), 180.5);
    EXPECT_EQ(it.title, "Song");
    EXPECT_EQ(it.artist, "Band");
    ASSERT_TRUE(it.daterange);
    EXPECT_EQ(it.daterange->id, "song1");
    EXPECT_EQ(it.daterange->class_name, "com.example.song");
    EXPECT_EQ(it.daterange->start_date, "2026-12-05T09:00:05.500Z");
    ASSERT_EQ(it.daterange->attributes.size(), 2u);
}

TEST(playlist_metadata, a_later_program_date_time_wins_after_a_discontinuity) {
    // The clock jumps at the discontinuity: a date after it is placed by the later PDT.
    const auto m = parse(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-05T09:00:00Z\n#EXTINF:4,\na.aac\n#EXTINF:4,\nb.aac\n"
        "#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:2026-12-05T12:00:00Z\n"
        "#EXTINF:4,\nc.aac\n#EXTINF:4,\nd.aac\n"
        "#EXT-X-DATERANGE:ID=\"a\",START-DATE=\"2026-12-05T09:00:06Z\"\n"
        "#EXT-X-DATERANGE:ID=\"b\",START-DATE=\"2026-12-05T12:00:05Z\"\n"
        "#EXT-X-DATERANGE:ID=\"c\",START-DATE=\"2026-12-05T08:59:58Z\"\n");
    const auto r = playlist_metadata(m);
    ASSERT_EQ(r.items.size(), 3u);
    EXPECT_EQ(r.items[0].daterange->id, "c");  // before the first segment: extrapolated
    EXPECT_DOUBLE_EQ(r.items[0].time, -2.0);
    EXPECT_EQ(r.items[1].daterange->id, "a");
    EXPECT_DOUBLE_EQ(r.items[1].time, 6.0);
    EXPECT_EQ(r.items[2].daterange->id, "b");
    EXPECT_DOUBLE_EQ(r.items[2].time, 13.0);
}

TEST(playlist_metadata, durations_from_end_date_end_on_next_and_planned) {
    const auto m = parse(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-12-05T09:00:00Z\n"
        "#EXT-X-DATERANGE:ID=\"e\",START-DATE=\"2026-12-05T09:00:01Z\","
        "END-DATE=\"2026-12-05T09:00:04Z\"\n"
        "#EXT-X-DATERANGE:ID=\"n1\",CLASS=\"song\",START-DATE=\"2026-12-05T09:00:02Z\","
        "END-ON-NEXT=YES\n"
        "#EXT-X-DATERANGE:ID=\"x\",CLASS=\"other\",START-DATE=\"2026-12-05T09:00:03Z\"\n"
        "#EXT-X-DATERANGE:ID=\"n2\",CLASS=\"song\",START-DATE=\"2026-12-05T09:00:09Z\","
        "END-ON-NEXT=YES\n"
        "#EXT-X-DATERANGE:ID=\"p\",START-DATE=\"2026-12-05T09:00:05Z\",PLANNED-DURATION=30\n"
        "#EXTINF:10,\na.aac\n#EXTINF:10,\nb.aac\n");
    const auto r = playlist_metadata(m);
    ASSERT_EQ(r.items.size(), 5u);
    auto find = [&](const std::string& id) -> const timed_metadata& {
        for (const auto& i : r.items)
            if (i.daterange->id == id) return i;
        ADD_FAILURE() << id;
        return r.items[0];
    };
    EXPECT_DOUBLE_EQ(find("e").duration.value(), 3.0);
    EXPECT_DOUBLE_EQ(find("n1").duration.value(), 7.0);  // to n2, not to x (another class)
    EXPECT_FALSE(find("n2").duration);                   // no next yet
    EXPECT_FALSE(find("x").duration);
    EXPECT_DOUBLE_EQ(find("p").duration.value(), 30.0);
    for (std::size_t i = 1; i < r.items.size(); ++i)
        EXPECT_LE(r.items[i - 1].time, r.items[i].time);  // sorted by time
}

TEST(playlist_metadata, without_program_date_time_dateranges_are_skipped_with_a_reason) {
    const auto m = parse(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n"
        "#EXT-X-DATERANGE:ID=\"ad\",START-DATE=\"2026-12-05T09:00:00Z\",DURATION=30\n"
        "#EXTINF:4,\na.aac\n");
    const auto r = playlist_metadata(m);
    EXPECT_TRUE(r.items.empty());
    ASSERT_EQ(r.skipped.size(), 1u);
    EXPECT_EQ(r.skipped[0],
              "DATERANGE ID=ad (line 3): no EXT-X-PROGRAM-DATE-TIME to map START-DATE");
}

TEST(playlist_metadata, a_bad_start_date_is_skipped_with_a_reason) {
    const auto m = parse(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PROGRAM-DATE-TIME:2026-12-05T09:00:00Z\n"
        "#EXT-X-DATERANGE:ID=\"ad\",START-DATE=\"yesterday\"\n#EXTINF:4,\na.aac\n");
    const auto r = playlist_metadata(m);
    ASSERT_EQ(r.skipped.size(), 1u);
    EXPECT_EQ(r.skipped[0], "DATERANGE ID=ad (line 4): START-DATE \"yesterday\" is not a date");
}

TEST(playlist_metadata, extinf_titles_become_items_one_per_run) {
    const auto m = parse(
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n"
        "#EXTINF:10,title=\"Song A\",artist=\"Band\"\na.aac\n"
        "#EXTINF:10,title=\"Song A\",artist=\"Band\"\nb.aac\n"
        "#EXTINF:9.5,StreamTitle='Other - Song B';\nc.aac\n"
        "#EXTINF:10,\nd.aac\n"
        "#EXTINF:10,Plain words - not split\ne.aac\n");
    const auto r = playlist_metadata(m, 1.0);
    ASSERT_EQ(r.items.size(), 3u);
    EXPECT_EQ(r.items[0].from, timed_metadata::source::extinf);
    EXPECT_DOUBLE_EQ(r.items[0].time, 1.0);
    EXPECT_DOUBLE_EQ(r.items[0].duration.value(), 20.0);
    EXPECT_EQ(r.items[0].title, "Song A");
    EXPECT_EQ(r.items[0].artist, "Band");
    EXPECT_DOUBLE_EQ(r.items[1].time, 21.0);
    EXPECT_EQ(r.items[1].title, "Song B");
    EXPECT_EQ(r.items[1].artist, "Other");
    EXPECT_DOUBLE_EQ(r.items[2].time, 40.5);
    EXPECT_EQ(r.items[2].title, "Plain words - not split");
    EXPECT_EQ(r.items[2].artist, "");
}

}  // namespace
}  // namespace kithara::hls
