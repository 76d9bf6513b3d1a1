// abr_rules: the built-in adaptive-bitrate decision for the next segment, a pure function of the
// status (bandwidths, current variant, estimate, buffer, speed, cap) and the options; the session
// calls it (or the application's abr_options::policy) under its lock.
#pragma once

#include <kithara/hls/hls_stream.hpp>

#include <cstddef>
#include <string>

namespace kithara::hls::detail {

struct abr_choice {
    std::size_t variant = 0;
    std::string reason;  // for the abr_decision event and the log
};

// Extra inputs of the built-in rules.
struct abr_context {
    double since_last_up = 1e300;  // media seconds since the last switch up was decided
    // The last segment filled the buffer slower than playback drains it (its download took
    // longer than its duration / playback_speed).
    bool draining = false;
};

// The highest variant within the cap (the lowest variant when none fits).
[[nodiscard]] std::size_t highest_allowed(const abr_status& st);
// The highest allowed variant whose bandwidth * speed <= rate_bps * safety (the lowest allowed
// when none fits).
[[nodiscard]] std::size_t best_fit(const abr_status& st, double rate_bps, double safety);

[[nodiscard]] abr_choice choose_variant(const abr_status& st, const abr_options& o,
                                        const abr_context& c);

// "1.93 Mbit/s" style formatting of a bit rate.
[[nodiscard]] std::string format_rate(double bits_per_second);

}  // namespace kithara::hls::detail
