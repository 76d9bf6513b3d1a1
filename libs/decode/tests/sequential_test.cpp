// Sequential mode (no tail reads, forward-only input), start-time offsets, and decoding a
// sequence of segments through a stream::concat_source, over real HLS segments made by the ffmpeg
// CLI's hls muxer (make_segments.sh).
#include <kithara/decode/decoder.hpp>
#include <kithara/decode/error.hpp>
#include <kithara/stream/concat_source.hpp>

#include "decode_support.hpp"
#include "packed_audio_builders.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace kithara;
using namespace kithara::decode;
using namespace kithara::decode::test;

namespace {

std::vector<std::byte> load_path(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    EXPECT_TRUE(f) << "missing fixture " << path;
    std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> b(c.size());
    std::memcpy(b.data(), c.data(), c.size());
    return b;
}

stream::media_hints hint(const char* container) {
    stream::media_hints h;
    h.container = container;
    return h;
}

std::string segments(const std::string& rel) {
    return std::string(KITHARA_SEGMENTS_DIR) + "/" + rel;
}

// The media segments of one rendition, in order: <dir>/<prefix>0.<ext>, 1, ...
std::vector<std::vector<std::byte>> media_segments(const std::string& dir,
                                                   const std::string& prefix,
                                                   const std::string& ext) {
    std::vector<std::vector<std::byte>> out;
    for (int i = 0;; ++i) {
        const auto p = segments(dir + "/" + prefix + std::to_string(i) + "." + ext);
        if (!std::filesystem::exists(p)) break;
        out.push_back(load_path(p));
    }
    EXPECT_GE(out.size(), 4u) << dir;
    return out;
}

std::vector<std::byte> join(const std::vector<std::vector<std::byte>>& parts) {
    std::vector<std::byte> all;
    for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
    return all;
}

// A memory source that records every read and hands out at most `max_read` bytes per read_at,
// as a network source would while bytes trickle in.
class counting_source final : public stream::declaring_source {
public:
    counting_source(std::vector<std::byte> bytes, stream::media_hints h, std::size_t max_read)
        : declaring_source(std::move(h)), bytes_(std::move(bytes)), max_read_(max_read) {}

    std::optional<std::uint64_t> length() const override { return bytes_.size(); }
    result<stream::wait_status> wait_range(stream::byte_range r, std::optional<stream::deadline>,
                                           std::stop_token) override {
        if (!r.empty() && r.begin >= bytes_.size()) return stream::wait_status::eof;
        return stream::wait_status::ready;
    }
    result<std::size_t> read_at(std::uint64_t off, std::span<std::byte> out) override {
        std::lock_guard lock(mutex_);
        if (off < end_) backward_ = true;
        if (off > end_) skipped_forward_ += off - end_;
        if (off >= bytes_.size()) return std::size_t{0};
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>({out.size(), max_read_, bytes_.size() - off}));
        std::memcpy(out.data(), bytes_.data() + off, n);
        end_ = off + n;
        high_ = std::max(high_, end_);
        return n;
    }
    void will_need(stream::byte_range r) override {
        std::lock_guard lock(mutex_);
        advised_ = advised_ || !r.empty();
    }

    std::uint64_t high_water() const {
        std::lock_guard lock(mutex_);
        return high_;
    }
    bool read_backward() const {
        std::lock_guard lock(mutex_);
        return backward_;
    }
    std::uint64_t skipped_forward() const {
        std::lock_guard lock(mutex_);
        return skipped_forward_;
    }
    std::size_t size() const { return bytes_.size(); }

private:
    std::vector<std::byte> bytes_;
    std::size_t max_read_;
    mutable std::mutex mutex_;  // guards the counters below
    std::uint64_t end_ = 0;
    std::uint64_t high_ = 0;
    std::uint64_t skipped_forward_ = 0;
    bool backward_ = false;
    bool advised_ = false;
};

decoder_options sequential_options() {
    auto o = options();
    o.sequential = true;
    o.start_chunk_frames = 1024;
    return o;
}

void expect_same_pcm(const decoded& a, const decoded& b, const std::string& what) {
    ASSERT_EQ(a.rate, b.rate) << what;
    ASSERT_EQ(a.channels, b.channels) << what;
    ASSERT_EQ(a.frames(), b.frames()) << what;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < a.pcm.size(); ++i) differ += a.pcm[i] != b.pcm[i] ? 1 : 0;
    EXPECT_EQ(differ, 0u) << what << ": samples differing from the reference";
}

