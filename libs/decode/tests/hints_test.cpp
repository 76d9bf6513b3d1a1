// A container hint skips probing and, when the header names the codec, the stream analysis: the
// decoder must give exactly what a probed open gives, at open, to the end, and after seeks.
#include "support.hpp"

#include <kithara/decode/decoder.hpp>

#include <gtest/gtest.h>

#include <string>

namespace kithara::decode::test {
namespace {

struct hint_case {
    const char* file;
    const char* container;
    bool estimated_duration = false;  // raw ADTS: from the bitrate of however much was analysed
};

class hinted_open : public ::testing::TestWithParam<hint_case> {};

std::vector<float> after_seek(decoder& dec, std::chrono::milliseconds at, std::size_t frames) {
    EXPECT_TRUE(dec.seek(at));
    std::vector<float> out;
    while (out.size() < frames * dec.info().output_channels) {
        auto c = dec.next();
        EXPECT_TRUE(c) << c.error().message();
        if (!c || !*c) break;
        out.insert(out.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    out.resize(std::min(out.size(), frames * dec.info().output_channels));
    return out;
}

TEST_P(hinted_open, decodes_exactly_as_a_probed_open) {
    const auto& p = GetParam();
    stream::media_hints h;
    h.container = p.container;
    auto hinted = decoder::open(source_of(p.file, h), options()).value();
    auto probed = decoder::open(source_of(p.file), options()).value();
    EXPECT_EQ(hinted->info().container, probed->info().container);
    EXPECT_EQ(hinted->info().codec, probed->info().codec);
    EXPECT_EQ(hinted->info().source_rate, probed->info().source_rate);
    EXPECT_EQ(hinted->info().source_channels, probed->info().source_channels);
    EXPECT_EQ(hinted->info().output_rate, probed->info().output_rate);
    if (p.estimated_duration) {
        EXPECT_NEAR(static_cast<double>(hinted->info().duration.count()),
                    static_cast<double>(probed->info().duration.count()), 0.05e9);
    } else {
        EXPECT_EQ(hinted->info().duration, probed->info().duration);
    }
    const auto a = drain(*hinted);
    const auto b = drain(*probed);
    ASSERT_GT(b.frames(), 0u);
    EXPECT_EQ(a.frames(), b.frames());
    EXPECT_TRUE(a.pcm == b.pcm) << p.file << ": PCM differs";
    for (auto at : {std::chrono::milliseconds(1500), std::chrono::milliseconds(250),
                    std::chrono::milliseconds(0)}) {
        EXPECT_TRUE(after_seek(*hinted, at, 4096) == after_seek(*probed, at, 4096))
            << p.file << ": PCM after a seek to " << at.count() << " ms differs";
    }
}

TEST(hinted_open, reads_less_than_a_probed_open_before_the_first_chunk) {
    // The stream analysis reads ~10 KB of MP3 and ~100 KB of FLAC; the first decoded frame needs
    // only the header and one frame.
    stream::media_hints h;
    h.container = "mp3";
    auto src = source_of("chirp.mp3", h);
    auto o = options();
    o.start_chunk_frames = 1024;
    auto dec = decoder::open(src, o).value();
    ASSERT_TRUE(dec->next().value());
    EXPECT_LT(dec->stats().packets, 4u);
}

// Records will_need advice and how far reads had got when it came.
struct advised_source final : stream::source {
    std::shared_ptr<stream::source> in;
    std::vector<stream::byte_range> advised;
    std::uint64_t read_end = 0;        // furthest byte read so far
    std::uint64_t read_at_advice = 0;  // read_end when the first advice came
    std::optional<std::uint64_t> length() const override { return in->length(); }
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override {
        return in->wait_range(r, until, std::move(stop));
    }
    result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override {
        auto n = in->read_at(offset, out);
        if (n) read_end = std::max(read_end, offset + *n);
        return n;
    }
    void will_need(stream::byte_range r) override {
        if (advised.empty()) read_at_advice = read_end;
        advised.push_back(r);
    }
    stream::media_hints hints() const override { return in->hints(); }
};

TEST(hinted_open, ogg_advises_its_tail_read_before_reading_anything) {
    stream::media_hints h;
    h.container = "ogg";
    auto src = std::make_shared<advised_source>();
    src->in = source_of("chirp.opus", h);
    const auto len = *src->length();
    auto dec = decoder::open(src, options()).value();
    ASSERT_EQ(src->advised.size(), 1u);
    EXPECT_EQ(src->advised[0].end, len);
    EXPECT_EQ(src->advised[0].begin, len > 65307 ? len - 65307 : 0);
    EXPECT_EQ(src->read_at_advice, 0u);
    EXPECT_GT(dec->info().duration.count(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    fixtures, hinted_open,
    ::testing::Values(hint_case{"tone.wav", "wav"}, hint_case{"tone.flac", "flac"},
                      hint_case{"chirp.flac", "flac"}, hint_case{"tone.mp3", "mp3"},
                      hint_case{"chirp.mp3", "mp3"}, hint_case{"tone.ogg", "ogg"},
                      hint_case{"tone.opus", "ogg"}, hint_case{"chirp.opus", "ogg"},
                      hint_case{"tone_alac.m4a", "mov"}, hint_case{"tone.m4a", "mov"},
                      hint_case{"chirp.m4a", "mov"}, hint_case{"tone_faststart.m4a", "mov"},
                      hint_case{"tone_frag.mp4", "mov"}, hint_case{"tone.aac", "aac", true},
                      hint_case{"tone_aac.ts", "mpegts"}, hint_case{"tone_mp3.ts", "mpegts"},
                      hint_case{"tone.ac3", "ac3"}),
    [](const auto& i) {
        std::string n = i.param.file;
        for (auto& ch : n)
            if (ch == '.') ch = '_';
        return n;
    });

}  // namespace
}  // namespace kithara::decode::test
