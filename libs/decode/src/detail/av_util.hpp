// Internal: small helpers every part of the decoder shares: FFmpeg error text, saturating sample
// arithmetic on untrusted timestamps, the consecutive-failure bound, and the routing of the
// bundled FFmpeg's log. Pure functions, any thread (route_ffmpeg_log: once per process).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

namespace kithara::decode::detail {

// Sample indices and times derived from container timestamps (untrusted input) are clamped here:
// 2^52 samples is over 2900 years at 48 kHz; no arithmetic on them can overflow.
constexpr std::int64_t max_samples = std::int64_t{1} << 52;

// Bad packets in a row before decoding (or priming at open) gives up.
constexpr int max_consecutive_failures = 64;

inline std::int64_t clamp_samples(std::int64_t v) {
    return std::clamp(v, -max_samples, max_samples);
}
inline std::int64_t sat_add(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
inline std::int64_t sat_sub(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

// av_strerror's text for an AVERROR code.
std::string av_error_text(int err);

// "1.234 s"
std::string seconds_text(double s);

// With the bundled FFmpeg (Kithara's own, static, hidden), routes av_log through Kithara's
// logger; with the system FFmpeg it does nothing (the application owns av_log's callback).
void route_ffmpeg_log();

}  // namespace kithara::decode::detail
