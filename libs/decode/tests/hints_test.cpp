// A container hint skips probing and, when the header names the codec, the stream analysis: the
// decoder must give exactly what a probed open gives, at open, to the end, and after seeks.
#include "decode_support.hpp"

#include <kithara/decode/decoder.hpp>
#include <kithara/decode/error.hpp>
#include <kithara/stream/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>

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

// Records will_need advice and how far reads had got when it came.
struct advised_source final : stream::source {
    std::shared_ptr<stream::source> in;
    std::vector<stream::byte_range> advised;
    std::uint64_t read_end = 0;        // furthest byte read so far
    std::uint64_t read_total = 0;      // bytes read (a tag at the end counts only its size)
    std::uint64_t read_at_advice = 0;  // read_end when the first advice came
    std::optional<std::uint64_t> length() const override { return in->length(); }
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override {
        return in->wait_range(r, until, std::move(stop));
    }
    result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override {
        // At most 2 KiB per read, as bytes trickle in from a network: read_end then tells how
        // far the decoder had to read, not how much it asked for.
        auto n = in->read_at(offset, out.first(std::min<std::size_t>(out.size(), 2048)));
        if (n) {
            read_end = std::max(read_end, offset + *n);
            read_total += *n;
        }
        return n;
    }
    void will_need(stream::byte_range r) override {
        if (advised.empty()) read_at_advice = read_end;
        advised.push_back(r);
    }
    stream::media_hints hints() const override { return in->hints(); }
};

// A progressive download whose last 64 KiB have not arrived: reads there are "not available"
// (and waits time out at once, so a decoder that needed them would fail, not hang) until released.
struct tail_gated_source final : stream::source {
    std::shared_ptr<stream::source> in;
    std::uint64_t gate = 0;  // bytes at or past it are withheld until released
    std::atomic<bool> released{false};
    std::vector<stream::byte_range> advised;
    std::optional<std::uint64_t> length() const override { return in->length(); }
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override {
        if (!released && r.end > gate) return stream::wait_status::timed_out;
        return in->wait_range(r, until, std::move(stop));
    }
    result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override {
        if (!released && offset >= gate) return fail(stream::errc::not_available);
        if (!released) out = out.first(std::min<std::uint64_t>(out.size(), gate - offset));
        return in->read_at(offset, out);
    }
    void will_need(stream::byte_range r) override { advised.push_back(r); }
    stream::media_hints hints() const override { return in->hints(); }
};

// Opus and Vorbis start from the head: FFmpeg's Ogg demuxer would read the last 65307 bytes for
// the duration before the first sample. The decoder advises the tail after open, reports the
// duration as provisional, and settles it (equal to FFmpeg's) once the tail is there.
TEST(hinted_open, ogg_starts_from_the_head_and_learns_its_duration_from_the_tail) {
    for (const char* file : {"long.opus", "long.ogg"}) {
        const std::string path = std::string(KITHARA_SEGMENTS_DIR) + "/" + file;
        std::ifstream f(path, std::ios::binary);
        ASSERT_TRUE(f) << path;
        std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::vector<std::byte> bytes(c.size());
        std::memcpy(bytes.data(), c.data(), c.size());
        ASSERT_GT(bytes.size(), 2u * 65307) << file;
        stream::media_hints h;
        h.container = "ogg";
        const auto probed = decoder::open(stream::memory_source::create(bytes), options()).value();
        ASSERT_GT(probed->info().duration.count(), 0);

        auto src = std::make_shared<tail_gated_source>();
        src->in = stream::memory_source::create(bytes, h);
        const auto len = bytes.size();
        src->gate = len - 65307;
        auto dec = decoder::open(src, options());
        ASSERT_TRUE(dec) << file << ": " << dec.error().message();
        EXPECT_TRUE((*dec)->info().duration_provisional) << file;
        EXPECT_EQ((*dec)->info().duration.count(), -1) << file;
        ASSERT_EQ(src->advised.size(), 1u) << file;
        EXPECT_EQ(src->advised[0].begin, len - 65307);
        EXPECT_EQ(src->advised[0].end, len);
        for (int i = 0; i < 20; ++i) ASSERT_TRUE((*dec)->next().value()) << file;
        // Meanwhile: a rough estimate from the bytes and time decoded so far (Ogg packets carry
        // their page's position, so early on it runs high).
        EXPECT_TRUE((*dec)->info().duration_provisional);
        EXPECT_NEAR(static_cast<double>((*dec)->info().duration.count()),
                    static_cast<double>(probed->info().duration.count()),
                    0.5 * static_cast<double>(probed->info().duration.count()))
            << file;
        src->released = true;
        for (int i = 0; i < 16; ++i) ASSERT_TRUE((*dec)->next().value()) << file;
        EXPECT_FALSE((*dec)->info().duration_provisional) << file;
        EXPECT_EQ((*dec)->info().duration, probed->info().duration) << file;
        // The whole decode is the probed one's.
        const auto ref = drain(*probed);
        auto again = decoder::open(src, options()).value();  // tail present now: settled at open
        EXPECT_FALSE(again->info().duration_provisional);
        EXPECT_EQ(again->info().duration, probed->info().duration);
        const auto got = drain(*again);
        EXPECT_TRUE(got.pcm == ref.pcm) << file;
    }
}

