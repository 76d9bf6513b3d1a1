// reload_schedule (RFC 8216 6.3.4 timing, backoff, stuck, LL-HLS blocking reloads) and the
// delivery directives of a playlist request (rfc8216bis 6.2.5, 6.3.2, 6.3.7, 6.3.8).
#include "detail/live.hpp"

#include <algorithm>
#include <cmath>

namespace kithara::hls::detail {

namespace {

using clock_duration = std::chrono::steady_clock::duration;

clock_duration secs(double s) {
    return std::chrono::duration_cast<clock_duration>(std::chrono::duration<double>(s));
}

double seconds_between(steady_time a, steady_time b) {
    return std::chrono::duration<double>(b - a).count();
}

// splitmix64: a deterministic jitter from (seed, error count).
std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

bool has_parts(const media_playlist& m) {
    if (!m.trailing_parts.empty()) return true;
    return std::any_of(m.segments.begin(), m.segments.end(),
                       [](const segment& s) { return !s.parts.empty(); });
}

bool directive(std::string_view param) {
    const auto name = param.substr(0, param.find('='));
    return name == "_HLS_msn" || name == "_HLS_part" || name == "_HLS_skip";
}

}  // namespace

double target_of(const media_playlist& m) noexcept {
    if (m.target_duration && *m.target_duration > 0) return static_cast<double>(*m.target_duration);
    double longest = 0;
    for (const auto& s : m.segments) longest = std::max(longest, s.duration);
    return std::max(1.0, std::ceil(longest));
}

double hold_back_of(const media_playlist& m) noexcept {
    if (m.control && m.control->hold_back) return *m.control->hold_back;
    return 3 * target_of(m);
}

delivery_target next_delivery_target(const media_playlist& m, bool parts) {
    const std::uint64_t next = m.segments.empty()
                                   ? m.media_sequence + (m.skip ? m.skip->skipped_segments : 0)
                                   : m.segments.back().media_sequence + 1;
    delivery_target t{next, std::nullopt};
    if (parts && (m.part_target || has_parts(m))) {
        t.part = static_cast<std::uint32_t>(m.trailing_parts.size());
    }
    return t;
}

std::string with_delivery_directives(std::string_view url, const std::optional<delivery_target>& t,
                                     skip_directive skip) {
    std::string_view fragment;
    if (auto h = url.find('#'); h != std::string_view::npos) {
        fragment = url.substr(h);
        url = url.substr(0, h);
    }
    std::string_view query;
    if (auto q = url.find('?'); q != std::string_view::npos) {
        query = url.substr(q + 1);
        url = url.substr(0, q);
    }
    std::vector<std::string> params;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto p = query.substr(0, amp);
        if (!p.empty() && !directive(p)) params.emplace_back(p);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    }
    if (t) {
        params.push_back("_HLS_msn=" + std::to_string(t->msn));
        if (t->part) params.push_back("_HLS_part=" + std::to_string(*t->part));
    }
    if (skip != skip_directive::none) {
        params.push_back(skip == skip_directive::v2 ? "_HLS_skip=v2" : "_HLS_skip=YES");
    }
    // UTF-8 byte order of the names (std::string compares as unsigned char), then the values;
    // stable, so repeated names keep their order.
    std::stable_sort(params.begin(), params.end(), [](const std::string& a, const std::string& b) {
        return std::string_view(a).substr(0, a.find('=')) <
               std::string_view(b).substr(0, b.find('='));
    });
    std::string out(url);
    for (std::size_t i = 0; i < params.size(); ++i) {
        out += i == 0 ? '?' : '&';
        out += params[i];
    }
    out += fragment;
    return out;
}

skip_directive delta_update_directive(const media_playlist& m, double age_seconds) {
    if (m.endlist || !m.control || !m.control->can_skip_until) return skip_directive::none;
    if (age_seconds > *m.control->can_skip_until / 2) return skip_directive::none;
    return m.control->can_skip_dateranges ? skip_directive::v2 : skip_directive::yes;
}

