#include "hls_events.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

namespace kithara::examples {

namespace {

double secs_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

const char* event_name(hls::event_kind k) {
    switch (k) {
        case hls::event_kind::playlist_loaded:
            return "playlist_loaded";
        case hls::event_kind::variant_chosen:
            return "variant_chosen";
        case hls::event_kind::segment_requested:
            return "segment_requested";
        case hls::event_kind::segment_complete:
            return "segment_complete";
        case hls::event_kind::discontinuity:
            return "discontinuity";
        case hls::event_kind::gap:
            return "gap";
        case hls::event_kind::stall:
            return "stall";
        case hls::event_kind::progress:
            return "progress";
        case hls::event_kind::resume:
            return "resume";
        case hls::event_kind::error:
            return "error";
        case hls::event_kind::abr_decision:
            return "abr_decision";
        case hls::event_kind::variant_switched:
            return "variant_switched";
        case hls::event_kind::rendition_switched:
            return "rendition_switched";
        case hls::event_kind::live_reloaded:
            return "live_reloaded";
        case hls::event_kind::live_stuck:
            return "live_stuck";
        case hls::event_kind::live_recovered:
            return "live_recovered";
        case hls::event_kind::live_anomaly:
            return "live_anomaly";
        case hls::event_kind::live_jump:
            return "live_jump";
        case hls::event_kind::live_ended:
            return "live_ended";
        case hls::event_kind::live_reload_failed:
            return "live_reload_failed";
    }
    return "?";
}

void print_event(const hls::event& e, std::chrono::steady_clock::time_point start) {
    const double ms = secs_since(start) * 1e3;
    if (e.kind == hls::event_kind::progress) {
        std::fprintf(stderr, "[%8.1f ms] %-17s %llu / %s%llu bytes, %zu / %zu segments\n", ms,
                     event_name(e.kind), static_cast<unsigned long long>(e.bytes_done),
                     e.bytes_total_exact ? "" : "~", static_cast<unsigned long long>(e.bytes_total),
                     e.segments_done, e.segments_total);
        return;
    }
    const bool abr =
        e.kind == hls::event_kind::abr_decision || e.kind == hls::event_kind::variant_switched;
    char variant[32] = "";
    if (abr || e.kind == hls::event_kind::variant_chosen)
        std::snprintf(variant, sizeof variant, " variant %zu", e.variant);
    std::fprintf(stderr, "[%8.1f ms] %-17s t=%7.3f s seq %llu%s %s%s%s\n", ms, event_name(e.kind),
                 e.time, static_cast<unsigned long long>(e.media_sequence), variant, e.uri.c_str(),
                 e.message.empty() ? "" : " ", e.message.c_str());
}

void hls_event_log::on_event(const hls::event& e) {
    switch (e.kind) {
        case hls::event_kind::stall:
            stalls++;
            stalled = true;
            return;
        case hls::event_kind::resume:
            stalled = false;
            return;
        case hls::event_kind::gap:
            gaps++;
            if (!e.message.empty()) failed_segments++;  // names the error
            return;
        case hls::event_kind::discontinuity:
            discontinuities++;
            return;
        default:
            break;
    }
    const double wall = secs_since(start_);
    std::lock_guard lock(mutex_);
    if (e.kind == hls::event_kind::segment_requested && e.message != "key") {
        if (segment_times_.size() < max_records) segment_times_.push_back({e.time, e.variant});
    } else if (e.kind == hls::event_kind::abr_decision) {
        if (decisions_.size() < max_records)
            decisions_.push_back({wall, e.time, e.variant, e.message});
    } else if (e.kind == hls::event_kind::variant_switched) {
        if (switches_.size() < max_records)
            switches_.push_back({wall, e.time, e.variant, e.message});
    }
}

std::vector<std::pair<double, std::size_t>> hls_event_log::played(std::size_t initial) const {
    std::vector<std::pair<double, std::size_t>> requests;
    std::vector<record> switches;
    {
        std::lock_guard lock(mutex_);
        requests = segment_times_;
        switches = switches_;
    }
    std::stable_sort(switches.begin(), switches.end(),
                     [](const record& a, const record& b) { return a.time < b.time; });
    // The variant played over [from, to): runs from the variant at open, changed by each switch
    // (its first chunk's time, sample-exact).
    struct run {
        double from, to;
        std::size_t variant;
    };
    std::vector<run> runs{{-1e300, 1e300, initial}};
    for (const auto& s : switches) {
        runs.back().to = s.time;
        runs.push_back({s.time, 1e300, s.variant});
    }
    // Segment start times to the millisecond (an init section shares its segment's time; a
    // segment requested again, after an abort, counts once). A run's segments are its variant's
    // requests that start inside it, plus the one holding its start (variants at other sample
    // rates have other boundaries; priming requests before a switch are not played).
    for (auto& r : requests) r.first = std::round(r.first * 1000) / 1000;
    std::sort(requests.begin(), requests.end());
    requests.erase(std::unique(requests.begin(), requests.end()), requests.end());
    std::vector<std::pair<double, std::size_t>> out;
    for (const auto& rn : runs) {
        std::optional<double> holding;  // the latest request of this variant at or before from
        for (const auto& [t, v] : requests) {
            if (v != rn.variant) continue;
            if (t <= rn.from + 0.001)
                holding = t;
            else if (t < rn.to - 0.001)
                out.emplace_back(t, v);
        }
        if (holding && *holding < rn.to - 0.001)
            out.emplace_back(std::max(*holding, rn.from < 0 ? *holding : rn.from), rn.variant);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string hls_event_log::variant_runs(std::size_t initial) const {
    std::string s;
    std::size_t count = 0;
    std::size_t current = 0;
    auto flush = [&] {
        if (!count) return;
        if (!s.empty()) s += ',';
        s += std::to_string(current) + ':' + std::to_string(count);
    };
    for (const auto& [t, v] : played(initial)) {
        if (count && v == current) {
            ++count;
            continue;
        }
        flush();
        current = v;
        count = 1;
    }
    flush();
    return s;
}

void hls_event_log::to_json(std::size_t initial, nlohmann::json& out) const {
    auto segs = nlohmann::json::array();
    for (const auto& [t, v] : played(initial)) segs.push_back({{"time", t}, {"variant", v}});
    out["segment_variants"] = std::move(segs);
    out["variant_runs"] = variant_runs(initial);
    auto records = [](const std::vector<record>& rs) {
        auto a = nlohmann::json::array();
        for (const auto& r : rs)
            a.push_back({{"wall_s", r.wall_s},
                         {"time", r.time},
                         {"variant", r.variant},
                         {"message", r.message}});
        return a;
    };
    std::lock_guard lock(mutex_);
    out["abr_decisions"] = records(decisions_);
    out["switch_times"] = records(switches_);
}

}  // namespace kithara::examples