struct fragment_case {
    const char* name;
    const char* container;
    std::vector<std::byte> (*bytes)();
};

std::vector<std::byte> fmp4_fragment() {  // init + the third media fragment
    auto init = load_path(segments("fmp4/init.mp4"));
    auto frag = load_path(segments("fmp4/f2.m4s"));
    init.insert(init.end(), frag.begin(), frag.end());
    return init;
}
std::vector<std::byte> fmp4_rendition() {  // init + every fragment, as one file
    auto all = load_path(segments("fmp4/init.mp4"));
    for (int i = 0;; ++i) {
        const auto p = segments("fmp4/f" + std::to_string(i) + ".m4s");
        if (!std::filesystem::exists(p)) break;
        auto f = load_path(p);
        all.insert(all.end(), f.begin(), f.end());
    }
    return all;
}
std::vector<std::byte> ts_aac_segment() {
    return load_path(segments("ts_aac/s1.ts"));
}
std::vector<std::byte> ts_mp3_segment() {
    return load_path(segments("ts_mp3/s1.ts"));
}
std::vector<std::byte> adts_with_id3() {
    return kithara::test::packed_segment(0x1'2345'6789ULL, load("tone.aac"));
}
std::vector<std::byte> mp3_with_id3() {
    return kithara::test::packed_segment(900000, load("tone.mp3"));
}

class sequential_fragment : public ::testing::TestWithParam<fragment_case> {};

}  // namespace

// The source sees reads that only move forward, from the head: no tail probe (mov atom walk,
// mfra, TS duration from the last PTS, ID3v1/APE), and the first PCM comes after a few KB.
TEST_P(sequential_fragment, reads_only_forward_and_starts_after_a_few_kilobytes) {
    const auto& c = GetParam();
    const auto bytes = c.bytes();
    auto src = std::make_shared<counting_source>(bytes, hint(c.container), 2048);
    auto dec = decoder::open(src, sequential_options());
    ASSERT_TRUE(dec) << dec.error().message();
    EXPECT_FALSE((*dec)->info().seekable);
    EXPECT_EQ((*dec)->info().duration.count(), -1);
    auto first = (*dec)->next();
    ASSERT_TRUE(first && *first) << c.name;
    const auto at_first_pcm = src->high_water();
    // The bytes of the first 1024 frames (~3 KB at 128 kbit/s) plus headers, one 2 KiB read of
    // look-ahead and, for TS, the PES holding the first frames.
    EXPECT_LE(at_first_pcm, 12u * 1024) << c.name << " of " << bytes.size() << " bytes";
    decoded rest;
    std::vector<std::pair<std::size_t, std::uint64_t>> read_by;  // (frames decoded, bytes read)
    for (;;) {
        auto ch = (*dec)->next();
        ASSERT_TRUE(ch) << ch.error().message();
        if (!*ch) break;
        rest.pcm.insert(rest.pcm.end(), (*ch)->samples.begin(), (*ch)->samples.end());
        read_by.emplace_back((*first)->frames() + rest.pcm.size() / (*ch)->channels,
                             src->high_water());
    }
    // Never far ahead of the decoded frames: at every chunk, the bytes read stay within the
    // share of the input those frames make up plus a bounded look-ahead (headers, one read, a
    // PES or fragment header).
    const std::size_t total = read_by.empty() ? 1 : read_by.back().first;
    for (const auto& [frames, read] : read_by) {
        const auto share =
            static_cast<std::uint64_t>(static_cast<double>(bytes.size()) *
                                       static_cast<double>(frames) / static_cast<double>(total));
        EXPECT_LE(read, share + 12u * 1024) << c.name << " after " << frames << " frames";
    }
    EXPECT_FALSE(src->read_backward()) << c.name;
    EXPECT_EQ(src->skipped_forward(), 0u) << c.name;
    EXPECT_EQ(src->high_water(), bytes.size()) << c.name;
    std::printf("%s: first PCM after %llu of %zu bytes\n", c.name,
                static_cast<unsigned long long>(at_first_pcm), bytes.size());

    decoded seq;
    seq.rate = (*first)->sample_rate;
    seq.channels = (*first)->channels;
    seq.pcm.assign((*first)->samples.begin(), (*first)->samples.end());
    seq.pcm.insert(seq.pcm.end(), rest.pcm.begin(), rest.pcm.end());
    // The normal (probed, seekable) decode of the same bytes. A lone fMP4 fragment ends before
    // the duration its sidx announces, which the normal path reports as truncated at the end.
    auto ref_dec = decoder::open(stream::memory_source::create(bytes), options()).value();
    decoded ref;
    for (;;) {
        auto ch = ref_dec->next();
        if (!ch) {
            EXPECT_EQ(std::string(c.name), "fmp4") << ch.error().message();
            EXPECT_EQ(ch.error().code(), errc::truncated);
            break;
        }
        if (!*ch) break;
        ref.rate = (*ch)->sample_rate;
        ref.channels = (*ch)->channels;
        ref.pcm.insert(ref.pcm.end(), (*ch)->samples.begin(), (*ch)->samples.end());
    }
    expect_same_pcm(seq, ref, c.name);
}

