// kithara_serve: serves a directory on 127.0.0.1 with the loopback test server.
//
//   kithara_serve <dir> [--rate BYTES_PER_S] [--port-file FILE] [--link-rate BITS_PER_S]
//                 [--schedule "0:2000000,30:250000,60:2000000"] [--time-scale X]
//                 [--noise PERCENT] [--noise-seed N] [--noise-period S] [--tick-ms MS]
//                 [--log FILE]
//                 [--live /PATH.m3u8=VOD.m3u8 ...] [--live-window N] [--live-time-scale X]
//                 [--live-ll-parts N] [--live-end-after N] [--live-type live|event]
//                 [--live-media-sequence N] [--live-block-timeout-ms MS]
//                 [--drop-every N] [--status-every N]
//
// --rate paces each connection on its own (bytes/s). --link-rate / --schedule make one shared
// link for every connection (bits/s, suffixes k and M allowed: 1M = 1 Mbit/s); the schedule is
// "seconds:bits_per_second" steps, its times divided by --time-scale; --noise draws a factor in
// [1 - p %, 1 + p %] per --noise-period link seconds from --noise-seed. --log writes the request
// log (one line per request: path, range, status, bytes, start and end in ms since the server
// started) when the server stops.
// --drop-every N closes the connection 8 KiB into the body of every N-th response (server-wide);
// --status-every N answers 503 to every N-th request (faults for soak runs).
// --live serves a live HLS media playlist at /PATH.m3u8 (segments /PATH_<msn>.<ext> beside it)
// whose window advances over the segments of the VOD media playlist VOD.m3u8 in a loop, with a
// discontinuity at each wrap (test_server_live.hpp); repeat it for more streams. The --live-*
// flags apply to all of them: --live-window segments (default 6), --live-time-scale media
// seconds per wall second (default 1), --live-ll-parts N cuts each segment into N LL-HLS parts
// with blocking playlist reload, --live-end-after N ends the stream with EXT-X-ENDLIST after N
// segments, --live-type event keeps every segment (EXT-X-PLAYLIST-TYPE:EVENT).
//   kithara_serve /tmp/empty --live /live/radio.m3u8=build/dev/tests/media/hls_fixtures/ts_aac/index.m3u8
//   ffmpeg -i http://127.0.0.1:PORT/live/radio.m3u8 -f null -
// Prints the port on stdout (one line), then serves until SIGINT or SIGTERM.
#include "test_server.hpp"
#include "test_server_live.hpp"

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
#include <vector>

namespace {

constexpr const char* usage =
    "usage: kithara_serve <dir> [--rate BYTES_PER_S] [--port-file FILE]\n"
    "       [--link-rate BITS_PER_S] [--schedule \"S:BITS_PER_S,...\"] [--time-scale X]\n"
    "       [--noise PERCENT] [--noise-seed N] [--noise-period S] [--tick-ms MS] [--log FILE]\n"
    "       [--live /PATH.m3u8=VOD.m3u8 ...] [--live-window N] [--live-time-scale X]\n"
    "       [--live-ll-parts N] [--live-end-after N] [--live-type live|event]\n"
    "       [--live-media-sequence N] [--live-block-timeout-ms MS]\n"
    "       [--drop-every N] [--status-every N]\n";

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
    std::string log_file, port_file;
    std::vector<std::pair<std::string, std::string>> lives;  // (served path, VOD playlist)
    kithara::test::live_stream_options live;
    auto count = [](const std::string& v) -> std::optional<std::uint64_t> {
        auto n = parse_number(v);
        if (!n || *n != static_cast<double>(static_cast<std::uint64_t>(*n))) return std::nullopt;
        return static_cast<std::uint64_t>(*n);
    };
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--rate") {
            auto v = parse_number(value);
            if (!v) return fail("--rate: not a number of bytes/s: " + value);
            server.set_rate(static_cast<std::uint64_t>(*v));
        } else if (flag == "--port-file") {
            port_file = value;  // written once the live streams are up
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
        } else if (flag == "--drop-every") {
            auto n = count(value);
            if (!n || *n == 0) return fail("--drop-every: not a count >= 1: " + value);
            kithara::test::fault f;
            f.drop_after = 8192;
            server.add_fault_every(static_cast<int>(*n), f);
        } else if (flag == "--status-every") {
            auto n = count(value);
            if (!n || *n == 0) return fail("--status-every: not a count >= 1: " + value);
            kithara::test::fault f;
            f.status = 503;
            server.add_fault_every(static_cast<int>(*n), f);
        } else if (flag == "--live") {
            const auto eq = value.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
                return fail("--live: not /PATH.m3u8=VOD.m3u8: " + value);
            lives.emplace_back(value.substr(0, eq), value.substr(eq + 1));
        } else if (flag == "--live-window") {
            auto v = count(value);
            if (!v || *v == 0) return fail("--live-window: not a count >= 1: " + value);
            live.window = static_cast<std::size_t>(*v);
        } else if (flag == "--live-time-scale") {
            auto v = parse_number(value);
            if (!v || *v == 0) return fail("--live-time-scale: not a positive number: " + value);
            live.time_scale = *v;
        } else if (flag == "--live-ll-parts") {
            auto v = count(value);
            if (!v || *v > 100) return fail("--live-ll-parts: not a count up to 100: " + value);
            live.parts_per_segment = static_cast<int>(*v);
        } else if (flag == "--live-end-after") {
            auto v = count(value);
            if (!v || *v == 0) return fail("--live-end-after: not a count >= 1: " + value);
            live.end_after = *v;
        } else if (flag == "--live-type") {
            if (value != "live" && value != "event")
                return fail("--live-type: neither live nor event: " + value);
            live.type = value == "event" ? kithara::test::live_playlist_type::event
                                         : kithara::test::live_playlist_type::live;
        } else if (flag == "--live-media-sequence") {
            auto v = count(value);
            if (!v) return fail("--live-media-sequence: not a count: " + value);
            live.media_sequence = *v;
        } else if (flag == "--live-block-timeout-ms") {
            auto v = count(value);
            if (!v || *v == 0) return fail("--live-block-timeout-ms: not a count >= 1: " + value);
            live.block_timeout = std::chrono::milliseconds(static_cast<long>(*v));
        } else {
            return fail("unknown flag " + flag);
        }
    }
    if (!link.schedule.empty()) server.set_link(link);
    std::vector<std::unique_ptr<kithara::test::live_stream>> streams;  // before the server dies
    for (const auto& [path, vod] : lives) {
        std::string error;
        auto source = kithara::test::live_source::from_vod_playlist(vod, error);
        if (!source) return fail("--live: " + error);
        auto o = live;
        o.path = path;
        o.source = std::move(*source);
        auto stream = kithara::test::live_stream::create(server, std::move(o), error);
        if (!stream) return fail("--live: " + error);
        streams.push_back(std::move(stream));
    }
    if (!port_file.empty()) std::ofstream(port_file) << server.port() << '\n';
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
