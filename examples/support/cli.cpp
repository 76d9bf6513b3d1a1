#include "cli.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace kithara::examples {

void add_common_options(CLI::App& app, common_options& o) {
    app.add_option("url", o.url, "URL to play (none: the built-in demo)");
    app.add_option("--out", o.out, "where the PCM goes: FILE, - (stdout) or null")
        ->capture_default_str();
    app.add_option_function<std::string>(
           "--format", [&o](const std::string& s) { o.format = parse_sample_format(s).value(); },
           "wav (float32), f32le or s16le (raw, interleaved)")
        ->check(CLI::IsMember({"wav", "f32le", "s16le"}))
        ->default_str("wav");
    app.add_option("--rate", o.rate, "output sample rate in Hz (default: the source's)")
        ->check(CLI::Range(1000u, 768000u));
    app.add_option("--channels", o.channels, "output channels (default: the source's)")
        ->check(CLI::Range(1u, 32u));
    app.add_option("--seek", o.seek, "start at this time, in seconds")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--duration", o.duration, "stop after this many seconds of output")
        ->check(CLI::PositiveNumber);
    app.add_option("--cache-dir", o.cache_dir, "the cache directory");
    app.add_flag("--offline", o.offline, "never touch the network; play from the cache");
    app.add_flag("--realtime", o.realtime, "pace the output like a sound card");
    app.add_option("--stats-json", o.stats_json, "write run statistics as JSON to FILE (or -)");
    auto* quiet = app.add_flag("-q,--quiet", o.quiet, "no progress line, no summary");
    app.add_flag("-v,--verbose", o.verbose, "events with their times on stderr")->excludes(quiet);
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                      const common_options& o) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);  // prints the help, 0
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "%s: %s\nRun with --help for the options.\n", app.get_name().c_str(),
                     e.what());
        return exit_usage;
    }
    if (o.stats_json == "-" && o.out == "-") {
        std::fprintf(stderr, "%s: --stats-json - and --out - both want stdout\n",
                     app.get_name().c_str());
        return exit_usage;
    }
    return std::nullopt;
}

std::string default_cache_dir() {
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/kithara";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/kithara";
    return (std::filesystem::temp_directory_path() / "kithara-cache").string();
}

}  // namespace kithara::examples