INSTANTIATE_TEST_SUITE_P(formats, sequential_fragment,
                         ::testing::Values(fragment_case{"fmp4", "mov", fmp4_fragment},
                                           fragment_case{"ts_aac", "mpegts", ts_aac_segment},
                                           fragment_case{"ts_mp3", "mpegts", ts_mp3_segment},
                                           fragment_case{"adts_id3", "aac", adts_with_id3},
                                           fragment_case{"mp3_id3", "mp3", mp3_with_id3}),
                         [](const auto& i) { return std::string(i.param.name); });

TEST(sequential, without_hints_probes_from_the_head_only) {
    const auto bytes = ts_aac_segment();
    auto src = std::make_shared<counting_source>(bytes, stream::media_hints{}, 2048);
    auto dec = decoder::open(src, sequential_options());
    ASSERT_TRUE(dec) << dec.error().message();
    auto d = drain(**dec);
    EXPECT_FALSE(src->read_backward());
    expect_same_pcm(d, decode_all(stream::memory_source::create(bytes)), "ts_aac unhinted");
}

TEST(sequential, ogg_is_not_asked_for_its_tail) {
    // In sequential mode the decoder does not advise the Ogg duration page either.
    auto src = std::make_shared<counting_source>(load("tone.opus"), hint("ogg"), 2048);
    auto dec = decoder::open(src, sequential_options());
    ASSERT_TRUE(dec) << dec.error().message();
    auto d = drain(**dec);
    EXPECT_FALSE(src->read_backward());
    EXPECT_EQ((*dec)->info().duration.count(), -1);
    expect_same_pcm(d, decode_all(source_of("tone.opus")), "opus");
}

// ---- start offset --------------------------------------------------------------------------

