#include <kithara/decode/decoder.hpp>

#include "decode_support.hpp"

using namespace kithara;
using namespace kithara::decode;
using namespace kithara::decode::test;

namespace {

struct run {
    std::uint32_t rate;
    std::uint32_t channels;
    std::size_t frames;
    std::vector<float> first_channel;
};

// Decodes everything, grouping consecutive chunks by (rate, channels, format_changed).
std::vector<run> decode_runs(std::shared_ptr<stream::source> src, decoder_options o,
                             std::size_t* flagged = nullptr) {
    std::vector<run> runs;
    auto dec = decoder::open(std::move(src), o);
    EXPECT_TRUE(dec) << dec.error().message();
    if (!dec) return runs;
    std::size_t flags = 0;
    for (;;) {
        auto c = (*dec)->next();
        EXPECT_TRUE(c) << c.error().message();
        if (!c || !*c) break;
        const auto& ch = **c;
        if (ch.format_changed) ++flags;
        if (runs.empty() || ch.format_changed || runs.back().rate != ch.sample_rate ||
            runs.back().channels != ch.channels) {
            runs.push_back({ch.sample_rate, ch.channels, 0, {}});
        }
        runs.back().frames += ch.frames();
        for (std::size_t i = 0; i < ch.frames(); ++i) {
            runs.back().first_channel.push_back(ch.samples[i * ch.channels]);
        }
    }
    if (flagged != nullptr) *flagged = flags;
    return runs;
}

std::vector<std::byte> concat(const std::vector<std::byte>& a, const std::vector<std::byte>& b) {
    auto out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

std::vector<float> middle(const std::vector<float>& x) {
    return {x.begin() + static_cast<std::ptrdiff_t>(x.size() / 4),
            x.begin() + static_cast<std::ptrdiff_t>(x.size() * 3 / 4)};
}

}  // namespace

TEST(format_change, concatenated_adts_rates_switch_without_gap_or_duplicate) {
    const auto n44 = decode_all(source_of("part44.aac")).frames();
    const auto n48 = decode_all(source_of("part48.aac")).frames();
    std::size_t flagged = 0;
    auto runs =
        decode_runs(stream::memory_source::create(concat(load("part44.aac"), load("part48.aac"))),
                    options(), &flagged);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(flagged, 1u);
    EXPECT_EQ(runs[0].rate, 44100u);
    EXPECT_EQ(runs[0].channels, 2u);
    EXPECT_EQ(runs[1].rate, 48000u);
    EXPECT_EQ(runs[1].channels, 1u);
    EXPECT_EQ(runs[0].frames, n44);
    EXPECT_EQ(runs[1].frames, n48);
    EXPECT_NEAR(dominant_frequency(middle(runs[0].first_channel), 44100), 440.0, 10.0);
    EXPECT_NEAR(dominant_frequency(middle(runs[1].first_channel), 48000), 880.0, 10.0);
}

TEST(format_change, fixed_output_format_is_kept_across_the_switch) {
    const auto n44 = decode_all(source_of("part44.aac")).frames();
    const auto n48 = decode_all(source_of("part48.aac")).frames();
    std::size_t flagged = 0;
    auto runs =
        decode_runs(stream::memory_source::create(concat(load("part44.aac"), load("part48.aac"))),
                    options(48000, 2), &flagged);
    EXPECT_EQ(flagged, 1u);
    ASSERT_EQ(runs.size(), 2u);  // split by the flagged chunk, same format
    EXPECT_EQ(runs[0].rate, 48000u);
    EXPECT_EQ(runs[1].rate, 48000u);
    EXPECT_EQ(runs[1].channels, 2u);
    const double expect = static_cast<double>(n44) * 48000.0 / 44100.0 + static_cast<double>(n48);
    EXPECT_NEAR(static_cast<double>(runs[0].frames + runs[1].frames), expect, 8.0);
    EXPECT_NEAR(dominant_frequency(middle(runs[0].first_channel), 48000), 440.0, 10.0);
    EXPECT_NEAR(dominant_frequency(middle(runs[1].first_channel), 48000), 880.0, 10.0);
}

TEST(format_change, declared_boundary_switches_container_and_codec) {
    const auto a = load("part44.aac");
    const auto n44 = decode_all(source_of("part44.aac")).frames();
    auto src = stream::memory_source::create(concat(a, load("part48.flac")));
    stream::format_boundary b;
    b.offset = a.size();
    b.hints.container = "flac";
    ASSERT_TRUE(src->declare_boundary(b));
    std::size_t flagged = 0;
    auto runs = decode_runs(src, options(), &flagged);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(flagged, 1u);
    EXPECT_EQ(runs[0].frames, n44);
    EXPECT_EQ(runs[1].frames, 48000u);  // FLAC: exact
    EXPECT_EQ(runs[1].rate, 48000u);
    EXPECT_NEAR(dominant_frequency(middle(runs[1].first_channel), 48000), 880.0, 10.0);
}

TEST(format_change, declared_boundary_from_adts_to_mpegts_without_hints) {
    const auto a = load("part44.aac");
    const auto n44 = decode_all(source_of("part44.aac")).frames();
    const auto nts = decode_all(source_of("part48_mp3.ts")).frames();
    auto src = stream::memory_source::create(concat(a, load("part48_mp3.ts")));
    stream::format_boundary b;
    b.offset = a.size();
    ASSERT_TRUE(src->declare_boundary(b));
    auto runs = decode_runs(src, options());
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0].frames, n44);
    EXPECT_EQ(runs[1].frames, nts);
    EXPECT_NEAR(dominant_frequency(middle(runs[1].first_channel), 48000), 880.0, 10.0);
}

TEST(format_change, chunk_clock_continues_across_the_boundary) {
    const auto a = load("part44.aac");
    const auto n44 = decode_all(source_of("part44.aac")).frames();
    auto src = stream::memory_source::create(concat(a, load("part48.flac")));
    stream::format_boundary b;
    b.offset = a.size();
    ASSERT_TRUE(src->declare_boundary(b));
    auto dec = decoder::open(src, options()).value();
    for (;;) {
        auto c = dec->next().value();
        ASSERT_TRUE(c);
        if (c->format_changed) {
            EXPECT_EQ(c->start.count(), static_cast<std::int64_t>(n44) * 1'000'000'000 / 44100);
            break;
        }
    }
}

TEST(format_change, seek_past_a_declared_boundary_lands_in_the_second_container) {
    const auto a = load("part44.aac");
    const auto n44 = decode_all(source_of("part44.aac")).frames();
    auto src = stream::memory_source::create(concat(a, load("part48.flac")));
    stream::format_boundary b;
    b.offset = a.size();
    b.hints.container = "flac";
    ASSERT_TRUE(src->declare_boundary(b));
    const auto full = decode_runs(src, options());
    ASSERT_EQ(full.size(), 2u);
    auto dec = decoder::open(src, options()).value();
    // 0.25 s into the FLAC part.
    const std::int64_t first_ns = static_cast<std::int64_t>(n44) * 1'000'000'000 / 44100;
    const auto at = std::chrono::nanoseconds(first_ns + 250'000'000);
    ASSERT_TRUE(dec->seek(at));
    auto c = dec->next().value();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->sample_rate, 48000u);
    EXPECT_EQ(c->start, at);
    const std::size_t off =
        static_cast<std::size_t>((at.count() - first_ns) * 48000 / 1'000'000'000);
    for (std::size_t i = 0; i < c->frames(); ++i) {
        ASSERT_NEAR(c->samples[i * c->channels], full[1].first_channel[off + i], 1e-6f) << i;
    }
}
