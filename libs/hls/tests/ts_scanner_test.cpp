// The MPEG-TS timed-metadata scanner on a transport stream ffmpeg made (tone.ts), rewritten with
// an HLS timed-metadata stream (ts_metadata_builders.hpp): the tags with their PTS against the
// first audio PTS, the same answer whatever the chunking, a tag ahead of all audio, sync loss,
// the 33-bit wrap, and damaged metadata PES that are reported, never fatal.
#include "detail/ts_scanner.hpp"
#include "metadata_support.hpp"
#include "ts_metadata_builders.hpp"

#include <kithara/hls/error.hpp>

#include <gtest/gtest.h>

namespace kithara::hls::detail {
namespace {

using test::bytes;
namespace id3b = test::id3;

bytes titled(std::string_view title) {
    return id3b::tag(4, id3b::frame(4, "TIT2", id3b::text(3, title)));
}

std::vector<std::byte> as_bytes(const bytes& b) {
    std::vector<std::byte> r(b.size());
    for (std::size_t i = 0; i < b.size(); ++i) r[i] = std::byte{b[i]};
    return r;
}

bytes as_u8(const std::vector<std::byte>& b) {
    bytes r(b.size());
    for (std::size_t i = 0; i < b.size(); ++i) r[i] = static_cast<std::uint8_t>(b[i]);
    return r;
}

struct scanned {
    std::vector<ts_tag> tags;
    std::optional<std::uint64_t> audio_pts;
    bool failed = false;
};

scanned scan(const bytes& in, std::size_t chunk) {
    ts_metadata_scanner s;
    scanned o;
    for (std::size_t at = 0; at < in.size(); at += chunk) {
        auto r = s.feed(std::span(in).subspan(at, std::min(chunk, in.size() - at)), o.tags);
        if (!r) o.failed = true;
    }
    s.finish(o.tags);
    o.audio_pts = s.first_audio_pts();
    return o;
}

std::string title_of(const ts_tag& t) {
    for (const auto& f : t.tag->frames)
        if (f.id == "TIT2") return frame_text(f).value_or("");
    return "";
}

TEST(ts_scanner, finds_each_tag_with_its_time_after_the_first_audio_pts_in_any_chunking) {
    const auto ts = test::read_fixture("tone.ts");
    ASSERT_EQ(ts.size() % 188, 0u);
    const std::vector<std::pair<double, std::string>> want = {
        {0.0, "At the start"}, {0.5, "Half a second"}, {1.25, "Later"}};
    std::vector<kithara::test::ts_id3_at> tags;
    for (const auto& [t, title] : want) tags.push_back({t, as_bytes(titled(title))});
    const auto tagged = as_u8(kithara::test::ts_with_id3(as_bytes(ts), tags));

    const auto plain = scan(ts, ts.size());
    EXPECT_TRUE(plain.tags.empty());
    ASSERT_TRUE(plain.audio_pts);

    for (std::size_t chunk :
         {tagged.size(), std::size_t{1}, std::size_t{100}, std::size_t{188}, std::size_t{4096}}) {
        SCOPED_TRACE(chunk);
        const auto got = scan(tagged, chunk);
        EXPECT_FALSE(got.failed);
        ASSERT_EQ(got.audio_pts, plain.audio_pts);
        ASSERT_EQ(got.tags.size(), want.size());
        for (std::size_t i = 0; i < want.size(); ++i) {
            ASSERT_TRUE(got.tags[i].tag) << got.tags[i].tag.error().message();
            ASSERT_TRUE(got.tags[i].pts);
            EXPECT_DOUBLE_EQ(pts_seconds(*got.tags[i].pts, *got.audio_pts), want[i].first) << i;
            EXPECT_EQ(title_of(got.tags[i]), want[i].second);
            if (i > 0) {
                EXPECT_GT(got.tags[i].offset, got.tags[i - 1].offset);
            }
        }
    }
}

TEST(ts_scanner, a_tag_ahead_of_all_audio_comes_before_the_audio_pts_is_known) {
    const auto ts = test::read_fixture("tone.ts");
    const auto tagged =
        as_u8(kithara::test::ts_with_id3(as_bytes(ts), {{0.0, as_bytes(titled("Lead"))}}));
    ts_metadata_scanner s;
    std::vector<ts_tag> tags;
    // Up to and including the metadata packet (it precedes the first audio PES).
    std::size_t at = 0;
    for (; at < tagged.size() && tags.empty(); at += 188)
        ASSERT_TRUE(s.feed(std::span(tagged).subspan(at, 188), tags));
    ASSERT_EQ(tags.size(), 1u);
    EXPECT_TRUE(s.has_metadata_stream());
    EXPECT_FALSE(s.first_audio_pts());  // the tap holds the tag until it is
    ASSERT_TRUE(s.feed(std::span(tagged).subspan(at), tags));
    ASSERT_TRUE(s.first_audio_pts());
    EXPECT_EQ(pts_seconds(*tags[0].pts, *s.first_audio_pts()), 0.0);
}

TEST(ts_scanner, lost_sync_fails_once_and_keeps_what_came_before) {
    const auto ts = test::read_fixture("tone.ts");
    auto tagged = as_u8(kithara::test::ts_with_id3(
        as_bytes(ts), {{0.0, as_bytes(titled("Kept"))}, {1.5, as_bytes(titled("Lost"))}}));
    // Garbage from the middle on.
    const std::size_t cut = (tagged.size() / 188 / 2) * 188 + 3;
    std::fill(tagged.begin() + static_cast<std::ptrdiff_t>(cut), tagged.end(), std::uint8_t{0x11});
    ts_metadata_scanner s;
    std::vector<ts_tag> tags;
    auto r = s.feed(tagged, tags);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), errc::bad_metadata);
    EXPECT_NE(r.error().message().find("sync lost at offset"), std::string::npos)
        << r.error().message();
    EXPECT_TRUE(s.feed(tagged, tags));  // after the failure: ignored, no second error
    ASSERT_EQ(tags.size(), 1u);
    EXPECT_EQ(title_of(tags[0]), "Kept");
}

TEST(ts_scanner, a_damaged_metadata_pes_is_reported_and_the_next_one_still_found) {
    const auto ts = test::read_fixture("tone.ts");
    // A PES whose payload is not an ID3 tag, then a good one.
    auto bad = titled("Bad");
    bad[0] = 'X';
    const auto tagged = as_u8(kithara::test::ts_with_id3(
        as_bytes(ts), {{0.25, as_bytes(bad)}, {0.75, as_bytes(titled("Good"))}}));
    const auto got = scan(tagged, 188);
    ASSERT_EQ(got.tags.size(), 2u);
    ASSERT_FALSE(got.tags[0].tag);
    EXPECT_NE(got.tags[0].tag.error().message().find("no ID3 tag"), std::string::npos);
    ASSERT_TRUE(got.tags[1].tag);
    EXPECT_EQ(title_of(got.tags[1]), "Good");
}

TEST(ts_scanner, pts_seconds_crosses_the_33_bit_wrap) {
    const std::uint64_t wrap = std::uint64_t{1} << 33;
    EXPECT_DOUBLE_EQ(pts_seconds(90000, 0), 1.0);
    EXPECT_DOUBLE_EQ(pts_seconds(45000, wrap - 45000), 1.0);
    EXPECT_EQ(pts_seconds(100, 200), 0.0);  // a little ahead of the audio: at its start
}

}  // namespace
}  // namespace kithara::hls::detail
