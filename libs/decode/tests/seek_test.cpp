#include <kithara/decode/decoder.hpp>
#include <kithara/decode/error.hpp>

#include "decode_support.hpp"

#include <random>

using namespace kithara;
using namespace kithara::decode;
using namespace kithara::decode::test;

namespace {

struct seek_case {
    const char* file;
    float tolerance;  // max |difference| to the straight decode; 0: bit-exact
};

void PrintTo(const seek_case& c, std::ostream* os) {
    *os << c.file;
}

class seek_accuracy : public ::testing::TestWithParam<seek_case> {};

// Reads `frames` frames after a seek into a flat vector; checks the chunk clock.
std::vector<float> read_after_seek(decoder& dec, std::chrono::nanoseconds at, std::size_t frames,
                                   std::uint32_t channels) {
    EXPECT_TRUE(dec.seek(at));
    std::vector<float> out;
    bool first = true;
    while (out.size() < frames * channels) {
        auto c = dec.next();
        EXPECT_TRUE(c) << c.error().message();
        if (!c || !*c) break;
        if (first) {
            EXPECT_EQ((*c)->start, at);
            EXPECT_EQ((*c)->epoch, dec.epoch());
            first = false;
        }
        out.insert(out.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    if (out.size() > frames * channels) out.resize(frames * channels);
    return out;
}

}  // namespace

TEST_P(seek_accuracy, first_pcm_after_a_seek_is_the_requested_position) {
    const auto& c = GetParam();
    auto src = source_of(c.file);
    const auto full = decode_all(src);
    ASSERT_GT(full.frames(), 0u);
    auto dec = decoder::open(src, options()).value();
    std::mt19937 rng(7);
    constexpr std::size_t probe = 4096;
    for (int i = 0; i < 24; ++i) {
        // Positions across the file in whole samples, plus the very start.
        const std::size_t frame = i == 0 ? 0 : rng() % (full.frames() - probe);
        const auto at =
            std::chrono::nanoseconds(static_cast<std::int64_t>(frame) * 1'000'000'000 / full.rate);
        // The decoder targets the nearest sample to the time: `frame` itself.
        const std::size_t target = frame;
        const auto got = read_after_seek(*dec, at, probe, full.channels);
        ASSERT_EQ(got.size(), probe * full.channels) << "at frame " << frame;
        float worst = 0;
        for (std::size_t k = 0; k < got.size(); ++k) {
            worst = std::max(worst, std::abs(got[k] - full.pcm[target * full.channels + k]));
        }
        if (c.tolerance == 0) {
            EXPECT_EQ(worst, 0.0f) << c.file << " seek to frame " << target;
        } else {
            EXPECT_LT(worst, c.tolerance) << c.file << " seek to frame " << target;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(fixtures, seek_accuracy,
                         ::testing::Values(seek_case{"chirp.wav", 0}, seek_case{"chirp.flac", 0},
                                           seek_case{"chirp.mp3", 0.02f},
                                           seek_case{"chirp.m4a", 0.02f},
                                           seek_case{"chirp.ogg", 0.02f},
                                           seek_case{"chirp.opus", 0.02f}),
                         [](const auto& i) {
                             std::string n = i.param.file;
                             for (auto& ch : n) {
                                 if (ch == '.') ch = '_';
                             }
                             return n;
                         });

TEST(seek, storm_of_seeks_while_decoding_never_delivers_stale_pcm) {
    auto src = source_of("chirp.flac");
    const auto full = decode_all(src);
    auto o = options();
    o.chunk_frames = 512;
    auto dec = decoder::open(src, o).value();
    std::mt19937 rng(11);
    for (int i = 0; i < 200; ++i) {
        const std::size_t frame = rng() % (full.frames() - 2048);
        const auto at =
            std::chrono::nanoseconds(static_cast<std::int64_t>(frame) * 1'000'000'000 / full.rate);
        const std::size_t target = frame;
        ASSERT_TRUE(dec->seek(at));
        const int reads = static_cast<int>(rng() % 3);  // sometimes seek again at once
        std::size_t pos = target;
        for (int r = 0; r < reads; ++r) {
            auto c = dec->next().value();
            ASSERT_TRUE(c);
            ASSERT_EQ(c->epoch, dec->epoch());
            for (std::size_t k = 0; k < c->samples.size(); ++k) {
                ASSERT_EQ(c->samples[k], full.pcm[pos * full.channels + k]) << "seek " << i;
            }
            pos += c->frames();
        }
    }
}

TEST(seek, past_the_end_yields_the_end) {
    auto dec = decoder::open(source_of("chirp.flac"), options()).value();
    ASSERT_TRUE(dec->seek(std::chrono::seconds(10)));
    auto c = dec->next();
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_FALSE(*c);
}

TEST(seek, back_to_zero_replays_the_gapless_start) {
    auto src = source_of("tone.mp3");
    const auto full = decode_all(src);
    auto dec = decoder::open(src, options()).value();
    ASSERT_TRUE(dec->next());
    ASSERT_TRUE(dec->seek(std::chrono::nanoseconds(0)));
    auto d = drain(*dec);
    EXPECT_EQ(d.frames(), 88200u);
    EXPECT_EQ(d.pcm, full.pcm);
}

TEST(seek, negative_position_is_rejected) {
    auto dec = decoder::open(source_of("chirp.flac"), options()).value();
    auto r = dec->seek(std::chrono::nanoseconds(-1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::invalid_argument);
}
