#include <kithara/decode/decoder.hpp>
#include <kithara/decode/error.hpp>

#include "decode_support.hpp"

#include <cstring>

using namespace kithara;
using namespace kithara::decode;
using namespace kithara::decode::test;

namespace {

struct codec_case {
    const char* file;
    std::uint32_t rate;
    std::size_t frames;  // expected frame count
    std::size_t slack;   // 0: exact (gapless)
};

void PrintTo(const codec_case& c, std::ostream* os) {
    *os << c.file;
}

class every_codec : public ::testing::TestWithParam<codec_case> {};

}  // namespace

TEST_P(every_codec, decodes_tone_with_exact_length_frequency_and_level) {
    const auto& c = GetParam();
    auto d = decode_all(source_of(c.file));
    EXPECT_EQ(d.rate, c.rate);
    EXPECT_EQ(d.channels, 2u);
    if (c.slack == 0) {
        EXPECT_EQ(d.frames(), c.frames);
    } else {
        EXPECT_GE(d.frames(), c.frames);
        EXPECT_LE(d.frames(), c.frames + c.slack);
    }
    const auto mid = channel(d, 1, d.frames() / 4, d.frames() * 3 / 4);
    EXPECT_NEAR(dominant_frequency(mid, c.rate), 1000.0, 10.0);
    EXPECT_NEAR(rms(mid), 0.3536, 0.02);
}

INSTANTIATE_TEST_SUITE_P(
    fixtures, every_codec,
    ::testing::Values(
        codec_case{"tone.wav", 44100, 88200, 0}, codec_case{"tone.flac", 44100, 88200, 0},
        codec_case{"tone.mp3", 44100, 88200, 0}, codec_case{"tone.ogg", 44100, 88200, 0},
        codec_case{"tone.opus", 48000, 96000, 0}, codec_case{"tone_alac.m4a", 44100, 88200, 0},
        codec_case{"tone.m4a", 44100, 88200, 0}, codec_case{"tone_faststart.m4a", 44100, 88200, 0},
        codec_case{"tone_frag.mp4", 44100, 88200, 2048}, codec_case{"tone.aac", 44100, 88200, 2048},
        codec_case{"tone_aac.ts", 44100, 88200, 2048},
        codec_case{"tone_mp3.ts", 44100, 88200, 2304}, codec_case{"tone.ac3", 44100, 88200, 1536}),
    [](const auto& i) {
        std::string n = i.param.file;
        for (auto& ch : n) {
            if (ch == '.') ch = '_';
        }
        return n;
    });

TEST(decoder, flac_output_matches_ffmpeg_cli_bit_for_bit) {
    auto d = decode_all(source_of("tone.flac"));
    const auto ref_bytes = load("ref_tone_flac.f32");
    std::vector<float> ref(ref_bytes.size() / sizeof(float));
    std::memcpy(ref.data(), ref_bytes.data(), ref.size() * sizeof(float));
    ASSERT_EQ(d.pcm.size(), ref.size());
    EXPECT_EQ(d.pcm, ref);
}

// The encoder padding at the end is cut where the file declares the track's end (an edit list
// with a duration: tone.m4a gives exactly 88200 frames above). A fragmented MP4 whose edit list
// declares none (here: no edts at all; FFmpeg's hls muxer writes segment_duration 0) keeps every
// decoded sample, as FFmpeg and the players do, in both modes: 88 AAC frames of 1024, not the
// 89224 samples the fragments' sample durations add up to.
TEST(decoder, fragmented_mp4_without_an_edit_list_end_keeps_the_last_frame_whole) {
    for (bool sequential : {false, true}) {
        auto o = options();
        o.sequential = sequential;
        auto dec = decoder::open(source_of("tone_frag.mp4"), o);
        ASSERT_TRUE(dec) << dec.error().message();
        auto d = drain(**dec);
        EXPECT_EQ((*dec)->stats().codec_frames, 88u);
        EXPECT_EQ(d.frames(), 88u * 1024u) << "sequential " << sequential;
    }
    EXPECT_EQ(decode_all(source_of("tone.m4a")).frames(), 88200u);
}

