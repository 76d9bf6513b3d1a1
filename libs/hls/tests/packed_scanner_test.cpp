// The packed-audio scanner: real frame lengths (ADTS, MPEG audio, AC-3, E-AC-3) counted against
// ffprobe on streams ffmpeg made, ID3 tags found after the first frame with the samples before
// them, the same answer whatever the chunking, resync on garbage, bounded on oversize tags.
#include "detail/packed_scanner.hpp"
#include "detail/timed_metadata.hpp"
#include "metadata_support.hpp"
#include "packed_audio_builders.hpp"

#include <kithara/hls/error.hpp>

#include <gtest/gtest.h>

namespace kithara::hls::detail {
namespace {

using test::bytes;
using test::operator+;
namespace id3b = test::id3;

bytes without_tag(const bytes& file) {
    const auto n = id3_tag_size(file).value_or(0);
    return bytes(file.begin() + static_cast<std::ptrdiff_t>(n), file.end());
}

bytes leading_tag(const bytes& file) {
    const auto n = id3_tag_size(file).value_or(0);
    return bytes(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
}

// Offsets of the frames of a clean elementary stream (its own walk, by header lengths).
std::vector<std::size_t> frame_offsets(const bytes& es) {
    std::vector<std::size_t> at;
    std::size_t pos = 0;
    while (pos < es.size()) {
        const auto h = parse_audio_frame_header(std::span(es).subspan(pos));
        if (!h) break;
        at.push_back(pos);
        pos += h->length;
    }
    return at;
}

bytes priv_tag(std::uint64_t ts, std::size_t short_by = 0) {
    const auto b = kithara::test::id3_priv(ts, short_by);
    return bytes(reinterpret_cast<const std::uint8_t*>(b.data()),
                 reinterpret_cast<const std::uint8_t*>(b.data()) + b.size());
}

bytes title_tag(const std::string& title) {
    return id3b::tag(4, id3b::frame(4, "TIT2", id3b::text(3, title)));
}

struct scan_result {
    std::vector<scanned_tag> tags;
    std::uint64_t frames = 0, samples = 0, skipped = 0, resyncs = 0;
    double seconds = 0;
};

scan_result scan(const bytes& segment, std::size_t chunk = 0,
                 std::size_t limit = max_id3_tag_bytes) {
    packed_audio_scanner s(limit);
    scan_result r;
    if (chunk == 0) chunk = segment.size() + 1;
    for (std::size_t at = 0; at < segment.size(); at += chunk)
        s.feed(std::span(segment).subspan(at, std::min(chunk, segment.size() - at)), r.tags);
    s.finish(r.tags);
    EXPECT_EQ(s.bytes_seen(), segment.size());
    r.frames = s.frames();
    r.samples = s.samples();
    r.skipped = s.skipped_bytes();
    r.resyncs = s.resyncs();
    r.seconds = s.seconds();
    return r;
}

bytes adts_header(std::size_t length, unsigned rate_index = 4, unsigned blocks = 1) {
    return {0xFF,
            0xF1,
            static_cast<std::uint8_t>(0x40 | rate_index << 2),
            static_cast<std::uint8_t>(0x80 | (length >> 11)),
            static_cast<std::uint8_t>(length >> 3),
            static_cast<std::uint8_t>((length & 7) << 5 | 0x1F),
            static_cast<std::uint8_t>(0xFC | (blocks - 1))};
}

TEST(packed_scanner, frame_headers_give_real_lengths) {
    auto mp3 = parse_audio_frame_header(bytes{0xFF, 0xFB, 0x90, 0xC4});  // 128k 44.1 kHz
    ASSERT_TRUE(mp3);
    EXPECT_EQ(mp3->codec, audio_codec::mpeg_audio);
    EXPECT_EQ(mp3->length, 417u);
    EXPECT_EQ(mp3->samples, 1152u);
    EXPECT_EQ(mp3->sample_rate, 44100u);
    EXPECT_EQ(parse_audio_frame_header(bytes{0xFF, 0xFB, 0x92, 0xC4})->length, 418u);  // padding
    auto mpeg2 = parse_audio_frame_header(bytes{0xFF, 0xF3, 0x80, 0xC4});  // 64k 22.05 kHz
    ASSERT_TRUE(mpeg2);
    EXPECT_EQ(mpeg2->length, 208u);
    EXPECT_EQ(mpeg2->samples, 576u);
    EXPECT_EQ(mpeg2->sample_rate, 22050u);
    auto layer2 = parse_audio_frame_header(bytes{0xFF, 0xFD, 0xA4, 0x04});  // L2 192k 48 kHz
    ASSERT_TRUE(layer2);
    EXPECT_EQ(layer2->length, 576u);
    EXPECT_EQ(layer2->samples, 1152u);
    auto adts = parse_audio_frame_header(adts_header(371, 4, 2));
    ASSERT_TRUE(adts);
    EXPECT_EQ(adts->codec, audio_codec::adts);
    EXPECT_EQ(adts->length, 371u);
    EXPECT_EQ(adts->samples, 2048u);
    EXPECT_EQ(adts->sample_rate, 44100u);
    // AC-3 40 kbit/s at 44.1 kHz: 87 words, 88 with the odd frmsizecod; 192 kbit/s at 48 kHz.
    auto ac3 = parse_audio_frame_header(bytes{0x0B, 0x77, 0, 0, 0x43, 0x40});
    ASSERT_TRUE(ac3);
    EXPECT_EQ(ac3->codec, audio_codec::ac3);
    EXPECT_EQ(ac3->length, 176u);
    EXPECT_EQ(parse_audio_frame_header(bytes{0x0B, 0x77, 0, 0, 0x42, 0x40})->length, 174u);
    EXPECT_EQ(parse_audio_frame_header(bytes{0x0B, 0x77, 0, 0, 0x14, 0x40})->length, 768u);
    EXPECT_EQ(parse_audio_frame_header(bytes{0x0B, 0x77, 0, 0, 0x14, 0x40})->samples, 1536u);
    // E-AC-3: frmsiz 383 → 768 bytes, 6 blocks; a dependent substream adds no samples.
    auto eac3 = parse_audio_frame_header(bytes{0x0B, 0x77, 0x01, 0x7F, 0x30, 0x80});
    ASSERT_TRUE(eac3);
    EXPECT_EQ(eac3->codec, audio_codec::eac3);
    EXPECT_EQ(eac3->length, 768u);
    EXPECT_EQ(eac3->samples, 1536u);
    EXPECT_EQ(eac3->sample_rate, 48000u);
    EXPECT_EQ(parse_audio_frame_header(bytes{0x0B, 0x77, 0x41, 0x7F, 0x30, 0x80})->samples, 0u);
    EXPECT_EQ(parse_audio_frame_header(bytes{0x0B, 0x77, 0x00, 0x3F, 0x00, 0x80})->samples, 256u);
    // Reserved values are not frames.
    EXPECT_FALSE(parse_audio_frame_header(bytes{0xFF, 0xFB, 0xF0, 0xC4}));  // bitrate 15
    EXPECT_FALSE(parse_audio_frame_header(bytes{0xFF, 0xFB, 0x0C, 0xC4}));  // free format
    EXPECT_FALSE(parse_audio_frame_header(bytes{0xFF, 0xFB, 0x9C, 0xC4}));  // rate 3
    EXPECT_FALSE(parse_audio_frame_header(bytes{0xFF, 0xEB, 0x90, 0xC4}));  // version 01
    EXPECT_FALSE(parse_audio_frame_header(adts_header(371, 13)));           // rate 13
    EXPECT_FALSE(parse_audio_frame_header(adts_header(5)));                 // under the header
    EXPECT_FALSE(parse_audio_frame_header(bytes{0x0B, 0x77, 0, 0, 0xC0, 0x40}));  // fscod 3
    EXPECT_FALSE(parse_audio_frame_header(bytes{0x0B, 0x77, 0, 0, 0x26, 0x40}));  // frmsizecod 38
    EXPECT_FALSE(parse_audio_frame_header(bytes{0x0B, 0x77, 0, 0, 0x14, 0x88}));  // bsid 17
    EXPECT_FALSE(parse_audio_frame_header(bytes{0xFF, 0xFB, 0x90}));              // too short
}

struct stream_case {
    const char* file;
    std::uint32_t samples_per_frame;
    audio_codec codec;
    std::uint32_t rate;
};

TEST(packed_scanner, counts_every_frame_of_streams_ffmpeg_made) {
    for (const auto& c : {stream_case{"title_v24.mp3", 1152, audio_codec::mpeg_audio, 44100},
                          stream_case{"tone22.mp3", 576, audio_codec::mpeg_audio, 22050},
                          stream_case{"title.aac", 1024, audio_codec::adts, 44100},
                          stream_case{"tone.ac3", 1536, audio_codec::ac3, 48000},
                          stream_case{"tone.eac3", 1536, audio_codec::eac3, 48000}}) {
        SCOPED_TRACE(c.file);
        const auto file = test::read_fixture(c.file);
        const auto packets = test::fixture_packets(c.file);
        ASSERT_GT(packets, 10u);
        packed_audio_scanner s;
        std::vector<scanned_tag> tags;
        s.feed(file, tags);
        s.finish(tags);
        EXPECT_EQ(s.frames(), packets);
        EXPECT_EQ(s.samples(), packets * c.samples_per_frame);
        EXPECT_EQ(s.codec(), c.codec);
        EXPECT_EQ(s.sample_rate(), c.rate);
        EXPECT_EQ(s.skipped_bytes(), 0u);
        EXPECT_EQ(s.resyncs(), 0u);
        EXPECT_DOUBLE_EQ(s.seconds(), static_cast<double>(packets * c.samples_per_frame) / c.rate);
        const bool tagged = id3_tag_size(file).has_value();
        ASSERT_EQ(tags.size(), tagged ? 1u : 0u);
        if (tagged) {
            EXPECT_EQ(tags[0].offset, 0u);
            EXPECT_EQ(tags[0].frames_before, 0u);
            ASSERT_TRUE(tags[0].tag) << tags[0].tag.error().message();
        }
    }
}

TEST(packed_scanner, a_xing_info_frame_counts_no_samples) {
    const auto file = test::read_fixture("title_v23.mp3");
    const auto packets = test::fixture_packets("title_v23.mp3");  // ffprobe skips the Info frame
    packed_audio_scanner s;
    std::vector<scanned_tag> tags;
    s.feed(file, tags);
    s.finish(tags);
    EXPECT_TRUE(s.info_frame());
    EXPECT_EQ(s.frames(), packets + 1);
    EXPECT_EQ(s.samples(), packets * 1152);
}

// A packed ADTS segment: PRIV timestamp tag, k frames, a title tag, the rest, a last tag.
struct built_segment {
    bytes bytes_;
    std::size_t k = 0;
    std::size_t frames = 0;
    std::size_t mid_at = 0;
    std::size_t end_at = 0;
};

built_segment adts_segment(std::size_t k) {
    const auto es = without_tag(test::read_fixture("title.aac"));
    const auto offs = frame_offsets(es);
    built_segment b;
    b.k = k;
    b.frames = offs.size();
    const auto mid = leading_tag(test::read_fixture("title_v24.mp3"));
    b.bytes_ = priv_tag(900000);
    b.bytes_.insert(b.bytes_.end(), es.begin(), es.begin() + static_cast<std::ptrdiff_t>(offs[k]));
    b.mid_at = b.bytes_.size();
    b.bytes_ = b.bytes_ + mid;
    b.bytes_.insert(b.bytes_.end(), es.begin() + static_cast<std::ptrdiff_t>(offs[k]), es.end());
    b.end_at = b.bytes_.size();
    b.bytes_ = b.bytes_ + title_tag("Last");
    return b;
}

TEST(packed_scanner, finds_tags_after_the_first_frame_with_the_samples_before_them) {
    const auto seg = adts_segment(17);
    const auto r = scan(seg.bytes_);
    ASSERT_EQ(r.tags.size(), 3u);
    EXPECT_EQ(r.tags[0].offset, 0u);
    EXPECT_EQ(r.tags[0].frames_before, 0u);
    ASSERT_TRUE(r.tags[0].tag);
    EXPECT_EQ(transport_stream_timestamp(*r.tags[0].tag), 900000u);
    EXPECT_EQ(r.tags[1].offset, seg.mid_at);
    EXPECT_EQ(r.tags[1].frames_before, 17u);
    EXPECT_EQ(r.tags[1].samples_before, 17u * 1024);
    EXPECT_DOUBLE_EQ(r.tags[1].seconds_before, 17.0 * 1024 / 44100);
    EXPECT_EQ(r.tags[2].offset, seg.end_at);
    EXPECT_EQ(r.tags[2].frames_before, seg.frames);
    EXPECT_EQ(r.frames, seg.frames);
    EXPECT_EQ(r.skipped, 0u);

    // As timed metadata: the timestamp-only tag is timing, not metadata.
    auto tags = r.tags;
    std::vector<error> errors;
    const auto items = packed_metadata(tags, 10.0, &errors);
    EXPECT_TRUE(errors.empty());
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].title, "Kithara Song");
    EXPECT_EQ(items[0].artist, "The Testers");
    EXPECT_DOUBLE_EQ(items[0].time, 10.0 + 17.0 * 1024 / 44100);
    EXPECT_EQ(items[1].title, "Last");
    EXPECT_DOUBLE_EQ(items[1].time, 10.0 + static_cast<double>(seg.frames) * 1024 / 44100);
}

TEST(packed_scanner, chunking_does_not_change_the_answer) {
    const auto seg = adts_segment(5);
    const auto whole = scan(seg.bytes_);
    for (std::size_t chunk : {1u, 3u, 7u, 10u, 188u, 1000u, 4096u}) {
        SCOPED_TRACE(chunk);
        const auto r = scan(seg.bytes_, chunk);
        ASSERT_EQ(r.tags.size(), whole.tags.size());
        for (std::size_t i = 0; i < r.tags.size(); ++i) {
            EXPECT_EQ(r.tags[i].offset, whole.tags[i].offset);
            EXPECT_EQ(r.tags[i].frames_before, whole.tags[i].frames_before);
            EXPECT_EQ(r.tags[i].samples_before, whole.tags[i].samples_before);
            ASSERT_TRUE(r.tags[i].tag);
            EXPECT_EQ(r.tags[i].tag->frames, whole.tags[i].tag->frames);
        }
        EXPECT_EQ(r.frames, whole.frames);
        EXPECT_EQ(r.skipped, 0u);
    }
}

TEST(packed_scanner, resyncs_after_garbage_and_counts_it) {
    const auto es = without_tag(test::read_fixture("title.aac"));
    const auto offs = frame_offsets(es);
    // 37 bytes of garbage holding a false ADTS sync word (its "frame" is not followed by another).
    bytes junk(37, 0x55);
    junk[3] = 0xFF;
    junk[4] = 0xF1;
    bytes seg = priv_tag(0);
    seg.insert(seg.end(), es.begin(), es.begin() + static_cast<std::ptrdiff_t>(offs[9]));
    seg = seg + junk;
    seg.insert(seg.end(), es.begin() + static_cast<std::ptrdiff_t>(offs[9]),
               es.begin() + static_cast<std::ptrdiff_t>(offs[20]));
    const auto mid_at = seg.size();
    seg = seg + title_tag("after garbage");
    seg.insert(seg.end(), es.begin() + static_cast<std::ptrdiff_t>(offs[20]), es.end());
    for (std::size_t chunk : {0u, 1u, 64u}) {
        const auto r = scan(seg, chunk);
        EXPECT_EQ(r.frames, offs.size());
        EXPECT_EQ(r.skipped, 37u);
        EXPECT_EQ(r.resyncs, 1u);
        ASSERT_EQ(r.tags.size(), 2u);
        EXPECT_EQ(r.tags[1].offset, mid_at);
        EXPECT_EQ(r.tags[1].frames_before, 20u);
        EXPECT_EQ(r.tags[1].samples_before, 20u * 1024);
    }
}

TEST(packed_scanner, a_tag_declared_short_is_resynced_after) {
    const auto es = without_tag(test::read_fixture("title.aac"));
    bytes seg = priv_tag(1234, 3) + es;  // the header says 3 bytes fewer than the tag has
    for (std::size_t chunk : {0u, 1u, 50u}) {
        const auto r = scan(seg, chunk);
        ASSERT_EQ(r.tags.size(), 1u);
        ASSERT_TRUE(r.tags[0].tag) << r.tags[0].tag.error().message();
        EXPECT_EQ(transport_stream_timestamp(*r.tags[0].tag), 1234u);  // its last bytes read
        EXPECT_EQ(r.tags[0].size, seg.size() - es.size() - 3);
        EXPECT_EQ(r.frames, frame_offsets(es).size());
        EXPECT_EQ(r.skipped, 3u);
    }
}

TEST(packed_scanner, mp3_and_ac3_segments_with_a_tag_in_the_middle) {
    for (const char* name : {"title_v24.mp3", "tone.ac3", "tone.eac3", "tone22.mp3"}) {
        SCOPED_TRACE(name);
        const auto es = without_tag(test::read_fixture(name));
        const auto offs = frame_offsets(es);
        ASSERT_GT(offs.size(), 30u);
        const auto per = parse_audio_frame_header(es)->samples;
        bytes seg = priv_tag(5);
        seg.insert(seg.end(), es.begin(), es.begin() + static_cast<std::ptrdiff_t>(offs[30]));
        seg = seg + title_tag("mid");
        seg.insert(seg.end(), es.begin() + static_cast<std::ptrdiff_t>(offs[30]), es.end());
        const auto r = scan(seg, 333);
        ASSERT_EQ(r.tags.size(), 2u);
        EXPECT_EQ(r.tags[1].frames_before, 30u);
        EXPECT_EQ(r.tags[1].samples_before, 30u * per);
        EXPECT_EQ(r.frames, offs.size());
        EXPECT_EQ(r.skipped, 0u);
    }
}

TEST(packed_scanner, a_tag_over_the_limit_is_reported_and_skipped_unbuffered) {
    const auto es = without_tag(test::read_fixture("title.aac"));
    const auto big = id3b::tag(4, id3b::frame(4, "APIC", bytes(5000, 0x42)));
    const auto seg = priv_tag(0) + big + es;
    for (std::size_t chunk : {0u, 100u}) {
        const auto r = scan(seg, chunk, 1000);
        ASSERT_EQ(r.tags.size(), 2u);
        ASSERT_FALSE(r.tags[1].tag);
        EXPECT_NE(r.tags[1].tag.error().message().find("over the limit of 1000"),
                  std::string::npos);
        EXPECT_EQ(r.tags[1].size, big.size());
        EXPECT_EQ(r.frames, frame_offsets(es).size());
        EXPECT_EQ(r.skipped, 0u);
    }
}

TEST(packed_scanner, cut_short_tags_are_errors_and_cut_frames_are_not_counted) {
    const auto es = without_tag(test::read_fixture("title.aac"));
    const auto offs = frame_offsets(es);
    // The segment ends inside a tag, then inside a frame.
    const auto tag = title_tag("cut");
    const auto seg = priv_tag(0) +
                     bytes(es.begin(), es.begin() + static_cast<std::ptrdiff_t>(offs[4])) +
                     bytes(tag.begin(), tag.begin() + 15);
    auto r = scan(seg, 5);
    ASSERT_EQ(r.tags.size(), 2u);
    ASSERT_FALSE(r.tags[1].tag);
    EXPECT_NE(r.tags[1].tag.error().message().find("truncated"), std::string::npos);
    EXPECT_EQ(r.frames, 4u);
    const auto cut =
        priv_tag(0) + bytes(es.begin(), es.begin() + static_cast<std::ptrdiff_t>(offs[6] + 20));
    r = scan(cut, 0);
    EXPECT_EQ(r.frames, 6u);
    r = scan(cut, 7);
    EXPECT_EQ(r.frames, 6u);
}

TEST(packed_scanner, takes_std_byte_chunks_and_a_final_id3v1_tag) {
    const auto es = without_tag(test::read_fixture("title.aac"));
    bytes v1 = test::str("TAG") + bytes(125, 0x20);
    const auto seg = priv_tag(0) + es + v1;
    packed_audio_scanner s;
    std::vector<scanned_tag> tags;
    const auto* p = reinterpret_cast<const std::byte*>(seg.data());
    s.feed(std::span(p, 1000), tags);
    s.feed(std::span(p + 1000, seg.size() - 1000), tags);
    s.finish(tags);
    EXPECT_EQ(tags.size(), 1u);
    EXPECT_EQ(s.frames(), frame_offsets(es).size());
    EXPECT_EQ(s.skipped_bytes(), 0u);
    EXPECT_EQ(s.resyncs(), 0u);
}

TEST(packed_scanner, garbage_alone_is_skipped_without_frames) {
    bytes noise(20000);
    std::uint32_t x = 12345;
    for (auto& b : noise) {
        x = x * 1103515245 + 12345;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    const auto r = scan(noise, 1000);
    EXPECT_LT(r.frames, 5u);  // a chance frame pair may pass; most bytes are skipped
    EXPECT_GT(r.skipped, 15000u);
    const auto zeros = scan(bytes(5000, 0));
    EXPECT_EQ(zeros.frames, 0u);
    EXPECT_EQ(zeros.skipped, 5000u);
}

}  // namespace
}  // namespace kithara::hls::detail
