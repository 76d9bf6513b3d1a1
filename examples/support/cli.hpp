// The command-line options every Kithara playback example shares (file_playback, hls_playback),
// parsed with CLI11, and the exit codes they use.
//
//   CLI::App app{"plays a URL"};  common_options o;  add_common_options(app, o);
//   app.add_flag("--list", list, "...");                // the example's own options
//   if (auto rc = parse_command_line(app, argc, argv, o)) return *rc;   // --help: 0, bad: 2
//
// Threads: the main thread, before any other starts. Locks: none. Buffers: none.
#pragma once

#include "output_sink.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace kithara::examples {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // failed, or the audio is incomplete
inline constexpr int exit_usage = 2;

struct common_options {
    std::string url;  // empty: the example's built-in demo
    std::string out = "null";
    sample_format format = sample_format::wav;
    std::uint32_t rate = 0;      // 0: the source's rate
    std::uint32_t channels = 0;  // 0: the source's channels
    std::optional<double> seek;
    std::optional<double> duration;  // seconds of output, exact to the sample
    std::string cache_dir;           // empty: the default (or a temporary one for the demo)
    bool offline = false;
    bool realtime = false;
    std::string stats_json;  // empty: none; "-": stdout
    bool verbose = false;
    bool quiet = false;
};

void add_common_options(CLI::App& app, common_options& o);

// Parses argv; returns the exit code to return right away (0 after --help, exit_usage after a
// usage error, its message printed to stderr) or nullopt to go on.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                      const common_options& o);

// $XDG_CACHE_HOME/kithara, ~/.cache/kithara, else <tmp>/kithara-cache.
std::string default_cache_dir();

}  // namespace kithara::examples
