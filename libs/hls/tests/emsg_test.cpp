// fMP4 event messages: top-level boxes walked (also while the segment arrives), emsg v0 and v1
// parsed and placed on the stream timeline, ID3 messages parsed into frames, malformed boxes named
// with their offsets, repeated ids fired once within a bounded memory.
#include "detail/emsg.hpp"
#include "metadata_support.hpp"

#include <kithara/hls/error.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

namespace kithara::hls::detail {
namespace {

using test::bytes;
using test::operator+;
using test::emsg_v0;
using test::emsg_v1;
namespace id3b = test::id3;

constexpr const char* aom_id3 = "https://aomedia.org/emsg/ID3";

bytes song_tag() {
    return id3b::tag(4, id3b::frame(4, "TIT2", id3b::text(3, "Song")) +
                            id3b::frame(4, "TPE1", id3b::text(3, "Band")));
}

std::string type_at(const bytes& b, std::size_t at) {
    return std::string(reinterpret_cast<const char*>(b.data()) + at + 4, 4);
}

TEST(emsg, parses_version_0_relative_to_the_segment) {
    const auto box = emsg_v0("urn:example:ev", "v1", 1000, 1500, 250, 42, bytes{9, 8, 7});
    auto e = parse_emsg(box, 300);
    ASSERT_TRUE(e) << e.error().message();
    EXPECT_EQ(e->offset, 300u);
    EXPECT_EQ(e->event.version, 0);
    EXPECT_EQ(e->event.scheme_id_uri, "urn:example:ev");
    EXPECT_EQ(e->event.value, "v1");
    EXPECT_EQ(e->event.timescale, 1000u);
    EXPECT_EQ(e->event.id, 42u);
    EXPECT_EQ(e->presentation, 1500u);
    EXPECT_EQ(e->event_duration, 250u);
    EXPECT_EQ(e->event.message_data, (bytes{9, 8, 7}));
    auto m = emsg_metadata(*e, {.segment_start = 20.0});
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->from, timed_metadata::source::emsg);
    EXPECT_DOUBLE_EQ(m->time, 21.5);
    EXPECT_DOUBLE_EQ(m->duration.value(), 0.25);
    EXPECT_TRUE(m->frames.empty());
    ASSERT_TRUE(m->emsg);
    EXPECT_EQ(m->emsg->message_data, (bytes{9, 8, 7}));
}

TEST(emsg, parses_version_1_with_absolute_time_and_id3_message) {
    const auto box = emsg_v1(aom_id3, "", 90000, 90000ull * 3600 * 30, 0xFFFFFFFF, 7, song_tag());
    auto e = parse_emsg(box);
    ASSERT_TRUE(e) << e.error().message();
    EXPECT_EQ(e->event.version, 1);
    EXPECT_EQ(e->presentation, 90000ull * 3600 * 30);
    EXPECT_FALSE(e->event_duration);  // 0xFFFFFFFF: unknown
    auto m = emsg_metadata(*e, {.segment_start = 5, .media_offset = -108000.0 + 2});
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_DOUBLE_EQ(m->time, 2.0);
    EXPECT_FALSE(m->duration);
    EXPECT_EQ(m->title, "Song");
    EXPECT_EQ(m->artist, "Band");
    ASSERT_EQ(m->frames.size(), 2u);
    EXPECT_EQ(m->frames[0].id, "TIT2");
    EXPECT_EQ(m->emsg->scheme_id_uri, aom_id3);
    // Apple's scheme carries ID3 too; a malformed tag under an ID3 scheme is an error.
    auto apple = parse_emsg(
        emsg_v0("https://developer.apple.com/streaming/emsg-id3", "", 1, 0, 0, 1, song_tag()));
    ASSERT_TRUE(apple);
    EXPECT_EQ(emsg_metadata(*apple, {})->title, "Song");
    auto broken = parse_emsg(emsg_v0(aom_id3, "", 1, 0, 0, 1, bytes{'I', 'D', '3', 4}));
    ASSERT_TRUE(broken);
    auto bad = emsg_metadata(*broken, {});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), errc::bad_metadata);
    EXPECT_NE(bad.error().message().find("header truncated"), std::string::npos);
}

