// abr_rules: up with headroom and buffer, down as soon as the estimate says the current variant no
// longer fits or the buffer drains, a cap that always wins, hysteresis between the two safety
// factors and a minimum interval between switches up.
#include "detail/abr_rules.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

namespace kithara::hls::detail {

namespace {

bool available(const abr_status& st, std::size_t v) {
    return v >= st.available.size() || st.available[v];
}

bool allowed(const abr_status& st, std::size_t v) {
    return available(st, v) && (st.max_bandwidth == 0 || st.bandwidths[v] <= st.max_bandwidth);
}

std::size_t lowest(const abr_status& st) {
    std::optional<std::size_t> best;
    for (std::size_t v = 0; v < st.bandwidths.size(); ++v)
        if (available(st, v) && (!best || st.bandwidths[v] < st.bandwidths[*best])) best = v;
    return best ? *best : st.current;
}

// The next lower variant by bandwidth, or v itself when it is the lowest.
std::size_t step_down(const abr_status& st, std::size_t v) {
    std::size_t best = v;
    for (std::size_t w = 0; w < st.bandwidths.size(); ++w) {
        if (!available(st, w) || st.bandwidths[w] >= st.bandwidths[v]) continue;
        if (best == v || st.bandwidths[w] > st.bandwidths[best]) best = w;
    }
    return best;
}

}  // namespace

std::string format_rate(double bps) {
    char b[32];
    if (bps >= 1e6)
        std::snprintf(b, sizeof b, "%.2f Mbit/s", bps / 1e6);
    else
        std::snprintf(b, sizeof b, "%.0f kbit/s", bps / 1e3);
    return b;
}

std::size_t highest_allowed(const abr_status& st) {
    std::optional<std::size_t> best;
    for (std::size_t v = 0; v < st.bandwidths.size(); ++v) {
        if (!allowed(st, v)) continue;
        if (!best || st.bandwidths[v] > st.bandwidths[*best]) best = v;
    }
    return best ? *best : lowest(st);
}

std::size_t best_fit(const abr_status& st, double rate_bps, double safety) {
    std::optional<std::size_t> best;
    std::optional<std::size_t> low;
    for (std::size_t v = 0; v < st.bandwidths.size(); ++v) {
        if (!allowed(st, v)) continue;
        if (!low || st.bandwidths[v] < st.bandwidths[*low]) low = v;
        const double need = static_cast<double>(st.bandwidths[v]) * st.playback_speed;
        if (need > rate_bps * safety) continue;
        if (!best || st.bandwidths[v] > st.bandwidths[*best]) best = v;
    }
    if (best) return *best;
    return low ? *low : lowest(st);
}

abr_choice choose_variant(const abr_status& st, const abr_options& o, const abr_context& c) {
    const std::size_t cur = st.current;
    char why[200];
    if (!allowed(st, cur)) {
        const auto v = st.estimate ? best_fit(st, *st.estimate, o.up_safety) : highest_allowed(st);
        std::snprintf(why, sizeof why, "cap %s: %s is above it",
                      format_rate(static_cast<double>(st.max_bandwidth)).c_str(),
                      format_rate(static_cast<double>(st.bandwidths[cur])).c_str());
        return {v, why};
    }
    if (!st.estimate) return {cur, "no estimate yet"};
    const double est = *st.estimate;
    const double cur_need = static_cast<double>(st.bandwidths[cur]) * st.playback_speed;
    const std::size_t fit = best_fit(st, est, o.up_safety);
    if (cur_need > est * o.down_safety && st.bandwidths[fit] < st.bandwidths[cur]) {
        std::snprintf(why, sizeof why, "down: estimate %s < %s needed, buffer %.1f s",
                      format_rate(est).c_str(), format_rate(cur_need).c_str(), st.buffer_seconds);
        return {fit, why};
    }
    if (c.draining && st.buffer_seconds < o.min_buffer_up) {
        const auto v = step_down(st, cur);
        if (v != cur) {
            std::snprintf(why, sizeof why,
                          "down: the buffer drains faster than it fills (%.1f s), estimate %s",
                          st.buffer_seconds, format_rate(est).c_str());
            return {v, why};
        }
    }
    if (st.bandwidths[fit] > st.bandwidths[cur]) {
        // The buffer asked for shrinks with the headroom: twice what the variant needs halves
        // the risk of the next segment arriving late.
        const double need = static_cast<double>(st.bandwidths[fit]) * st.playback_speed;
        const double required = o.min_buffer_up * std::min(1.0, 2.0 * need / (est * o.up_safety));
        if (st.buffer_seconds < required) return {cur, "up held: buffer too short"};
        if (c.since_last_up < o.min_switch_interval) return {cur, "up held: too soon"};
        std::snprintf(
            why, sizeof why, "up: estimate %s x %.2f >= %s, buffer %.1f s",
            format_rate(est).c_str(), o.up_safety,
            format_rate(static_cast<double>(st.bandwidths[fit]) * st.playback_speed).c_str(),
            st.buffer_seconds);
        return {fit, why};
    }
    return {cur, "stay"};
}

}  // namespace kithara::hls::detail