TEST(decoder, resamples_to_the_requested_rate) {
    for (auto q : {resample_quality::best, resample_quality::medium, resample_quality::fastest,
                   resample_quality::linear}) {
        auto o = options(48000);
        o.quality = q;
        auto d = decode_all(source_of("tone.flac"), o);
        EXPECT_EQ(d.rate, 48000u);
        EXPECT_NEAR(static_cast<double>(d.frames()), 96000.0, 4.0);
        const auto mid = channel(d, 0, 20000, 76000);
        EXPECT_NEAR(dominant_frequency(mid, 48000), 1000.0, 10.0);
        EXPECT_NEAR(rms(mid), 0.3536, 0.01);
    }
}

TEST(decoder, converts_channel_count) {
    auto mono = decode_all(source_of("tone.flac"), options(0, 1));
    EXPECT_EQ(mono.channels, 1u);
    EXPECT_EQ(mono.frames(), 88200u);
    EXPECT_NEAR(dominant_frequency(channel(mono, 0, 20000, 60000), 44100), 1000.0, 10.0);
    auto six = decode_all(source_of("tone.flac"), options(0, 6));
    EXPECT_EQ(six.channels, 6u);
    EXPECT_EQ(six.frames(), 88200u);
}

TEST(decoder, container_hint_skips_probing_and_gives_the_same_pcm) {
    stream::media_hints h;
    h.container = "mp3";
    h.codec = "mp3";
    auto hinted = decode_all(source_of("tone.mp3", h));
    auto probed = decode_all(source_of("tone.mp3"));
    EXPECT_EQ(hinted.pcm, probed.pcm);
}

TEST(decoder, reports_stream_info) {
    auto dec = decoder::open(source_of("tone.m4a"), options(48000, 1)).value();
    EXPECT_EQ(dec->info().codec, "aac");
    EXPECT_NE(dec->info().container.find("mp4"), std::string::npos);
    EXPECT_EQ(dec->info().source_rate, 44100u);
    EXPECT_EQ(dec->info().source_channels, 2u);
    EXPECT_EQ(dec->info().output_rate, 48000u);
    EXPECT_EQ(dec->info().output_channels, 1u);
    EXPECT_EQ(dec->info().duration, std::chrono::seconds(2));
}

TEST(decoder, chunks_come_from_the_given_pool_and_return_to_it) {
    bufpool::sample_pool pool;
    auto o = options();
    o.pool = &pool;
    o.chunk_frames = 1024;
    auto dec = decoder::open(source_of("tone.flac"), o).value();
    {
        auto c = dec->next().value();
        ASSERT_TRUE(c);
        EXPECT_EQ(c->frames(), 1024u);
        EXPECT_EQ(pool.stats().live_blocks, 1u);
    }
    EXPECT_EQ(pool.stats().live_blocks, 0u);
}

TEST(decoder, corrupt_packets_are_skipped_and_counted) {
    auto bytes = load("tone.flac");
    for (std::size_t i = 30000; i < 60000; i += 97) bytes[i] ^= std::byte{0x5a};
    auto dec = decoder::open(stream::memory_source::create(bytes), options()).value();
    auto d = drain(*dec);
    EXPECT_GT(dec->stats().packets_dropped, 0u);
    EXPECT_GT(d.frames(), 44100u);
    EXPECT_LT(d.frames(), 88200u);
}

TEST(decoder, truncated_input_ends_with_an_error_naming_the_position) {
    auto bytes = load("tone_faststart.m4a");
    bytes.resize(bytes.size() / 2);
    auto dec = decoder::open(stream::memory_source::create(bytes), options()).value();
    std::size_t frames = 0;
    for (;;) {
        auto c = dec->next();
        if (!c) {
            EXPECT_EQ(c.error(), errc::truncated) << c.error().message();
            EXPECT_NE(c.error().message().find("byte"), std::string::npos);
            break;
        }
        ASSERT_TRUE(*c) << "clean end on truncated input";
        frames += (*c)->frames();
    }
    EXPECT_GT(frames, 20000u);
}

