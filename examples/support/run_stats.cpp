#include "run_stats.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace kithara::examples {

nlohmann::json to_json(const run_stats& s) {
    nlohmann::json j = {
        {"tool", s.tool},
        {"url", s.url},
        {"ok", s.ok},
        {"error", s.ok ? nlohmann::json(nullptr) : nlohmann::json(s.error)},
        {"codec", s.codec},
        {"source_rate", s.source_rate},
        {"source_channels", s.source_channels},
        {"rate", s.rate},
        {"channels", s.channels},
        {"frames", s.frames},
        {"audio_s", s.audio_s()},
        {"time_to_first_sample_ms", s.time_to_first_sample_ms
                                        ? nlohmann::json(*s.time_to_first_sample_ms)
                                        : nlohmann::json(nullptr)},
        {"wall_s", s.wall_s},
        {"realtime_factor", s.realtime_factor()},
        {"bytes_network", s.bytes_network},
        {"bytes_cache", s.bytes_cache},
        {"requests", s.requests},
        {"retries", s.retries ? nlohmann::json(*s.retries) : nlohmann::json(nullptr)},
        {"output_underruns", s.output_underruns},
    };
    if (s.extra.is_object()) j.update(s.extra);
    return j;
}

bool write_stats_json(const std::string& path, const run_stats& s, std::string* error) {
    const std::string text = to_json(s).dump(2) + "\n";
    if (path == "-") {
        if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
            std::fflush(stdout) == 0)
            return true;
    } else {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        if (f && f.write(text.data(), static_cast<std::streamsize>(text.size())) && f.flush())
            return true;
    }
    if (error) *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
}

void print_summary(const run_stats& s) {
    std::fprintf(stderr, "%s: %s %u Hz %u ch -> %u Hz %u ch, %.3f s of audio (%llu frames)\n",
                 s.ok ? "done" : "FAILED", s.codec.empty() ? "?" : s.codec.c_str(), s.source_rate,
                 s.source_channels, s.rate, s.channels, s.audio_s(),
                 static_cast<unsigned long long>(s.frames));
    std::fprintf(stderr, "  time to first sample %.1f ms, wall %.3f s, realtime x%.1f\n",
                 s.time_to_first_sample_ms.value_or(-1.0), s.wall_s, s.realtime_factor());
    std::fprintf(stderr, "  bytes from network %llu in %llu requests",
                 static_cast<unsigned long long>(s.bytes_network),
                 static_cast<unsigned long long>(s.requests));
    if (s.retries)
        std::fprintf(stderr, " (%llu retries)", static_cast<unsigned long long>(*s.retries));
    std::fprintf(stderr, ", from cache %llu\n", static_cast<unsigned long long>(s.bytes_cache));
    if (s.output_underruns)
        std::fprintf(stderr, "  realtime output: %llu underruns\n",
                     static_cast<unsigned long long>(s.output_underruns));
}

}  // namespace kithara::examples
