#include "output_sink.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace kithara::examples {

std::optional<sample_format> parse_sample_format(std::string_view name) {
    if (name == "wav") return sample_format::wav;
    if (name == "f32le") return sample_format::f32le;
    if (name == "s16le") return sample_format::s16le;
    return std::nullopt;
}

const char* to_string(sample_format f) {
    switch (f) {
        case sample_format::wav:
            return "wav";
        case sample_format::f32le:
            return "f32le";
        case sample_format::s16le:
            return "s16le";
    }
    return "?";
}

// Round to nearest, ties to even (as lrintf and FFmpeg's flt->s16 do), without a libm call per
// sample so the loop vectorizes: adding and subtracting 1.5 * 2^23 leaves the float rounded to an
// integer in the current (nearest-even) rounding mode, exact for |v| < 2^22 (v is clamped first).
std::int16_t to_s16(float x) {
    constexpr float magic = 12582912.0f;
    // min/max in this order map NaN to 32767 instead of passing it on.
    const float v = std::max(-32768.0f, std::min(32767.0f, x * 32768.0f));
    return static_cast<std::int16_t>((v + magic) - magic);
}

std::unique_ptr<output_sink> output_sink::open(const std::string& path, sample_format format,
                                               std::string* error) {
    if (path == "null")
        return std::unique_ptr<output_sink>(new output_sink(nullptr, false, format, path));
    if (path == "-")
        return std::unique_ptr<output_sink>(new output_sink(stdout, false, format, path));
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) {
        if (error) *error = "cannot write " + path + ": " + std::strerror(errno);
        return nullptr;
    }
    return std::unique_ptr<output_sink>(new output_sink(f, true, format, path));
}

output_sink::output_sink(std::FILE* f, bool owned, sample_format format, std::string path)
    : f_(f), owned_(owned), format_(format), path_(std::move(path)) {}

output_sink::~output_sink() {
    if (owned_ && f_) std::fclose(f_);
}

bool output_sink::fail(const char* what) {
    if (error_.empty())
        error_ = std::string(what) + " " + (path_ == "-" ? "stdout" : path_) + ": " +
                 std::strerror(errno);
    return false;
}

bool output_sink::begin(std::uint32_t rate, std::uint32_t channels) {
    rate_ = rate;
    channels_ = channels;
    if (!f_ || format_ != sample_format::wav) return true;
    // Unknown length: the largest size a reader accepts; finish() patches it when it can seek.
    return write_wav_header(0xFFFFFFFFu - 50) || fail("write");
}

bool output_sink::write(std::span<const float> samples) {
    if (!f_) {
        bytes_ += samples.size() * (format_ == sample_format::s16le ? 2 : 4);
        return true;
    }
    if (format_ == sample_format::s16le) {
        s16_.resize(std::max(s16_.size(), samples.size()));
        std::transform(samples.begin(), samples.end(), s16_.begin(), to_s16);
        bytes_ += samples.size() * sizeof(std::int16_t);
        return std::fwrite(s16_.data(), sizeof(std::int16_t), samples.size(), f_) ==
                   samples.size() ||
               fail("write");
    }
    bytes_ += samples.size() * sizeof(float);
    return std::fwrite(samples.data(), sizeof(float), samples.size(), f_) == samples.size() ||
           fail("write");
}

bool output_sink::finish() {
    if (!f_) return true;
    bool ok = true;
    if (format_ == sample_format::wav && f_ != stdout && std::fseek(f_, 0, SEEK_SET) == 0) {
        const auto data =
            static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes_, 0xFFFFFFF0u - 50));
        ok = write_wav_header(data) || fail("write");
    }
    if (std::fflush(f_) != 0) ok = fail("flush");
    if (owned_) {
        if (std::fclose(f_) != 0) ok = fail("close");
        f_ = nullptr;
        owned_ = false;
    }
    return ok;
}

bool output_sink::write_wav_header(std::uint32_t data_bytes) {
    unsigned char h[wav_header_bytes] = {};
    auto p32 = [&](std::size_t at, std::uint32_t v) {
        for (std::size_t i = 0; i < 4; ++i) h[at + i] = static_cast<unsigned char>(v >> (8 * i));
    };
    auto p16 = [&](std::size_t at, std::uint32_t v) {
        h[at] = static_cast<unsigned char>(v);
        h[at + 1] = static_cast<unsigned char>(v >> 8);
    };
    std::memcpy(h, "RIFF", 4);
    p32(4, data_bytes + 50);
    std::memcpy(h + 8, "WAVEfmt ", 8);
    p32(16, 18);
    p16(20, 3);  // WAVE_FORMAT_IEEE_FLOAT
    p16(22, channels_);
    p32(24, rate_);
    p32(28, rate_ * channels_ * 4);
    p16(32, channels_ * 4);
    p16(34, 32);
    p16(36, 0);  // cbSize
    std::memcpy(h + 38, "fact", 4);
    p32(42, 4);
    p32(46, channels_ == 0 ? 0 : data_bytes / (channels_ * 4));
    std::memcpy(h + 50, "data", 4);
    p32(54, data_bytes);
    return std::fwrite(h, 1, sizeof h, f_) == sizeof h;
}

}  // namespace kithara::examples