TEST(start_offset, chunk_times_are_the_offset_plus_samples_decoded) {
    auto o = sequential_options();
    o.chunk_frames = 1000;  // not a divisor of anything in sight: exposes rounding drift
    o.start_offset = std::chrono::nanoseconds(3'600'000'000'123LL);
    auto dec = decoder::open(
        stream::memory_source::create(join(media_segments("ts_aac", "s", "ts")), hint("mpegts")),
        o);
    ASSERT_TRUE(dec) << dec.error().message();
    std::uint64_t frames = 0;
    std::size_t chunks = 0;
    for (;;) {
        auto c = (*dec)->next();
        ASSERT_TRUE(c) << c.error().message();
        if (!*c) break;
        const auto rate = (*c)->sample_rate;
        // Exact: offset + round(frames * 1e9 / rate), never a sum of rounded chunk durations.
        const auto expect =
            o.start_offset.count() +
            static_cast<std::int64_t>((frames * 1'000'000'000ULL + rate / 2) / rate);
        ASSERT_EQ((*c)->start.count(), expect) << "chunk " << chunks;
        frames += (*c)->frames();
        ++chunks;
    }
    EXPECT_GT(chunks, 100u);
}

TEST(start_offset, seek_lands_at_offset_plus_position) {
    auto o = options();
    o.start_offset = std::chrono::seconds(10);
    auto dec = decoder::open(source_of("chirp.flac", hint("flac")), o).value();
    ASSERT_TRUE(dec->seek(std::chrono::milliseconds(1500)));
    auto c = dec->next();
    ASSERT_TRUE(c && *c);
    EXPECT_EQ((*c)->start, std::chrono::milliseconds(11500));
}

// ---- sequences of segments -----------------------------------------------------------------

namespace {

struct concat_case {
    const char* name;
    const char* dir;
    const char* prefix;
    const char* ext;
    const char* container;
    bool init;  // fMP4: an init segment precedes the fragments
};

class concatenated : public ::testing::TestWithParam<concat_case> {};

}  // namespace

// The segments fed one after another (the init once, no copies) decode to exactly the samples
// of decoding the whole rendition as one file.
TEST_P(concatenated, segments_decode_to_the_whole_files_pcm) {
    const auto& c = GetParam();
    auto segs = media_segments(c.dir, c.prefix, c.ext);
    std::vector<std::vector<std::byte>> whole_parts;
    auto cat = stream::concat_source::create(hint(c.container));
    if (c.init) {
        auto init = load_path(segments(std::string(c.dir) + "/init.mp4"));
        whole_parts.push_back(init);
        ASSERT_TRUE(cat->append(stream::memory_source::create(std::move(init))));
    }
    for (auto& s : segs) {
        whole_parts.push_back(s);
        ASSERT_TRUE(cat->append(stream::memory_source::create(s)));
    }
    cat->finish();
    ASSERT_EQ(cat->length(), join(whole_parts).size());
    const auto whole = decode_all(stream::memory_source::create(join(whole_parts)));
    ASSERT_GT(whole.frames(), 44100u * 3);
    expect_same_pcm(decode_all(cat, sequential_options()), whole, c.name);
}

// Segments appended by another thread while the decoder waits for them (as HLS hands them over).
TEST_P(concatenated, segments_arriving_while_decoding_give_the_same_pcm) {
    const auto& c = GetParam();
    auto segs = media_segments(c.dir, c.prefix, c.ext);
    std::vector<std::vector<std::byte>> whole_parts;
    auto cat = stream::concat_source::create(hint(c.container));
    std::vector<std::shared_ptr<stream::source>> later;
    if (c.init) {
        auto init = load_path(segments(std::string(c.dir) + "/init.mp4"));
        whole_parts.push_back(init);
        ASSERT_TRUE(cat->append(stream::memory_source::create(std::move(init))));
    }
    for (std::size_t i = 0; i < segs.size(); ++i) {
        whole_parts.push_back(segs[i]);
        auto s = stream::memory_source::create(segs[i]);
        if (i == 0) {
            ASSERT_TRUE(cat->append(s));
        } else {
            later.push_back(s);
        }
    }
    auto dec = decoder::open(cat, sequential_options());
    ASSERT_TRUE(dec) << dec.error().message();
    std::jthread feeder([&] {
        for (auto& s : later) ASSERT_TRUE(cat->append(s));
        cat->finish();
    });
    auto d = drain(**dec);
    feeder.join();
    expect_same_pcm(d, decode_all(stream::memory_source::create(join(whole_parts))), c.name);
}

INSTANTIATE_TEST_SUITE_P(
    renditions, concatenated,
    ::testing::Values(concat_case{"fmp4", "fmp4", "f", "m4s", "mov", true},
                      concat_case{"ts_aac", "ts_aac", "s", "ts", "mpegts", false},
                      concat_case{"ts_mp3", "ts_mp3", "s", "ts", "mpegts", false}),
    [](const auto& i) { return std::string(i.param.name); });

// A discontinuity: the same init (the same source object, not a copy) re-appended with a
// boundary starts a new demuxer; the output keeps its format, converter and continuous clock.
TEST(concatenated_discontinuity, new_demuxer_at_the_boundary_keeps_the_timeline) {
    auto init = stream::memory_source::create(load_path(segments("fmp4/init.mp4")));
    auto f0 = stream::memory_source::create(load_path(segments("fmp4/f0.m4s")));
    auto f1 = stream::memory_source::create(load_path(segments("fmp4/f1.m4s")));
    auto one = stream::concat_source::create(hint("mov"));
    ASSERT_TRUE(one->append(init) && one->append(f0) && one->append(f1));
    one->finish();
    const auto part = decode_all(one, sequential_options());
    ASSERT_GT(part.frames(), 44100u);

    auto two = stream::concat_source::create(hint("mov"));
    ASSERT_TRUE(two->append(init) && two->append(f0) && two->append(f1));
    ASSERT_TRUE(two->append(init, std::nullopt, hint("mov")));
    ASSERT_TRUE(two->append(f0) && two->append(f1));
    two->finish();
    auto o = sequential_options();
    o.start_offset = std::chrono::seconds(5);
    auto dec = decoder::open(two, o).value();
    decoded d;
    std::int64_t next_start = o.start_offset.count();
    std::uint64_t frames = 0;
    for (;;) {
        auto c = dec->next();
        ASSERT_TRUE(c) << c.error().message();
        if (!*c) break;
        EXPECT_FALSE((*c)->format_changed);
        EXPECT_EQ((*c)->start.count(), next_start);
        frames += (*c)->frames();
        next_start = o.start_offset.count() +
                     static_cast<std::int64_t>((frames * 1'000'000'000ULL + 22050) / 44100);
        d.rate = (*c)->sample_rate;
        d.channels = (*c)->channels;
        d.pcm.insert(d.pcm.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    ASSERT_EQ(d.frames(), 2 * part.frames());
    decoded second;
    second.rate = d.rate;
    second.channels = d.channels;
    second.pcm.assign(d.pcm.begin() + static_cast<std::ptrdiff_t>(part.pcm.size()), d.pcm.end());
    expect_same_pcm(second, part, "after the discontinuity");
}

// The control: the same inputs opened normally (seekable) read their tails before the first PCM,
// which is what the sequential mode removes (so the checks above fail for the right reason).
// (MP3 no longer does: a hinted MP3 open skips its ID3v1/APE tail read in every mode.)
TEST(sequential_control, a_seekable_open_reads_the_tail) {
    for (const auto& c : {fragment_case{"fmp4_rendition", "mov", fmp4_rendition},
                          fragment_case{"ts_aac", "mpegts", ts_aac_segment}}) {
        const auto bytes = c.bytes();
        auto src = std::make_shared<counting_source>(bytes, hint(c.container), 2048);
        auto o = options();
        o.start_chunk_frames = 1024;
        auto dec = decoder::open(src, o);
        ASSERT_TRUE(dec) << dec.error().message();
        ASSERT_TRUE((*dec)->next());
        // FFmpeg reaches a tail this close by reading forward through the whole input (a seek
        // within its buffer plus short-seek threshold), so the first PCM waits for every byte.
        EXPECT_EQ(src->high_water(), bytes.size()) << c.name;
    }
}

namespace {

// Signal-to-error ratio of `got` against `want` over `frames` frames from the given starts.
double snr_db(const decoded& got, std::size_t got_at, const decoded& want, std::size_t want_at,
              std::size_t frames) {
    double sig = 0, err = 0;
    const std::size_t ch = want.channels;
    for (std::size_t i = 0; i < frames * ch; ++i) {
        const double w = want.pcm[want_at * ch + i];
        const double d = got.pcm[got_at * ch + i] - w;
        sig += w * w;
        err += d * d;
    }
    return err == 0 ? 200.0 : 10.0 * std::log10(sig / err);
}

}  // namespace

// A TS segment decoded alone starts the AAC decoder cold: its first frame lacks the overlap of
// the frame before it (the first 1024 samples differ from the continuous decode). Given the end
// of the previous segment as pre-roll, the decoder is primed: its output starts exactly at the
// segment's first sample, and matches the continuous decode from there.
TEST(sequential_preroll, the_previous_segments_tail_primes_the_first_frame) {
    const auto segs = media_segments("ts_aac", "s", "ts");
    ASSERT_GE(segs.size(), 4u);
    const auto whole = decode_all(stream::memory_source::create(join(segs)));
    const auto start = decode_all(stream::memory_source::create(join({segs[0], segs[1]})));
    const std::size_t at = start.frames();  // segment 2's first sample in the whole decode
    const std::vector<std::vector<std::byte>> rest(segs.begin() + 2, segs.end());

    auto cold = decode_all(stream::memory_source::create(join(rest)), sequential_options());
    ASSERT_EQ(cold.frames(), whole.frames() - at);
    EXPECT_LT(snr_db(cold, 0, whole, at, 1024), 20.0) << "the cold start is not what is fixed";
    EXPECT_GT(snr_db(cold, 2048, whole, at + 2048, 4096), 80.0);

    // The whole previous segment, and its last 32 TS packets (6016 bytes: one PES start or more).
    for (std::size_t tail : {segs[1].size(), std::size_t{32 * 188}}) {
        std::vector<std::byte> pre(segs[1].end() - static_cast<std::ptrdiff_t>(tail),
                                   segs[1].end());
        auto bytes = join({pre, join(rest)});
        auto o = sequential_options();
        o.preroll_bytes = pre.size();
        o.start_offset = std::chrono::seconds(4);
        auto dec = decoder::open(stream::memory_source::create(bytes, hint("mpegts")), o);
        ASSERT_TRUE(dec) << dec.error().message();
        auto first = (*dec)->next();
        ASSERT_TRUE(first && *first);
        EXPECT_EQ((*first)->start, std::chrono::seconds(4)) << tail;
        decoded got;
        got.channels = (*first)->channels;
        got.pcm.assign((*first)->samples.begin(), (*first)->samples.end());
        auto more = drain(**dec);
        got.pcm.insert(got.pcm.end(), more.pcm.begin(), more.pcm.end());
        ASSERT_EQ(got.frames(), whole.frames() - at) << tail;
        EXPECT_GT(snr_db(got, 0, whole, at, 1024), 80.0) << tail;
        std::printf("pre-roll %zu bytes: first 1024 samples %.1f dB (cold start %.1f dB)\n", tail,
                    snr_db(got, 0, whole, at, 1024), snr_db(cold, 0, whole, at, 1024));
        EXPECT_GT(snr_db(got, 0, whole, at, 8192), 80.0) << tail;

        // A seek stays relative to the real start: back to its first sample, and into it.
        for (double t : {0.0, 0.5}) {
            ASSERT_TRUE((*dec)->seek(std::chrono::nanoseconds(std::llround(t * 1e9))));
            auto c = (*dec)->next();
            ASSERT_TRUE(c && *c);
            const auto off = static_cast<std::size_t>(std::llround(t * whole.rate));
            decoded s;
            s.channels = (*c)->channels;
            s.pcm.assign((*c)->samples.begin(), (*c)->samples.end());
            ASSERT_GE(s.frames(), 1024u);
            EXPECT_GT(snr_db(s, 0, whole, at + off, 1024), 80.0) << tail << " seek " << t;
        }
    }
}

// The other side of the rule (docs/DECODE.md, "Gapless"): the hls muxer's init declares no end
// (elst segment_duration 0), so the rendition keeps its last AAC frame whole; the same init with
// an edit duration declares one, and the padding after the last sample's duration is cut, in
// both modes.
TEST(sequential_fmp4, the_end_padding_is_cut_only_when_the_edit_list_declares_an_end) {
    auto bytes = fmp4_rendition();
    const std::array<std::byte, 4> elst{std::byte{'e'}, std::byte{'l'}, std::byte{'s'},
                                        std::byte{'t'}};
    const auto it = std::search(bytes.begin(), bytes.end(), elst.begin(), elst.end());
    ASSERT_NE(it, bytes.end());
    const auto duration_at = static_cast<std::size_t>(it - bytes.begin()) + 12;  // v0 entry 0
    ASSERT_EQ(std::to_integer<int>(bytes[duration_at + 3]), 0);
    for (bool sequential : {false, true}) {
        auto o = sequential ? sequential_options() : options();
        auto dec = decoder::open(stream::memory_source::create(bytes, hint("mov")), o);
        ASSERT_TRUE(dec) << dec.error().message();
        const auto open_ended = drain(**dec);
        const auto aac_frames = (*dec)->stats().codec_frames;
        EXPECT_EQ(open_ended.frames(), aac_frames * 1024) << "sequential " << sequential;

        auto declared = bytes;
        declared[duration_at + 2] = std::byte{0x10};  // segment_duration 4096 ms
        auto dec2 = decoder::open(stream::memory_source::create(declared, hint("mov")), o);
        ASSERT_TRUE(dec2) << dec2.error().message();
        const auto cut = drain(**dec2);
        EXPECT_LT(cut.frames(), aac_frames * 1024) << "sequential " << sequential;
        EXPECT_GT(cut.frames(), (aac_frames - 1) * 1024) << "sequential " << sequential;
    }
}
