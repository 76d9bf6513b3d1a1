// Test support: fixture loading, whole-stream decoding, and content measures (Goertzel, RMS).
#pragma once

#include <kithara/decode/decoder.hpp>
#include <kithara/stream/memory_source.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace kithara::decode::test {

inline std::string media(const std::string& name) {
    return std::string(KITHARA_MEDIA_DIR) + "/" + name;
}

inline std::vector<std::byte> load(const std::string& name) {
    std::ifstream f(media(name), std::ios::binary);
    EXPECT_TRUE(f) << "missing fixture " << media(name);
    std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> b(c.size());
    std::memcpy(b.data(), c.data(), c.size());
    return b;
}

inline std::shared_ptr<stream::memory_source> source_of(const std::string& name,
                                                        stream::media_hints hints = {}) {
    return stream::memory_source::create(load(name), std::move(hints));
}

inline decoder_options options(std::uint32_t rate = 0, std::uint32_t channels = 0) {
    decoder_options o;
    o.sample_rate = rate;
    o.channels = channels;
    o.reader.prefetch_bytes = 0;
    return o;
}

struct decoded {
    std::vector<float> pcm;  // interleaved
    std::uint32_t rate = 0;
    std::uint32_t channels = 0;
    std::size_t chunks = 0;
    std::size_t format_changes = 0;
    std::vector<std::size_t> change_at;  // frame index of each flagged chunk
    [[nodiscard]] std::size_t frames() const { return channels ? pcm.size() / channels : 0; }
};

inline decoded drain(decoder& dec) {
    decoded d;
    for (;;) {
        auto c = dec.next();
        EXPECT_TRUE(c) << c.error().message();
        if (!c || !*c) break;
        auto& ch = **c;
        if (ch.format_changed) {
            ++d.format_changes;
            d.change_at.push_back(d.frames());
        }
        d.rate = ch.sample_rate;
        d.channels = ch.channels;
        d.pcm.insert(d.pcm.end(), ch.samples.begin(), ch.samples.end());
        ++d.chunks;
    }
    return d;
}

inline decoded decode_all(std::shared_ptr<stream::source> src, decoder_options o = options()) {
    auto dec = decoder::open(std::move(src), o);
    EXPECT_TRUE(dec) << dec.error().message();
    if (!dec) return {};
    return drain(**dec);
}

// One channel of interleaved PCM, frames [from, to).
inline std::vector<float> channel(const decoded& d, std::uint32_t c, std::size_t from = 0,
                                  std::size_t to = SIZE_MAX) {
    std::vector<float> out;
    to = std::min(to, d.frames());
    for (std::size_t i = from; i < to; ++i) out.push_back(d.pcm[i * d.channels + c]);
    return out;
}

inline double rms(const std::vector<float>& x) {
    double s = 0;
    for (float v : x) s += static_cast<double>(v) * v;
    return x.empty() ? 0 : std::sqrt(s / static_cast<double>(x.size()));
}

// Goertzel power at `freq`, normalised so a full-scale sine gives ~0.25 * amplitude^2.
inline double tone_power(const std::vector<float>& x, double freq, double rate) {
    const double w = 2 * M_PI * freq / rate;
    const double k = 2 * std::cos(w);
    double s1 = 0, s2 = 0;
    for (float v : x) {
        const double s0 = v + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    const double p = s1 * s1 + s2 * s2 - k * s1 * s2;
    const double n = static_cast<double>(x.size());
    return p / (n * n);
}

// The frequency in [lo, hi] (step Hz) with the most power.
inline double dominant_frequency(const std::vector<float>& x, double rate, double lo = 100,
                                 double hi = 4000, double step = 10) {
    double best = lo, best_p = -1;
    for (double f = lo; f <= hi; f += step) {
        const double p = tone_power(x, f, rate);
        if (p > best_p) {
            best_p = p;
            best = f;
        }
    }
    return best;
}

}  // namespace kithara::decode::test
