// ID3v2.2/2.3/2.4 tags: frames and flags, unsynchronisation, the four text encodings, TXXX, PRIV,
// URL frames, the footer; malformed tags give errors naming what and where, never a crash; the
// tags ffmpeg writes (-metadata title/artist) read back.
#include "detail/id3.hpp"
#include "detail/timed_metadata.hpp"
#include "metadata_support.hpp"
#include "packed_audio_builders.hpp"

#include <kithara/hls/error.hpp>

#include <gtest/gtest.h>

namespace kithara::hls::detail {
namespace {

using test::bytes;
using test::operator+;
using test::str;
namespace id3b = test::id3;

std::string text_of(const id3_tag& t, std::string_view id) {
    for (const auto& f : t.frames)
        if (f.id == id) return frame_text(f).value_or("<no text>");
    return "<no frame>";
}

std::string message_of(const result<id3_tag>& r) {
    EXPECT_FALSE(r) << "expected an error";
    if (r) return {};
    EXPECT_EQ(r.error(), errc::bad_metadata);
    return r.error().message();
}

TEST(id3, parses_v24_text_frames) {
    const auto tag = id3b::tag(4, id3b::frame(4, "TIT2", id3b::text(3, "Song")) +
                                      id3b::frame(4, "TPE1", id3b::text(3, "Band")));
    auto t = parse_id3(tag);
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->version, 4);
    EXPECT_EQ(t->size, tag.size());
    ASSERT_EQ(t->frames.size(), 2u);
    EXPECT_EQ(t->frames[0].id, "TIT2");
    EXPECT_EQ(t->frames[0].data, id3b::text(3, "Song"));
    EXPECT_EQ(text_of(*t, "TIT2"), "Song");
    EXPECT_EQ(text_of(*t, "TPE1"), "Band");
    const auto m = id3_metadata(std::move(*t), 12.5);
    EXPECT_EQ(m.title, "Song");
    EXPECT_EQ(m.artist, "Band");
    EXPECT_EQ(m.time, 12.5);
    EXPECT_EQ(m.from, timed_metadata::source::id3);
}

TEST(id3, decodes_the_four_text_encodings_to_utf8) {
    // ISO-8859-1 "Café"; UTF-16 LE with BOM "♪🎵" (a surrogate pair); UTF-16BE "Ωmega"; UTF-8.
    const bytes latin = {0, 'C', 'a', 'f', 0xE9};
    const bytes utf16 = {1, 0xFF, 0xFE, 0x6A, 0x26, 0x3C, 0xD8, 0xB5, 0xDF};
    const bytes utf16be = {2, 0x03, 0xA9, 0, 'm', 0, 'e', 0, 'g', 0, 'a'};
    const bytes utf8 = id3b::text(3, "na\xC3\xAFve");
    const auto tag =
        id3b::tag(4, id3b::frame(4, "TIT2", latin) + id3b::frame(4, "TPE1", utf16) +
                         id3b::frame(4, "TALB", utf16be) + id3b::frame(4, "TCON", utf8));
    auto t = parse_id3(tag);
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(text_of(*t, "TIT2"), "Caf\xC3\xA9");
    EXPECT_EQ(text_of(*t, "TPE1"), "\xE2\x99\xAA\xF0\x9F\x8E\xB5");
    EXPECT_EQ(text_of(*t, "TALB"), "\xCE\xA9mega");
    EXPECT_EQ(text_of(*t, "TCON"), "na\xC3\xAFve");
}

TEST(id3, text_edge_cases_become_replacement_characters_not_errors) {
    // A lone high surrogate, an odd trailing byte, invalid and overlong UTF-8, an unknown encoding.
    EXPECT_EQ(frame_text({"TIT2", {1, 0xFE, 0xFF, 0xD8, 0x00, 0x00, 0x41, 0x42}}),
              "\xEF\xBF\xBD"
              "A\xEF\xBF\xBD");
    EXPECT_EQ(frame_text({"TIT2", {3, 'a', 0xC0, 0xAF, 0xFF, 'b'}}),
              "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(frame_text({"TIT2", {3, 'a', 0xE2, 0x82}}), "a\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(frame_text({"TIT2", {7, 'a'}}), std::nullopt);
    EXPECT_EQ(frame_text({"TIT2", {}}), std::nullopt);
    EXPECT_EQ(frame_text({"APIC", {0, 'x'}}), std::nullopt);
    EXPECT_EQ(frame_text({"TIT2", {3, 'a'}, true}), std::nullopt);  // opaque
}

TEST(id3, several_values_are_joined) {
    EXPECT_EQ(frame_text({"TPE1", id3b::text(3, std::string("A\0B\0", 4))}), "A / B");
    const bytes two_utf16 = {1, 0xFF, 0xFE, 'A', 0, 0, 0, 0xFE, 0xFF, 0, 'B', 0, 0};
    EXPECT_EQ(frame_text({"TPE1", two_utf16}), "A / B");
}

TEST(id3, txxx_comm_url_wxxx_priv_and_apic) {
    const bytes txxx = id3b::text(3, std::string("StreamTitle\0Band - Song", 23));
    const bytes comm = bytes{0} + str("eng") + str(std::string("short\0long text", 15));
    const bytes wxxx = bytes{1, 0xFF, 0xFE, 'd', 0, 0, 0} + str("https://example.com/a");
    const bytes woaf = str("https://example.com/f");
    const bytes priv = str(std::string("com.example.owner\0\x01\x02\x03", 21));
    const bytes apic = bytes{0} + str(std::string("image/png\0\x03\0\x89PNG", 16));
    const auto tag = id3b::tag(4, id3b::frame(4, "TXXX", txxx) + id3b::frame(4, "COMM", comm) +
                                      id3b::frame(4, "WXXX", wxxx) + id3b::frame(4, "WOAF", woaf) +
                                      id3b::frame(4, "PRIV", priv) + id3b::frame(4, "APIC", apic));
    auto t = parse_id3(tag);
    ASSERT_TRUE(t) << t.error().message();
    ASSERT_EQ(t->frames.size(), 6u);
    EXPECT_EQ(text_of(*t, "TXXX"), "Band - Song");
    EXPECT_EQ(text_of(*t, "COMM"), "long text");
    EXPECT_EQ(text_of(*t, "WXXX"), "https://example.com/a");
    EXPECT_EQ(text_of(*t, "WOAF"), "https://example.com/f");
    const auto p = parse_priv(t->frames[4]);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->owner, "com.example.owner");
    EXPECT_EQ(bytes(p->data.begin(), p->data.end()), (bytes{1, 2, 3}));
    EXPECT_EQ(t->frames[5].data, apic);  // kept raw
    EXPECT_EQ(frame_text(t->frames[5]), std::nullopt);
}

TEST(id3, icy_stream_title_names_artist_and_title) {
    auto t = parse_id3(id3b::tag(
        4, id3b::frame(4, "TIT2", id3b::text(3, "StreamTitle='Don't Stop - Band';StreamUrl='';"))));
    ASSERT_TRUE(t);
    auto m = id3_metadata(std::move(*t), 0);
    EXPECT_EQ(m.artist, "Don't Stop");
    EXPECT_EQ(m.title, "Band");
    timed_metadata plain;
    names_from_text(plain, "title=\"Song\",artist=\"Band\",url=\"x\"");
    EXPECT_EQ(plain.title, "Song");
    EXPECT_EQ(plain.artist, "Band");
    timed_metadata free;
    names_from_text(free, " Episode 3 - The Return ");
    EXPECT_EQ(free.title, "Episode 3 - The Return");
    EXPECT_EQ(free.artist, "");
}

TEST(id3, transport_stream_timestamp_is_masked_to_33_bits) {
    const auto b = kithara::test::id3_priv(0x5A00'0000'0000 | 0x1'2345'6789);
    const bytes tag(reinterpret_cast<const std::uint8_t*>(b.data()),
                    reinterpret_cast<const std::uint8_t*>(b.data()) + b.size());
    auto t = parse_id3(tag);
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(transport_stream_timestamp(*t), 0x1'2345'6789u);
    EXPECT_TRUE(timestamp_only(*t));
}

TEST(id3, a_tag_declared_short_reads_its_last_frame_within_the_slack) {
    const auto b = kithara::test::id3_priv(90000, 3);  // declares 3 bytes fewer than it has
    bytes tag(reinterpret_cast<const std::uint8_t*>(b.data()),
              reinterpret_cast<const std::uint8_t*>(b.data()) + b.size());
    tag.insert(tag.end(), {0xFF, 0xF1});  // the audio after it
    const auto strict = message_of(parse_id3(tag));
    EXPECT_NE(strict.find("frame PRIV of 53 bytes runs past the tag"), std::string::npos) << strict;
    auto t = parse_id3(tag, 0, max_id3_tag_bytes, 16);
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->size, b.size() - 3);
    EXPECT_EQ(transport_stream_timestamp(*t), 90000u);
    // Not beyond the slack, nor beyond the bytes given.
    EXPECT_FALSE(parse_id3(tag, 0, max_id3_tag_bytes, 2));
    EXPECT_FALSE(parse_id3(bytes(tag.begin(), tag.end() - 4), 0, max_id3_tag_bytes, 16));
}

