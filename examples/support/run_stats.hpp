// run_stats: what a playback example measured, written as the end-of-run summary (stderr) and
// as `--stats-json` (nlohmann/json). Each example fills the common fields and may add its own
// under `extra` (merged into the JSON object at the top level).
//
//   run_stats s{.tool = "file_playback", .url = url};  ...  s.ok = true;
//   print_summary(s);  write_stats_json("stats.json", s, &err);
//
// Threads: one thread at a time. Locks: none. Buffers: none.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace kithara::examples {

struct run_stats {
    std::string tool;
    std::string url;
    bool ok = false;
    std::string error;  // the failure, when !ok
    std::string codec;
    std::uint32_t source_rate = 0;
    std::uint32_t source_channels = 0;
    std::uint32_t rate = 0;  // output
    std::uint32_t channels = 0;
    std::uint64_t frames = 0;                         // PCM frames written
    std::optional<double> time_to_first_sample_ms;    // from process start
    double wall_s = 0;                                // process start to the end of the run
    std::uint64_t bytes_network = 0;                  // body bytes downloaded
    std::uint64_t bytes_cache = 0;                    // bytes served from the cache
    std::uint64_t requests = 0;                       // HTTP requests started
    std::optional<std::uint64_t> retries;             // nullopt: the source does not count them
    std::uint64_t output_underruns = 0;               // --realtime: chunks that came late
    nlohmann::json extra = nlohmann::json::object();  // example-specific fields

    [[nodiscard]] double audio_s() const { return rate ? static_cast<double>(frames) / rate : 0.0; }
    [[nodiscard]] double realtime_factor() const { return wall_s > 0 ? audio_s() / wall_s : 0.0; }
};

[[nodiscard]] nlohmann::json to_json(const run_stats& s);
// path "-" writes to stdout. False and *error (naming the path and cause) on failure.
bool write_stats_json(const std::string& path, const run_stats& s, std::string* error);
// The few-line summary on stderr: outcome, format, time to first sample, realtime factor,
// bytes from network vs cache, requests and retries.
void print_summary(const run_stats& s);

}  // namespace kithara::examples