TEST(emsg, malformed_boxes_are_errors_naming_the_offset) {
    auto expect_error = [](const bytes& box, const std::string& what) {
        auto e = parse_emsg(box, 1000);
        ASSERT_FALSE(e) << what;
        EXPECT_EQ(e.error(), errc::bad_metadata);
        EXPECT_NE(e.error().message().find(what), std::string::npos) << e.error().message();
    };
    auto good = emsg_v0("s", "v", 10, 1, 1, 1, {});
    auto v2 = good;
    v2[8] = 2;
    expect_error(v2, "emsg version 2 not supported at offset 1008");
    auto zero_ts = emsg_v0("s", "v", 0, 1, 1, 1, {});
    expect_error(zero_ts, "emsg timescale 0");
    // Strings without their NUL, fields cut short.
    bytes no_nul = {0, 0, 0, 0, 's', 'c', 'h'};
    bytes hdr;
    test::put_be(hdr, no_nul.size() + 8, 4);
    expect_error(hdr + test::str("emsg") + no_nul,
                 "scheme_id_uri not NUL-terminated at offset 1012");
    for (std::size_t cut = 13; cut < good.size(); ++cut) {
        bytes b(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        b[3] = static_cast<std::uint8_t>(cut);  // the size says what is there
        auto e = parse_emsg(b);
        EXPECT_FALSE(e) << cut;
    }
    expect_error(bytes{0, 0, 0, 12, 'm', 'o', 'o', 'f', 0, 0, 0, 0}, "not an emsg box");
    auto size_lie = good;
    size_lie[3] = static_cast<std::uint8_t>(size_lie[3] + 4);
    expect_error(size_lie, "emsg box declares");
}

// An fMP4 file ffmpeg made, with an emsg box before every moof (as packagers put them).
struct with_emsg {
    bytes file;
    std::size_t inserted = 0;
    std::vector<std::size_t> at;
};

with_emsg insert_emsg(const bytes& mp4) {
    with_emsg out;
    std::size_t pos = 0;
    std::uint32_t id = 0;
    while (pos + 8 <= mp4.size()) {
        std::uint64_t size = 0;
        for (std::size_t i = 0; i < 4; ++i) size = size << 8 | mp4[pos + i];
        if (size < 8 || pos + size > mp4.size()) break;
        if (type_at(mp4, pos) == "moof") {
            out.at.push_back(out.file.size());
            const auto tag =
                id3b::tag(4, id3b::frame(4, "TIT2", id3b::text(3, "t" + std::to_string(id))));
            out.file = out.file + emsg_v0(aom_id3, "", 1000, 100 * id, 0xFFFFFFFF, id, tag);
            ++id;
        }
        out.file.insert(out.file.end(), mp4.begin() + static_cast<std::ptrdiff_t>(pos),
                        mp4.begin() + static_cast<std::ptrdiff_t>(pos + size));
        pos += size;
    }
    out.inserted = id;
    return out;
}

// emsg version 1 is placed through the init's timescale and the fragment's decode time: both
// read from what ffmpeg wrote (44.1 kHz AAC; fragments of whole 1024-sample frames).
TEST(emsg, media_timescale_and_fragment_decode_times_of_an_ffmpeg_fragmented_mp4) {
    const auto mp4 = test::read_fixture("frag.mp4");
    EXPECT_EQ(media_timescale(mp4), 44100u);
    std::vector<std::uint64_t> times;
    for (std::size_t pos = 0; pos + 8 <= mp4.size();) {
        const std::size_t size = (std::size_t{mp4[pos]} << 24) | (std::size_t{mp4[pos + 1]} << 16) |
                                 (std::size_t{mp4[pos + 2]} << 8) | mp4[pos + 3];
        ASSERT_GE(size, 8u);
        if (type_at(mp4, pos) == "moof") {
            const auto t = fragment_decode_time(std::span(mp4).subspan(pos, size));
            ASSERT_TRUE(t) << pos;
            times.push_back(*t);
        }
        pos += size;
    }
    ASSERT_GE(times.size(), 3u);
    EXPECT_EQ(times[0], 0u);
    for (std::size_t i = 1; i < times.size(); ++i) {
        EXPECT_GT(times[i], times[i - 1]) << i;
        EXPECT_EQ(times[i] % 1024, 0u) << i;
    }
    // Not an init section, or a moof without tfdt: nothing.
    EXPECT_FALSE(media_timescale(test::str("not boxes at all")));
    const auto empty_moof = test::bytes{0, 0, 0, 8, 'm', 'o', 'o', 'f'};
    EXPECT_FALSE(fragment_decode_time(empty_moof));
}

TEST(emsg, finds_emsg_among_the_boxes_of_an_ffmpeg_fragmented_mp4) {
    const auto mp4 = test::read_fixture("frag.mp4");
    ASSERT_EQ(type_at(mp4, 0), "ftyp");
    const auto seg = insert_emsg(mp4);
    ASSERT_GE(seg.inserted, 3u);
    auto w = find_emsg(seg.file, 0, true);
    ASSERT_TRUE(w) << w.error().message();
    EXPECT_TRUE(w->errors.empty());
    EXPECT_EQ(w->next, seg.file.size());
    ASSERT_EQ(w->boxes.size(), seg.inserted);
    for (std::size_t i = 0; i < w->boxes.size(); ++i) {
        EXPECT_EQ(w->boxes[i].offset, seg.at[i]);
        EXPECT_EQ(w->boxes[i].event.id, i);
        auto m = emsg_metadata(w->boxes[i], {.segment_start = 100});
        ASSERT_TRUE(m);
        EXPECT_EQ(m->title, "t" + std::to_string(i));
        EXPECT_DOUBLE_EQ(m->time, 100 + 0.1 * static_cast<double>(i));
    }
    // The same boxes while the segment arrives 1000 bytes at a time, resuming where it stopped.
    std::vector<emsg_box> found;
    std::uint64_t next = 0;
    for (std::size_t have = 1000;; have += 1000) {
        const bool complete = have >= seg.file.size();
        const auto n = std::min(have, seg.file.size());
        auto part = find_emsg(std::span(seg.file).first(n), next, complete);
        ASSERT_TRUE(part) << part.error().message();
        for (auto& b : part->boxes) found.push_back(std::move(b));
        next = part->next;
        if (complete) break;
    }
    ASSERT_EQ(found.size(), seg.inserted);
    for (std::size_t i = 0; i < found.size(); ++i) EXPECT_EQ(found[i].offset, seg.at[i]);
}

TEST(emsg, walks_largesize_and_size_zero_boxes) {
    bytes large;
    test::put_be(large, 1, 4);
    large = large + test::str("free");
    test::put_be(large, 16 + 5, 8);
    large = large + bytes(5, 0);
    const auto box = emsg_v0("s", "v", 1, 2, 3, 4, {});
    bytes to_end = {0, 0, 0, 0, 'm', 'd', 'a', 't', 1, 2, 3};
    const auto seg = large + box + to_end;
    auto w = find_emsg(seg, 0, true);
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_EQ(w->boxes.size(), 1u);
    EXPECT_EQ(w->boxes[0].offset, large.size());
    EXPECT_EQ(w->next, seg.size());
}

// A largesize near 2^64 seen before its bytes arrived: the resume offset saturates instead of
// wrapping back into the data (found by hls.metadata_fuzz), and the complete walk is an error.
TEST(emsg, a_huge_largesize_never_moves_the_resume_offset_back) {
    const auto box = emsg_v0("s", "v", 1, 2, 3, 4, {});
    bytes huge;
    test::put_be(huge, 1, 4);
    huge = huge + test::str("mdat");
    test::put_be(huge, 0xFFFFFFFFFFFFFFFFull, 8);
    const auto seg = box + huge + bytes(40, 0xFF);
    auto part = find_emsg(std::span(seg).first(box.size() + 20), 0, false);
    ASSERT_TRUE(part) << part.error().message();
    ASSERT_EQ(part->boxes.size(), 1u);
    EXPECT_EQ(part->next, std::numeric_limits<std::uint64_t>::max());
    auto rest = find_emsg(seg, part->next, true);
    ASSERT_TRUE(rest);
    EXPECT_TRUE(rest->boxes.empty());
    EXPECT_FALSE(find_emsg(seg, 0, true));
}

TEST(emsg, broken_box_structure_is_an_error_with_its_offset) {
    const auto box = emsg_v0("s", "v", 1, 2, 3, 4, {});
    bytes tiny = {0, 0, 0, 4, 'f', 'r', 'e', 'e'};
    auto w = find_emsg(box + tiny, 0, true);
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().message().find("box 'free' size 4 under 8 at offset " +
                                       std::to_string(box.size())),
              std::string::npos)
        << w.error().message();
    bytes past = {0, 0, 1, 0, 'm', 'd', 'a', 't', 0};
    w = find_emsg(box + past, 0, true);
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().message().find("runs past the segment end"), std::string::npos);
    // Not complete yet: the walk stops there and resumes later, no error.
    w = find_emsg(box + past, 0, false);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->boxes.size(), 1u);
    EXPECT_EQ(w->next, box.size() + 256);
    bytes large_lie = {0, 0, 0, 1, 'f', 'r', 'e', 'e', 0, 0, 0, 0, 0, 0, 0, 8};
    w = find_emsg(large_lie, 0, true);
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().message().find("largesize 8 under 16"), std::string::npos);
    w = find_emsg(bytes{0, 0, 0}, 0, true);
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().message().find("box header truncated"), std::string::npos);
    // A malformed emsg does not stop the walk: it is listed, and the next one is found.
    auto bad = emsg_v0("s", "v", 0, 1, 1, 1, {});
    auto ok = find_emsg(bad + box, 0, true);
    ASSERT_TRUE(ok);
    ASSERT_EQ(ok->errors.size(), 1u);
    EXPECT_NE(ok->errors[0].message().find("timescale 0"), std::string::npos);
    ASSERT_EQ(ok->boxes.size(), 1u);
    EXPECT_EQ(ok->boxes[0].offset, bad.size());
}