TEST(id3, v23_whole_tag_unsynchronisation_is_undone) {
    const bytes data = {0, 'a', 0xFF, 0xE0, 'b', 0xFF, 0x00, 'c', 0xFF};
    const bytes body = id3b::frame(3, "TIT2", data) + id3b::frame(3, "TPE1", id3b::text(0, "x"));
    const auto tag = id3b::tag(3, id3b::unsync(body), 0x80);
    auto t = parse_id3(tag);
    ASSERT_TRUE(t) << t.error().message();
    ASSERT_EQ(t->frames.size(), 2u);
    EXPECT_EQ(t->frames[0].data, data);
    EXPECT_EQ(text_of(*t, "TPE1"), "x");
}

TEST(id3, v24_frame_unsynchronisation_and_data_length_indicator) {
    const bytes data = {0, 0xFF, 0xF1, 0xFF, 0x00, 'z', 0xFF};
    bytes stored;
    test::put_syncsafe(stored, data.size());  // data length indicator
    stored = stored + id3b::unsync(data);
    const auto tag = id3b::tag(
        4, id3b::frame(4, "TIT2", stored, 0x0003) + id3b::frame(4, "TPE1", id3b::text(3, "y")));
    auto t = parse_id3(tag);
    ASSERT_TRUE(t) << t.error().message();
    ASSERT_EQ(t->frames.size(), 2u);
    EXPECT_EQ(t->frames[0].data, data);
    EXPECT_FALSE(t->frames[0].opaque);
    EXPECT_EQ(text_of(*t, "TPE1"), "y");
    // The tag-level flag unsynchronises every frame (ID3v2.4 frames sizes are of stored bytes).
    const auto all = id3b::tag(4, id3b::frame(4, "TIT2", id3b::unsync(data)), 0x80);
    auto u = parse_id3(all);
    ASSERT_TRUE(u) << u.error().message();
    EXPECT_EQ(u->frames.at(0).data, data);
}