clock_duration reload_schedule::backoff(std::uint32_t errors) const {
    const double target = std::max(target_, 1.0);
    const double cap = opts_.backoff_max * target;
    const double base = std::min(
        cap, opts_.backoff_first * target * std::pow(2.0, static_cast<double>(errors - 1)));
    // u in [-1, 1)
    const double u =
        static_cast<double>(mix(opts_.seed ^ (errors * 0xD1B54A32D192ED03ull)) >> 11) * 0x1.0p-52 -
        1.0;
    const double d = std::clamp(base * (1.0 + opts_.jitter * u), 0.0, cap);
    return secs(d);
}

reload_report reload_schedule::on_result(reload_outcome outcome, steady_time started,
                                         steady_time finished, const media_playlist* m) {
    reload_report rep;
    const std::optional<delivery_target> asked = next_.blocking;
    if (m) {
        target_ = target_of(*m);
        part_target_ = m->part_target.value_or(0);
        last_segment_ = m->segments.empty() ? target_ : m->segments.back().duration;
        can_block_ = m->control && m->control->can_block_reload && !m->endlist;
        endlist_ = m->endlist;
    }
    if (!seen_change_) {
        last_change_ = started;  // stuck counts from the first request
        seen_change_ = true;
    }
    switch (outcome) {
        case reload_outcome::changed:
            errors_ = 0;
            timeouts_ = 0;
            last_change_ = started;
            if (stuck_) rep.recovered = true;
            stuck_ = false;
            // A server that advertises parts but answers part requests without any: ask by MSN.
            if (asked && asked->part && m) {
                if (has_parts(*m)) {
                    partless_ = 0;
                } else if (++partless_ >= opts_.partless_to_fallback) {
                    ask_parts_ = false;
                }
            }
            break;
        case reload_outcome::unchanged:
        case reload_outcome::not_modified:
            errors_ = 0;
            break;
        case reload_outcome::error:
            ++errors_;
            break;
        case reload_outcome::blocking_timeout:
            if (++timeouts_ >= opts_.blocking_timeouts_to_fallback && !fallen_back_) {
                fallen_back_ = true;
                rep.fell_back = true;
            }
            break;
    }
    if (outcome != reload_outcome::changed && !endlist_) {
        const double still = seconds_between(last_change_, finished);
        if (still >= opts_.stuck_factor * std::max(target_, 1.0)) {
            if (!stuck_) rep.stuck_began = true;
            stuck_ = true;
        }
    }
    rep.stuck = stuck_;
    rep.consecutive_errors = errors_;

    if (m) {
        target_next_ = next_delivery_target(*m, ask_parts_);
    } else if (target_next_ && !ask_parts_) {
        target_next_->part.reset();
    }
    blocking_ = can_block_ && !fallen_back_ && target_next_.has_value();

    const double target = std::max(target_, 1.0);
    reload_request r;
    if (blocking_) {
        r.blocking = target_next_;
        const double window = 3 * target;  // a server blocks at most this long (6.2.5.2)
        const double wait =
            r.blocking->part ? std::min(window, std::max(3 * part_target_, 0.5)) : window;
        r.timeout = secs(wait) + opts_.blocking_slack;
    }
    switch (outcome) {
        case reload_outcome::error:
            r.at = finished + backoff(errors_);
            break;
        case reload_outcome::changed:
        case reload_outcome::blocking_timeout:
            if (blocking_) {
                r.at = finished;  // the server holds the request until there is news
            } else {
                const double wait = outcome == reload_outcome::blocking_timeout ? target / 2
                                    : opts_.after_change_last_segment           ? last_segment_
                                                                                : target;
                r.at = started + secs(wait);
            }
            break;
        case reload_outcome::unchanged:
        case reload_outcome::not_modified:
            r.at = started + secs(target / 2);
            break;
    }
    next_ = r;
    return rep;
}

}  // namespace kithara::hls::detail