TEST(emsg, an_emsg_over_the_limit_is_reported_not_read) {
    bytes huge;
    test::put_be(huge, max_emsg_bytes + 100, 4);
    huge = huge + test::str("emsg") + bytes(64, 0);
    auto w = find_emsg(huge, 0, false);  // arriving: passed over by its size, never buffered
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_EQ(w->errors.size(), 1u);
    EXPECT_NE(w->errors[0].message().find("over the limit"), std::string::npos);
    EXPECT_EQ(w->next, max_emsg_bytes + 100);
}

TEST(emsg, a_repeated_id_fires_once) {
    emsg_dedup d;
    emsg_event a{aom_id3, "", 1, 90000, 0, {}};
    EXPECT_TRUE(d.first_time(a));
    EXPECT_FALSE(d.first_time(a));
    auto other_id = a;
    other_id.id = 2;
    EXPECT_TRUE(d.first_time(other_id));
    auto other_value = a;
    other_value.value = "x";
    EXPECT_TRUE(d.first_time(other_value));
    auto other_scheme = a;
    other_scheme.scheme_id_uri = "urn:other";
    EXPECT_TRUE(d.first_time(other_scheme));
    auto same_key_new_data = a;
    same_key_new_data.message_data = {1};
    EXPECT_FALSE(d.first_time(same_key_new_data));  // the key is (scheme, value, id)
}