TEST(id3, compressed_and_encrypted_frames_are_kept_opaque) {
    const bytes payload = {0x78, 0x9C, 1, 2, 3};
    bytes v4c;  // v2.4 compression needs a data length indicator
    test::put_syncsafe(v4c, 100);
    const auto tag4 = id3b::tag(4, id3b::frame(4, "TIT2", v4c + payload, 0x0009) +
                                       id3b::frame(4, "TPE1", bytes{0x80} + payload, 0x0004) +
                                       id3b::frame(4, "TALB", id3b::text(3, "ok")));
    auto t = parse_id3(tag4);
    ASSERT_TRUE(t) << t.error().message();
    ASSERT_EQ(t->frames.size(), 3u);
    EXPECT_TRUE(t->frames[0].opaque);
    EXPECT_EQ(t->frames[0].data, payload);
    EXPECT_TRUE(t->frames[1].opaque);
    EXPECT_EQ(t->frames[1].data, payload);
    EXPECT_EQ(text_of(*t, "TALB"), "ok");
    EXPECT_EQ(text_of(*t, "TIT2"), "<no text>");
    // v2.3: compression adds the 4-byte decompressed size, encryption the method, grouping an id.
    const auto tag3 = id3b::tag(3, id3b::frame(3, "TIT2", bytes{0, 0, 0, 9} + payload, 0x0080) +
                                       id3b::frame(3, "TPE1", bytes{0x81, 0x07} + payload, 0x0060));
    auto u = parse_id3(tag3);
    ASSERT_TRUE(u) << u.error().message();
    ASSERT_EQ(u->frames.size(), 2u);
    EXPECT_TRUE(u->frames[0].opaque);
    EXPECT_EQ(u->frames[0].data, payload);
    EXPECT_TRUE(u->frames[1].opaque);
    EXPECT_EQ(u->frames[1].data, payload);
}

TEST(id3, extended_headers_are_skipped) {
    const auto frames = id3b::frame(3, "TIT2", id3b::text(0, "v3"));
    bytes ext3 = {0, 0, 0, 6, 0, 0, 0, 0, 0, 0};  // size 6 (excluding itself), flags, padding
    auto t3 = parse_id3(id3b::tag(3, ext3 + frames, 0x40));
    ASSERT_TRUE(t3) << t3.error().message();
    EXPECT_EQ(text_of(*t3, "TIT2"), "v3");
    bytes ext4 = {0, 0, 0, 6, 1, 0};  // syncsafe size 6 (including itself), one flag byte
    auto t4 = parse_id3(id3b::tag(4, ext4 + id3b::frame(4, "TIT2", id3b::text(3, "v4")), 0x40));
    ASSERT_TRUE(t4) << t4.error().message();
    EXPECT_EQ(text_of(*t4, "TIT2"), "v4");
}

