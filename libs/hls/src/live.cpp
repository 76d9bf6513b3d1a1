// live_start (where playback begins), pdt_map and parse_program_date_time (the wall clock of
// the timeline). The timeline and the schedule are in live_timeline.cpp and live_schedule.cpp.
#include "detail/live.hpp"

#include <kithara/hls/error.hpp>

#include <algorithm>
#include <cmath>

namespace kithara::hls::detail {

namespace {

constexpr double eps = 1e-3;  // seconds: EXTINF sums are not exact

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool playlist_has_parts(const media_playlist& m) {
    if (!m.trailing_parts.empty()) return true;
    return std::any_of(m.segments.begin(), m.segments.end(),
                       [](const segment& s) { return !s.parts.empty(); });
}

}  // namespace

result<wall_time> parse_program_date_time(std::string_view text) {
    std::size_t i = 0;
    auto bad = [&](const std::string& why) {
        return kithara::fail(errc::invalid_value,
                             "EXT-X-PROGRAM-DATE-TIME \"" + std::string(text.substr(0, 64)) +
                                 "\": " + why + " (expected YYYY-MM-DDThh:mm:ss[.f][Z|+hh:mm])");
    };
    auto number = [&](std::size_t n, int& out) {
        if (i + n > text.size()) return false;
        out = 0;
        for (std::size_t k = 0; k < n; ++k) {
            if (!is_digit(text[i + k])) return false;
            out = out * 10 + (text[i + k] - '0');
        }
        i += n;
        return true;
    };
    auto sep = [&](std::string_view any) {
        if (i < text.size() && any.find(text[i]) != std::string_view::npos) {
            ++i;
            return true;
        }
        return false;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!number(4, y) || !sep("-") || !number(2, mo) || !sep("-") || !number(2, d)) {
        return bad("bad date");
    }
    if (!sep("Tt ")) return bad("no 'T' between date and time");
    if (!number(2, h) || !sep(":") || !number(2, mi) || !sep(":") || !number(2, s)) {
        return bad("bad time of day");
    }
    const std::chrono::year_month_day ymd{std::chrono::year{y},
                                          std::chrono::month{static_cast<unsigned>(mo)},
                                          std::chrono::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return bad("no such date");
    if (h > 23 || mi > 59 || s > 60) return bad("time of day out of range");
    std::chrono::nanoseconds frac{0};
    if (sep(".,")) {
        std::int64_t ns = 0;
        std::size_t n = 0;
        for (; i < text.size() && is_digit(text[i]); ++i, ++n) {
            if (n < 9) ns = ns * 10 + (text[i] - '0');
        }
        if (n == 0) return bad("no digits after the decimal point");
        for (std::size_t k = n; k < 9; ++k) ns *= 10;
        frac = std::chrono::nanoseconds{ns};
    }
    std::chrono::minutes offset{0};
    if (sep("Zz")) {
    } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        const bool minus = text[i++] == '-';
        int oh = 0, om = 0;
        if (!number(2, oh)) return bad("bad time zone offset");
        if (sep(":")) {
            if (!number(2, om)) return bad("bad time zone offset");
        } else if (i < text.size()) {
            if (!number(2, om)) return bad("bad time zone offset");
        }
        if (oh > 23 || om > 59) return bad("time zone offset out of range");
        offset = std::chrono::minutes{(minus ? -1 : 1) * (oh * 60 + om)};
    }
    if (i != text.size()) return bad("unexpected text after the date-time");
    const auto local = std::chrono::sys_days{ymd} + std::chrono::hours{h} +
                       std::chrono::minutes{mi} + std::chrono::seconds{s} + frac;
    return std::chrono::time_point_cast<wall_time::duration>(local - offset);
}

// ---------------------------------------------------------------------------------------------

result<start_position> live_start(const media_playlist& m, const start_options& o) {
    if (m.segments.empty() && m.trailing_parts.empty()) {
        return kithara::fail(errc::invalid_value, "no media segment to start playback at");
    }
    const std::uint64_t first_msn = m.segments.empty()
                                        ? m.media_sequence + (m.skip ? m.skip->skipped_segments : 0)
                                        : m.segments.front().media_sequence;
    const double total = m.duration();
    // The segment containing t: the last starting at or before it.
    auto segment_at = [&](double t, double& seg_start) {
        std::size_t k = 0;
        double at = 0;
        seg_start = 0;
        for (std::size_t j = 0; j < m.segments.size(); ++j) {
            if (at > t + eps) break;
            k = j;
            seg_start = at;
            at += m.segments[j].duration;
        }
        return k;
    };
    start_position p;
    p.msn = first_msn;
    if (m.segments.empty()) {
        p.part = 0;  // only parts of the first segment are known
        return p;
    }
    if (o.event_from_beginning && m.type == playlist_type::event) {
        p.why = start_position::rule::event_beginning;
        return p;
    }
    if (m.start) {
        double t = m.start->time_offset >= 0 ? m.start->time_offset : total + m.start->time_offset;
        t = std::clamp(t, 0.0, total);
        if (!m.endlist) t = std::min(t, std::max(0.0, total - hold_back_of(m)));
        double seg_start = 0;
        const std::size_t k = segment_at(t, seg_start);
        p.msn = m.segments[k].media_sequence;
        p.why = start_position::rule::start_tag;
        if (m.start->precise) {
            p.offset = std::max(0.0, t - seg_start);
            p.time = t;
        } else {
            p.time = seg_start;
        }
        return p;
    }
    if (m.endlist) return p;  // VOD (or a finished EVENT): from the start

    if (o.low_latency && m.control && m.control->part_hold_back && playlist_has_parts(m)) {
        // The last part (or whole segment, where the parts were removed) that starts at least
        // PART-HOLD-BACK before the end of the playlist, trailing parts included.
        double end = total;
        for (const auto& pt : m.trailing_parts) end += pt.duration;
        const double limit = end - *m.control->part_hold_back;
        bool found = false;
        auto consider = [&](std::uint64_t msn, std::optional<std::uint32_t> part, double at,
                            bool independent) {
            if (at > limit + eps) return;
            if (part && o.require_independent_parts && !independent) return;
            p.msn = msn;
            p.part = part;
            p.time = at;
            found = true;
        };
        double at = 0;
        for (const auto& s : m.segments) {
            if (s.parts.empty()) {
                consider(s.media_sequence, std::nullopt, at, true);
            } else {
                double pa = at;
                for (std::size_t j = 0; j < s.parts.size(); ++j) {
                    consider(s.media_sequence, static_cast<std::uint32_t>(j), pa,
                             s.parts[j].independent);
                    pa += s.parts[j].duration;
                }
            }
            at += s.duration;
        }
        for (std::size_t j = 0; j < m.trailing_parts.size(); ++j) {
            consider(m.segments.back().media_sequence + 1, static_cast<std::uint32_t>(j), at,
                     m.trailing_parts[j].independent);
            at += m.trailing_parts[j].duration;
        }
        if (found) {
            p.why = start_position::rule::part_hold_back;
            return p;
        }
        p = start_position{};
        p.msn = first_msn;
    }
    // RFC 8216 6.3.3: not closer to the end than three target durations (HOLD-BACK).
    double seg_start = 0;
    const double limit = total - hold_back_of(m);
    if (limit >= 0) {
        const std::size_t k = segment_at(limit, seg_start);
        p.msn = m.segments[k].media_sequence;
        p.time = seg_start;
    }
    p.why = start_position::rule::hold_back;
    return p;
}

// ---------------------------------------------------------------------------------------------

void pdt_map::add(double start, double duration, bool discontinuity, std::optional<wall_time> pdt) {
    if (discontinuity && !spans_.empty()) ++run_;
    if (!spans_.empty() && !discontinuity && !pdt) {
        spans_.back().end = std::max(spans_.back().end, start + duration);  // carried forward
        return;
    }
    if (pdt) {
        // Segments of this run before its first date extrapolate backward from it.
        for (auto it = spans_.rbegin(); it != spans_.rend() && it->run == run_ && !it->anchor;
             ++it) {
            it->anchor = *pdt - std::chrono::duration_cast<wall_time::duration>(
                                    std::chrono::duration<double>(start - it->begin));
        }
    }
    spans_.push_back(span{start, start + duration, run_, pdt});
    while (spans_.size() > max_spans_) spans_.pop_front();
}

std::vector<error> pdt_map::add_playlist(const media_playlist& m, double start) {
    std::vector<error> errors;
    double t = start;
    for (const auto& s : m.segments) {
        std::optional<wall_time> w;
        if (s.program_date_time_tagged) {
            if (const auto* raw = m.program_date_time_of(s)) {
                auto r = parse_program_date_time(*raw);
                if (r) {
                    w = *r;
                } else {
                    errors.push_back(r.error());
                }
            }
        }
        add(t, s.duration, s.discontinuity, w);
        t += s.duration;
    }
    return errors;
}

std::optional<wall_time> pdt_map::wall_clock_at(double t) const {
    auto it = std::upper_bound(spans_.begin(), spans_.end(), t + eps,
                               [](double v, const span& s) { return v < s.begin; });
    if (it == spans_.begin()) return std::nullopt;
    const span& s = *std::prev(it);
    if (!s.anchor) return std::nullopt;
    return *s.anchor + std::chrono::duration_cast<wall_time::duration>(
                           std::chrono::duration<double>(t - s.begin));
}

std::optional<double> pdt_map::position_of(wall_time w) const {
    for (const auto& s : spans_) {
        if (!s.anchor || w < *s.anchor) continue;
        const double into = std::chrono::duration<double>(w - *s.anchor).count();
        if (into < s.end - s.begin || &s == &spans_.back()) return s.begin + into;
    }
    return std::nullopt;
}

void pdt_map::forget_before(double t) {
    while (spans_.size() > 1 && spans_.front().end <= t) spans_.pop_front();
}

}  // namespace kithara::hls::detail