TEST(emsg, dedup_memory_is_bounded) {
    emsg_dedup d(4, 2);
    emsg_event e{"urn:a", "", 0, 1, 0, {}};
    for (std::uint32_t i = 0; i < 5; ++i) {
        e.id = i;
        EXPECT_TRUE(d.first_time(e));
    }
    e.id = 0;  // forgotten: five ids passed through a memory of four
    EXPECT_TRUE(d.first_time(e));
    e.id = 4;
    EXPECT_FALSE(d.first_time(e));
    emsg_event b{"urn:b", "", 0, 1, 0, {}};
    emsg_event c{"urn:c", "", 0, 1, 0, {}};
    EXPECT_TRUE(d.first_time(b));
    EXPECT_TRUE(d.first_time(c));  // urn:a is forgotten (two schemes)
    e.id = 4;
    EXPECT_TRUE(d.first_time(e));
    // Long values are kept as a digest, still told apart.
    emsg_event l1{"urn:b", std::string(10000, 'x'), 0, 1, 0, {}};
    emsg_event l2{"urn:b", std::string(10000, 'y'), 0, 1, 0, {}};
    EXPECT_TRUE(d.first_time(l1));
    EXPECT_TRUE(d.first_time(l2));
    EXPECT_FALSE(d.first_time(l1));
}

}  // namespace
}  // namespace kithara::hls::detail