TEST(id3, v22_three_letter_frames) {
    auto t =
        parse_id3(id3b::tag(2, id3b::frame(2, "TT2", id3b::text(0, "Old")) +
                                   id3b::frame(2, "TP1", id3b::text(0, "Timer")) +
                                   id3b::frame(2, "TXX", id3b::text(0, std::string("d\0v", 3)))));
    ASSERT_TRUE(t) << t.error().message();
    ASSERT_EQ(t->frames.size(), 3u);
    EXPECT_EQ(t->frames[0].id, "TT2");
    EXPECT_EQ(text_of(*t, "TXX"), "v");
    auto m = id3_metadata(std::move(*t), 0);
    EXPECT_EQ(m.title, "Old");
    EXPECT_EQ(m.artist, "Timer");
}

TEST(id3, padding_ends_the_frames_and_the_footer_is_checked) {
    const auto body = id3b::frame(4, "TIT2", id3b::text(3, "p")) + bytes(64, 0);
    auto padded = parse_id3(id3b::tag(4, body));
    ASSERT_TRUE(padded) << padded.error().message();
    EXPECT_EQ(padded->frames.size(), 1u);
    const auto with_footer = id3b::tag(4, id3b::frame(4, "TIT2", id3b::text(3, "f")), 0x10);
    EXPECT_EQ(id3_tag_size(with_footer), with_footer.size());
    auto f = parse_id3(with_footer);
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ(f->size, with_footer.size());
    EXPECT_EQ(text_of(*f, "TIT2"), "f");
    auto broken = with_footer;
    broken[broken.size() - 10] = 'X';
    const auto msg = message_of(parse_id3(broken, 100));
    EXPECT_NE(msg.find("footer"), std::string::npos) << msg;
    EXPECT_NE(msg.find("offset " + std::to_string(100 + broken.size() - 10)), std::string::npos)
        << msg;
}

TEST(id3, v24_tags_with_plain_frame_sizes_are_read) {
    // Old iTunes wrote ID3v2.4 frame sizes as plain integers: 200 = 0x000000C8 (not syncsafe).
    const std::string long_title(199, 't');
    bytes f = str("TIT2");
    test::put_be(f, 200, 4);
    f = f + bytes{0, 0} + id3b::text(3, long_title);
    auto t = parse_id3(id3b::tag(4, f + id3b::frame(4, "TPE1", id3b::text(3, "a"))));
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(text_of(*t, "TIT2"), long_title);
    EXPECT_EQ(text_of(*t, "TPE1"), "a");
}

TEST(id3, malformed_tags_give_errors_with_offsets) {
    const auto good = id3b::tag(4, id3b::frame(4, "TIT2", id3b::text(3, "Song")));
    EXPECT_NE(message_of(parse_id3(bytes{'I', 'D', '3'}, 5)).find("header truncated"),
              std::string::npos);
    EXPECT_NE(message_of(parse_id3(bytes{'X', 'Y', 'Z', 4, 0, 0, 0, 0, 0, 0})).find("no \"ID3\""),
              std::string::npos);
    auto v5 = good;
    v5[3] = 5;
    EXPECT_NE(message_of(parse_id3(v5)).find("version 2.5.0 not supported"), std::string::npos);
    auto bad_size = good;
    bad_size[7] = 0x80;
    const auto m1 = message_of(parse_id3(bad_size, 1000));
    EXPECT_NE(m1.find("not a syncsafe integer at offset 1006"), std::string::npos) << m1;
    EXPECT_FALSE(id3_tag_size(bad_size));
    // Every prefix of a good tag: an error that says truncated, never a crash or a short tag.
    for (std::size_t n = 10; n < good.size(); ++n) {
        const auto m = message_of(parse_id3(std::span(good).first(n)));
        EXPECT_NE(m.find("truncated"), std::string::npos) << n << ": " << m;
    }
    // A frame that claims more bytes than the tag holds.
    bytes over = str("TIT2");
    test::put_syncsafe(over, 50);
    over = over + bytes{0, 0} + id3b::text(3, "x");
    const auto m2 = message_of(parse_id3(id3b::tag(4, over), 20));
    EXPECT_NE(m2.find("frame TIT2 of 50 bytes runs past the tag at offset 30"), std::string::npos)
        << m2;
    // A bad frame id after a good frame.
    const auto m3 = message_of(parse_id3(
        id3b::tag(4, id3b::frame(4, "TIT2", id3b::text(3, "a")) + str("ti!2") + bytes(8, 1))));
    EXPECT_NE(m3.find("bad frame id at offset 22"), std::string::npos) << m3;
    // A frame header cut by the end of the tag (not padding).
    const auto m4 = message_of(parse_id3(id3b::tag(4, str("TIT2\0"))));
    EXPECT_NE(m4.find("frame header truncated"), std::string::npos) << m4;
    // Flags that need more bytes than the frame has (a data length indicator in a 2-byte frame).
    const auto m5 = message_of(parse_id3(id3b::tag(4, id3b::frame(4, "TIT2", bytes{3, 'a'}, 1))));
    EXPECT_NE(m5.find("flags need 4 bytes"), std::string::npos) << m5;
    // An extended header larger than the tag.
    const auto m6 = message_of(parse_id3(id3b::tag(3, bytes{0, 0, 1, 0, 0, 0, 0, 0}, 0x40)));
    EXPECT_NE(m6.find("extended header runs past the tag"), std::string::npos) << m6;
    const auto m7 = message_of(parse_id3(id3b::tag(4, bytes{0, 0, 0, 2, 0, 0}, 0x40)));
    EXPECT_NE(m7.find("extended header smaller than 6 bytes"), std::string::npos) << m7;
}