TEST(decoder, truncated_mp3_with_xing_header_is_reported) {
    auto bytes = load("tone.mp3");
    bytes.resize(bytes.size() / 3);
    auto dec = decoder::open(stream::memory_source::create(bytes), options()).value();
    for (;;) {
        auto c = dec->next();
        if (!c) {
            EXPECT_EQ(c.error(), errc::truncated) << c.error().message();
            break;
        }
        ASSERT_TRUE(*c) << "clean end on truncated input";
    }
}

TEST(decoder, moov_at_end_cut_off_fails_to_open_with_a_clear_error) {
    auto bytes = load("tone.m4a");
    bytes.resize(bytes.size() / 2);
    auto dec = decoder::open(stream::memory_source::create(bytes), options());
    ASSERT_FALSE(dec);
    EXPECT_EQ(dec.error(), errc::open_failed) << dec.error().message();
}

TEST(decoder, garbage_is_an_error_not_a_crash) {
    std::vector<std::byte> junk(50000);
    for (std::size_t i = 0; i < junk.size(); ++i) {
        junk[i] = static_cast<std::byte>((i * 2654435761u) >> 13);
    }
    auto dec = decoder::open(stream::memory_source::create(junk), options());
    if (dec) {
        for (int i = 0; i < 1000; ++i) {
            auto c = (*dec)->next();
            if (!c || !*c) break;
        }
    } else {
        EXPECT_FALSE(dec.error().message().empty());
    }
}

TEST(decoder, empty_input_fails_to_open) {
    auto dec = decoder::open(stream::memory_source::create({}), options());
    ASSERT_FALSE(dec);
}

TEST(decoder, fuzz_regression_huge_container_duration_does_not_overflow) {
    // The fuzzer's input: a mode byte, then the media bytes.
    auto bytes = [] {
        std::ifstream f(
            std::string(KITHARA_DECODE_TEST_DIR) + "/fuzz_regressions/duration_overflow.bin",
            std::ios::binary);
        std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::vector<std::byte> b(c.size());
        std::memcpy(b.data(), c.data(), c.size());
        return b;
    }();
    ASSERT_GT(bytes.size(), 1u);
    bytes.erase(bytes.begin());
    auto dec = decoder::open(stream::memory_source::create(bytes), options());
    if (dec) {
        for (int i = 0; i < 400; ++i) {
            auto c = (*dec)->next();
            if (!c || !*c) break;
        }
    }
}

namespace kithara::decode::test {
TEST(decoder, start_chunk_is_short_after_open_and_after_each_seek_and_pcm_is_unchanged) {
    auto o = options();
    o.chunk_frames = 4096;
    o.start_chunk_frames = 1024;
    auto dec = decoder::open(source_of("tone.flac"), o).value();
    auto first = dec->next().value();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->frames(), 1024u);
    auto second = dec->next().value();
    ASSERT_TRUE(second);
    EXPECT_EQ(second->frames(), 4096u);
    EXPECT_EQ(second->start, std::chrono::nanoseconds((1024LL * 1'000'000'000 + 22050) / 44100));
    ASSERT_TRUE(dec->seek(std::chrono::seconds(1)));
    auto after = dec->next().value();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->frames(), 1024u);
    EXPECT_EQ(after->start, std::chrono::seconds(1));

    auto reference = decode_all(source_of("tone.flac"));
    ASSERT_TRUE(dec->seek(std::chrono::seconds(0)));
    auto d = drain(*dec);
    EXPECT_EQ(d.frames(), reference.frames());
    EXPECT_TRUE(d.pcm == reference.pcm);
}
}  // namespace kithara::decode::test
