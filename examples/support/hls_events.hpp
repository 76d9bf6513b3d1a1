// hls_events: what hls_playback learns from kithara::hls events: the counters stream_stats does
// not keep (gaps, failed segments, discontinuities, the stalled state for the progress line), the
// adaptive-bitrate record (the segments requested with their variant, the abr decisions, the
// switches with their wall times) for the summary and --stats-json, and --verbose's event lines.
//
//   hls_event_log log;  // outlives the stream
//   options.on_event = [&](const hls::event& e) { log.on_event(e); };
//   ...  log.to_json(initial_variant, bandwidths, stats_json);
//
// Threads: on_event() is called on the io thread or the thread calling next() (any thread);
// the other functions on any thread. Locks: the counters are atomics; one mutex guards the ABR
// record (never held across I/O or a callback). Buffers: the record holds at most max_records
// entries per list (a VOD has one per segment, decision or switch; the rest are counted, not
// kept).
#pragma once

#include <kithara/hls/hls_stream.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace kithara::examples {

[[nodiscard]] const char* event_name(hls::event_kind k);

// One line on stderr: "[  1234.5 ms] abr_decision      t= 12.000 s seq 6 variant 2 a256_006.m4s
// estimate ...", the time since `start`.
void print_event(const hls::event& e, std::chrono::steady_clock::time_point start);

class hls_event_log {
public:
    static constexpr std::size_t max_records = 100000;

    explicit hls_event_log(std::chrono::steady_clock::time_point start) : start_(start) {}

    void on_event(const hls::event& e);

    std::atomic<std::uint64_t> stalls{0};
    std::atomic<std::uint64_t> gaps{0};
    std::atomic<std::uint64_t> failed_segments{0};  // gaps standing for a failed segment
    std::atomic<std::uint64_t> discontinuities{0};
    std::atomic<bool> stalled{false};  // between a stall and its resume

    // Into `out` (an object): "segment_variants" ([{time, variant}] per media segment requested,
    // the variant that played at its start: `initial` changed by each variant_switched event),
    // "variant_runs" ("0:6,2:4": variant and segment count of each run), "abr_decisions"
    // ([{wall_s, time, variant, message}]) and "switch_times" ([{wall_s, time, variant,
    // message}], one per variant_switched event). wall_s: seconds since `start`.
    void to_json(std::size_t initial, nlohmann::json& out) const;
    // "0:6,2:4": the runs of the played variant over the segments requested.
    [[nodiscard]] std::string variant_runs(std::size_t initial) const;

private:
    struct record {
        double wall_s = 0;
        double time = 0;
        std::size_t variant = 0;
        std::string message;
    };
    // time -> played variant for each segment time requested, in time order.
    [[nodiscard]] std::vector<std::pair<double, std::size_t>> played(std::size_t initial) const;

    std::chrono::steady_clock::time_point start_;
    mutable std::mutex mutex_;
    // Media segments requested: start time and variant, any order.
    std::vector<std::pair<double, std::size_t>> segment_times_;
    std::vector<record> decisions_;
    std::vector<record> switches_;
};

}  // namespace kithara::examples
