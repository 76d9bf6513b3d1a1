// kithara_serve: serves a directory on 127.0.0.1 with the loopback test server.
//
//   kithara_serve <dir> [--rate BYTES_PER_S] [--port-file FILE] [--link-rate BITS_PER_S]
//                 [--schedule "0:2000000,30:250000,60:2000000"] [--time-scale X]
//                 [--noise PERCENT] [--noise-seed N] [--noise-period S] [--tick-ms MS]
//                 [--log FILE]
//
// --rate paces each connection on its own (bytes/s). --link-rate / --schedule make one shared
// link for every connection (bits/s, suffixes k and M allowed: 1M = 1 Mbit/s); the schedule is
// "seconds:bits_per_second" steps, its times divided by --time-scale; --noise draws a factor in
// [1 - p %, 1 + p %] per --noise-period link seconds from --noise-seed. --log writes the request
// log (one line per request: path, range, status, bytes, start and end in ms since the server
// started) when the server stops.
// Prints the port on stdout (one line), then serves until SIGINT or SIGTERM.
#include "test_server.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace {

constexpr const char* usage =
    "usage: kithara_serve <dir> [--rate BYTES_PER_S] [--port-file FILE]\n"
    "       [--link-rate BITS_PER_S] [--schedule \"S:BITS_PER_S,...\"] [--time-scale X]\n"
    "       [--noise PERCENT] [--noise-seed N] [--noise-period S] [--tick-ms MS] [--log FILE]\n";

// "1000000", "1M", "250k" -> bits/s; nullopt on anything else.
std::optional<double> parse_bits(std::string_view s) {
    double mult = 1;
    if (!s.empty() && (s.back() == 'k' || s.back() == 'K')) mult = 1e3;
    if (!s.empty() && (s.back() == 'm' || s.back() == 'M')) mult = 1e6;
    if (mult != 1) s.remove_suffix(1);
    std::string str(s);
    char* end = nullptr;
    double v = std::strtod(str.c_str(), &end);
    if (str.empty() || end != str.c_str() + str.size() || v < 0) return std::nullopt;
    return v * mult;
}

std::optional<double> parse_number(const std::string& s) {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || v < 0) return std::nullopt;
    return v;
}

std::uint64_t bytes_per_second(double bits) {
    return static_cast<std::uint64_t>(bits / 8 + 0.5);
}

int fail(const std::string& what) {
    std::cerr << "kithara_serve: " << what << "\n" << usage;
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || (argc % 2) != 0) {
        std::cerr << usage;
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before the server thread starts

    const auto t0 = std::chrono::steady_clock::now();
    kithara::test::http_server server{std::filesystem::path(argv[1])};
    kithara::test::link_options link;
    std::string log_file;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--rate") {
            auto v = parse_number(value);
            if (!v) return fail("--rate: not a number of bytes/s: " + value);
            server.set_rate(static_cast<std::uint64_t>(*v));
        } else if (flag == "--port-file") {
            std::ofstream(value) << server.port() << '\n';
        } else if (flag == "--link-rate") {
            auto v = parse_bits(value);
            if (!v || *v == 0) return fail("--link-rate: not a rate in bits/s: " + value);
            link.schedule = {{0, bytes_per_second(*v)}};
        } else if (flag == "--schedule") {
            link.schedule.clear();
            std::istringstream in(value);
            std::string step;
            while (std::getline(in, step, ',')) {
                auto colon = step.find(':');
                std::optional<double> at, bits;
                if (colon != std::string::npos) {
                    at = parse_number(step.substr(0, colon));
                    bits = parse_bits(std::string_view(step).substr(colon + 1));
                }
                if (!at || !bits || *bits == 0)
                    return fail("--schedule: step '" + step + "' is not SECONDS:BITS_PER_S");
                link.schedule.push_back({*at, bytes_per_second(*bits)});
            }
            if (link.schedule.empty()) return fail("--schedule: no steps");
        } else if (flag == "--time-scale") {
            auto v = parse_number(value);
            if (!v || *v == 0) return fail("--time-scale: not a positive number: " + value);
            link.time_scale = *v;
        } else if (flag == "--noise") {
            auto v = parse_number(value);
            if (!v || *v >= 100) return fail("--noise: not a percentage below 100: " + value);
            link.noise = *v / 100;
        } else if (flag == "--noise-seed") {
            auto v = parse_number(value);
            if (!v) return fail("--noise-seed: not a number: " + value);
            link.seed = static_cast<std::uint64_t>(*v);
        } else if (flag == "--noise-period") {
            auto v = parse_number(value);
            if (!v || *v == 0) return fail("--noise-period: not a positive number: " + value);
            link.noise_period = *v;
        } else if (flag == "--tick-ms") {
            auto v = parse_number(value);
            if (!v || *v < 1) return fail("--tick-ms: not a number >= 1: " + value);
            link.tick = std::chrono::milliseconds(static_cast<long>(*v));
        } else if (flag == "--log") {
            log_file = value;
        } else {
            return fail("unknown flag " + flag);
        }
    }
    if (!link.schedule.empty()) server.set_link(link);
    std::cout << server.port() << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    if (!log_file.empty()) {
        std::ofstream out(log_file);
        auto ms = [t0](std::chrono::steady_clock::time_point t) {
            return t == std::chrono::steady_clock::time_point{}
                       ? -1.0
                       : std::chrono::duration<double, std::milli>(t - t0).count();
        };
        for (const auto& e : server.log())
            out << e.method << ' ' << e.path << " range=" << (e.range.empty() ? "-" : e.range)
                << " status=" << e.status << " bytes=" << e.bytes_sent
                << " start_ms=" << ms(e.start) << " end_ms=" << ms(e.end)
                << " complete=" << e.complete << " conn=" << e.connection_id << '\n';
    }
    return 0;
}