TEST(id3, a_tag_over_the_limit_is_refused_from_its_header) {
    bytes head = {'I', 'D', '3', 4, 0, 0};
    test::put_syncsafe(head, 2 * 1024 * 1024);
    const auto m = message_of(parse_id3(head, 7));  // only the header: the limit comes first
    EXPECT_NE(m.find("tag of 2097162 bytes over the limit of 1048576 at offset 7"),
              std::string::npos)
        << m;
    const auto small = id3b::tag(4, id3b::frame(4, "TIT2", id3b::text(3, "Song")));
    EXPECT_NE(message_of(parse_id3(small, 0, 20)).find("over the limit of 20"), std::string::npos);
}

TEST(id3, unsynchronisation_edge_cases) {
    // A final 0xFF (nothing after it), 0xFF 0x00 0x00 (one zero is data), 0xFF 0xFF 0x00.
    for (const bytes& data :
         {bytes{0, 'a', 0xFF}, bytes{0, 0xFF, 0x00, 0x00}, bytes{0, 0xFF, 0xFF}}) {
        const auto tag = id3b::tag(3, id3b::unsync(id3b::frame(3, "TIT2", data)), 0x80);
        auto t = parse_id3(tag);
        ASSERT_TRUE(t) << t.error().message();
        ASSERT_EQ(t->frames.size(), 1u);
        EXPECT_EQ(t->frames[0].data, data);
    }
    // A frame whose unsynchronised bytes end in 0xFF and the next frame right after it.
    const bytes data = {0, 'a', 0xFF};
    const auto tag = id3b::tag(4, id3b::frame(4, "TIT2", id3b::unsync(data), 0x0002) +
                                      id3b::frame(4, "TPE1", id3b::text(3, "b")));
    auto t = parse_id3(tag);
    ASSERT_TRUE(t) << t.error().message();
    ASSERT_EQ(t->frames.size(), 2u);
    EXPECT_EQ(t->frames[0].data, data);
    EXPECT_EQ(text_of(*t, "TPE1"), "b");
}

TEST(id3, reads_the_v24_tag_ffmpeg_writes) {
    const auto file = test::read_fixture("title_v24.mp3");
    ASSERT_GT(file.size(), 1000u);
    const auto size = id3_tag_size(file);
    ASSERT_TRUE(size);
    auto t = parse_id3(file, 0);  // the audio after the tag is not read
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->version, 4);
    EXPECT_EQ(t->size, *size);
    EXPECT_EQ(text_of(*t, "TALB"), "Fixtures");
    auto m = id3_metadata(std::move(*t), 0);
    EXPECT_EQ(m.title, "Kithara Song");
    EXPECT_EQ(m.artist, "The Testers");
}

TEST(id3, reads_the_v23_utf16_tag_ffmpeg_writes) {
    const auto file = test::read_fixture("title_v23.mp3");
    auto t = parse_id3(file, 0);
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->version, 3);
    auto m = id3_metadata(std::move(*t), 0);
    EXPECT_EQ(m.title,
              "Caf\xC3\xA9 \xC3\x9Cn\xC3\xAF"
              "code \xE2\x99\xAA");
    EXPECT_EQ(m.artist, "\xC3\x98rjan");
}

}  // namespace
}  // namespace kithara::hls::detail