// Bytes trickling in a little at a time (as from a network) give the same PCM as all at once.
TEST(hinted_open, trickling_bytes_decode_exactly_as_a_probed_open) {
    for (const char* file :
         {"chirp.flac", "modes.flac", "tone.flac", "chirp.mp3", "chirp.opus", "chirp.m4a"}) {
        stream::media_hints h;
        h.container = std::string(file).ends_with(".flac")  ? "flac"
                      : std::string(file).ends_with(".mp3") ? "mp3"
                      : std::string(file).ends_with(".m4a") ? "mov"
                                                            : "ogg";
        auto src = std::make_shared<advised_source>();
        src->in = source_of(file, h);
        auto trickled = decode_all(src);
        auto probed = decode_all(source_of(file));
        ASSERT_GT(probed.frames(), 0u) << file;
        EXPECT_EQ(trickled.frames(), probed.frames()) << file;
        EXPECT_TRUE(trickled.pcm == probed.pcm) << file << ": PCM differs";
    }
}

// Bytes read before the first chunk of `file`, the decoder reading at most 2 KiB at a time.
std::uint64_t bytes_before_first_chunk(const char* file, stream::media_hints h) {
    auto src = std::make_shared<advised_source>();
    src->in = source_of(file, std::move(h));
    auto o = options();
    o.start_chunk_frames = 1024;
    auto dec = decoder::open(src, o).value();
    EXPECT_TRUE(dec->next().value());
    return src->read_total;
}

// Skipping the stream analysis saves what it reads ahead: ~10 KB of MP3; for FLAC, whose FFmpeg
// parser holds the first frame back until it saw ten headers (~100 KB at CD quality), the
// decoder frames FLAC itself, so the first chunk needs the header and about one frame.
TEST(hinted_open, first_chunk_reads_a_fraction_of_the_probed_bytes) {
    for (auto [file, container] :
         {std::pair{"chirp.mp3", "mp3"}, std::pair{"chirp.flac", "flac"}}) {
        stream::media_hints h;
        h.container = container;
        const auto hinted = bytes_before_first_chunk(file, h);
        const auto probed = bytes_before_first_chunk(file, {});
        EXPECT_LT(hinted * 2, probed) << file << ": hinted " << hinted << ", probed " << probed;
    }
}

// MP3 and ADTS with a container hint open without their ID3v1/APE tail reads: FFmpeg reaches a
// tail that close by reading forward through the whole file, so the first chunk waited for it.
TEST(hinted_open, mp3_and_adts_first_chunk_does_not_read_to_the_end) {
    for (auto [file, container] : {std::pair{"chirp.mp3", "mp3"}, std::pair{"tone.aac", "aac"}}) {
        stream::media_hints h;
        h.container = container;
        auto src = std::make_shared<advised_source>();
        src->in = source_of(file, h);
        auto o = options();
        o.start_chunk_frames = 1024;
        auto dec = decoder::open(src, o).value();
        ASSERT_TRUE(dec->next().value()) << file;
        EXPECT_LT(src->read_end * 2, *src->length()) << file << ": read to " << src->read_end;
    }
}

TEST(hinted_open, flac_with_corrupt_frames_skips_them_and_goes_on) {
    auto bytes = load("tone.flac");
    for (std::size_t i = 30000; i < 60000; i += 97) bytes[i] ^= std::byte{0x5a};
    stream::media_hints h;
    h.container = "flac";
    auto dec = decoder::open(stream::memory_source::create(bytes, h), options()).value();
    auto d = drain(*dec);
    EXPECT_GT(dec->stats().packets_dropped, 0u);
    EXPECT_GT(d.frames(), 44100u);
    EXPECT_LT(d.frames(), 88200u);
    // Frames before the damage are intact.
    auto clean = decode_all(source_of("tone.flac", h));
    ASSERT_GT(clean.pcm.size(), 20000u);
    EXPECT_TRUE(std::equal(clean.pcm.begin(), clean.pcm.begin() + 20000, d.pcm.begin()));
}

TEST(hinted_open, flac_cut_mid_frame_ends_with_truncated) {
    auto bytes = load("tone.flac");
    bytes.resize(bytes.size() / 2 + 77);
    stream::media_hints h;
    h.container = "flac";
    auto dec = decoder::open(stream::memory_source::create(bytes, h), options()).value();
    for (;;) {
        auto c = dec->next();
        if (!c) {
            EXPECT_EQ(c.error(), decode::errc::truncated) << c.error().message();
            break;
        }
        ASSERT_TRUE(*c) << "clean end on truncated input";
    }
}

INSTANTIATE_TEST_SUITE_P(
    fixtures, hinted_open,
    ::testing::Values(hint_case{"tone.wav", "wav"}, hint_case{"tone.flac", "flac"},
                      hint_case{"chirp.flac", "flac"}, hint_case{"part48.flac", "flac"},
                      hint_case{"modes.flac", "flac"}, hint_case{"tone.mp3", "mp3"},
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
