// file_playback: plays a progressive HTTP file (MP3/M4A/FLAC/Opus/WAV...) through kithara::file
// and kithara::decode while it downloads into a persistent cache.
//
//   file_playback [URL] [--out FILE|-|null] [--format wav|f32le|s16le] [--rate HZ]
//                 [--channels N] [--seek S] [--duration S] [--cache-dir DIR] [--offline]
//                 [--max-requests N] [--realtime] [--stats-json FILE] [--verbose] [--quiet]
//
// --out FILE writes the PCM, `-` streams it to stdout, `null` (the default) discards it.
// --format wav (default) is a float32 WAV; f32le and s16le are raw interleaved samples, e.g.
//   file_playback URL --out - --format s16le --rate 48000 --channels 2 | aplay -f S16_LE -c2
//   -r48000
// --duration S stops after exactly round(S * rate) frames (fewer available: exit 1).
// --realtime paces the output like a sound card. With no URL it plays a built-in demo: a 12 s
// track generated in-process, served on 127.0.0.1 by the project's loopback test server (no
// internet needed). Progress goes to stderr when it is a terminal; a summary (time to first
// sample, realtime factor, bytes fetched vs served from cache) ends the run, and --stats-json
// writes the same as JSON. Exit 0: ok; 1: failure or incomplete audio; 2: usage error.
#include <kithara/assets/asset_store.hpp>
#include <kithara/decode/decoder.hpp>
#include <kithara/file/file_source.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/blocking_pool.hpp>
#include <kithara/worker/io_runtime.hpp>

#include "support/cli.hpp"
#include "support/output_sink.hpp"
#include "support/pacer.hpp"
#include "support/progress.hpp"
#include "support/run_stats.hpp"
#include "test_server.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <numbers>
#include <optional>
#include <span>
#include <string>

namespace ex = kithara::examples;

namespace {

using clock_type = std::chrono::steady_clock;
const clock_type::time_point process_start = clock_type::now();

double secs(clock_type::duration d) {
    return std::chrono::duration<double>(d).count();
}

double ms_since_start() {
    return secs(clock_type::now() - process_start) * 1e3;
}

// The demo track: 12 s of a little arpeggio with a soft envelope, 44.1 kHz stereo 16-bit WAV.
std::string demo_track() {
    constexpr std::uint32_t rate = 44100;
    constexpr std::uint32_t seconds = 12;
    constexpr std::uint32_t frames = rate * seconds;
    std::string wav(44 + std::size_t{frames} * 4, '\0');
    auto put32 = [&](std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i)
            wav[at + static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
    };
    auto put16 = [&](std::size_t at, std::uint16_t v) {
        wav[at] = static_cast<char>(v & 0xff);
        wav[at + 1] = static_cast<char>(v >> 8);
    };
    std::memcpy(wav.data(), "RIFF", 4);
    put32(4, static_cast<std::uint32_t>(wav.size() - 8));
    std::memcpy(wav.data() + 8, "WAVEfmt ", 8);
    put32(16, 16);
    put16(20, 1);
    put16(22, 2);
    put32(24, rate);
    put32(28, rate * 4);
    put16(32, 4);
    put16(34, 16);
    std::memcpy(wav.data() + 36, "data", 4);
    put32(40, frames * 4);
    const double notes[] = {261.63, 329.63, 392.00, 523.25, 392.00, 329.63};
    for (std::uint32_t n = 0; n < frames; ++n) {
        const double t = static_cast<double>(n) / rate;
        const auto step = static_cast<std::size_t>(t * 4);  // 4 notes per second
        const double f = notes[step % 6];
        const double in_note = t * 4 - static_cast<double>(step);
        const double env = std::exp(-3.0 * in_note) * 0.4;
        const double l = env * std::sin(2 * std::numbers::pi * f * t);
        const double r = env * std::sin(2 * std::numbers::pi * f * 1.5 * t);
        put16(44 + std::size_t{n} * 4,
              static_cast<std::uint16_t>(static_cast<std::int16_t>(l * 32767)));
        put16(46 + std::size_t{n} * 4,
              static_cast<std::uint16_t>(static_cast<std::int16_t>(r * 32767)));
    }
    return wav;
}

}  // namespace

int main(int argc, char** argv) {
    ex::common_options a;
    unsigned max_requests = 0;  // 0: kithara::file's default
    CLI::App app{"Plays a progressive HTTP file through kithara::file and kithara::decode.",
                 "file_playback"};
    ex::add_common_options(app, a);
    app.add_option("--max-requests", max_requests, "concurrent requests per file")
        ->check(CLI::Range(1u, 64u));
    if (auto rc = ex::parse_command_line(app, argc, argv, a)) return *rc;

    ex::run_stats st;
    st.tool = "file_playback";
    std::optional<kithara::test::http_server> demo;
    bool temp_cache = false;
    if (a.url.empty()) {
        demo.emplace();
        demo->put("/demo.wav", demo_track());
        a.url = demo->url("/demo.wav");
        if (!a.quiet)
            std::fprintf(stderr, "demo: serving a generated 12 s track at %s\n", a.url.c_str());
        if (a.cache_dir.empty()) {
            a.cache_dir = (std::filesystem::temp_directory_path() /
                           ("kithara-demo-" + std::to_string(::getpid())))
                              .string();
            temp_cache = true;
        }
    }
    if (a.cache_dir.empty()) a.cache_dir = ex::default_cache_dir();
    st.url = a.url;

    // Every way out after this point reports: the summary, the JSON, the exit code.
    auto finish = [&](std::string error) {
        st.wall_s = secs(clock_type::now() - process_start);
        st.ok = error.empty();
        st.error = std::move(error);
        if (!st.ok) std::fprintf(stderr, "file_playback: %s\n", st.error.c_str());
        if (!a.quiet) ex::print_summary(st);
        int rc = st.ok ? ex::exit_ok : ex::exit_failure;
        if (!a.stats_json.empty()) {
            std::string err;
            if (!ex::write_stats_json(a.stats_json, st, &err)) {
                std::fprintf(stderr, "file_playback: --stats-json: %s\n", err.c_str());
                rc = ex::exit_failure;
            }
        }
        return rc;
    };

    kithara::worker::io_runtime io({.threads = 1, .name = "kithara-io"});
    if (auto r = io.start(); !r) return finish(r.error().message());
    // Disk work that must not run on the io thread: durability flushes, metadata writes, cache
    // eviction and index rewrites.
    kithara::worker::blocking_pool background(
        {.threads = 1, .max_queued = 64, .name = "kithara-bg"});
    std::string error;
    {
        kithara::assets::store_options so;
        so.background = [&background](std::function<void()> task) {
            return background.try_submit([t = std::move(task)] { t(); }).has_value();
        };
        auto store = kithara::assets::asset_store::open(a.cache_dir, so);
        if (!store) return finish("cache " + a.cache_dir + ": " + store.error().message());
        kithara::net::client client(io.executor());
        kithara::file::options fo;
        fo.background = &background;
        fo.offline = a.offline;
        if (max_requests > 0) fo.max_requests = max_requests;
        if (a.verbose) {
            fo.on_event = [](const kithara::file::event& e) {
                static const char* names[] = {"opened_cached", "stale_served", "request",
                                              "progress",      "invalidated",  "complete",
                                              "error"};
                std::fprintf(stderr, "[%8.1f ms] %s offset %llu cached %llu in %zu ranges\n",
                             ms_since_start(), names[static_cast<int>(e.kind)],
                             static_cast<unsigned long long>(e.offset),
                             static_cast<unsigned long long>(e.downloaded), e.ranges);
            };
        }
        auto src = kithara::file::open(a.url, *store, client, fo);
        if (!src) return finish("open: " + src.error().message());
        kithara::decode::decoder_options dopt;
        dopt.sample_rate = a.rate;
        dopt.channels = a.channels;
        dopt.start_chunk_frames = 1024;  // start playing as soon as ~20 ms of audio is decoded
        if (a.verbose)
            std::fprintf(stderr, "[%8.1f ms] opened (container hint '%s')\n", ms_since_start(),
                         (*src)->hints().container.c_str());
        auto fill_source_stats = [&] {
            const auto s = (*src)->stats();
            st.bytes_network = s.bytes_fetched;
            st.bytes_cache = s.cached_at_open;
            st.requests = s.requests;
            st.extra["demand_requests"] = s.demand_requests;
        };
        auto dec = kithara::decode::decoder::open(*src, dopt);
        if (!dec) {
            fill_source_stats();
            return finish("decode: " + dec.error().message());
        }
        if (a.verbose) std::fprintf(stderr, "[%8.1f ms] decoder open\n", ms_since_start());
        const auto& info = (*dec)->info();
        st.codec = info.codec;
        st.source_rate = info.source_rate;
        st.source_channels = info.source_channels;
        st.rate = info.output_rate;
        st.channels = info.output_channels;
        st.extra["container"] = info.container;
        st.extra["format"] = ex::to_string(a.format);
        st.extra["out"] = a.out;
        if (a.seek) {
            auto ns = std::chrono::nanoseconds(static_cast<std::int64_t>(*a.seek * 1e9));
            if (auto r = (*dec)->seek(ns); !r) {
                fill_source_stats();
                return finish("seek: " + r.error().message());
            }
        }
        auto sink = ex::output_sink::open(a.out, a.format, &error);
        if (!sink) return finish(error);
        if (!sink->begin(info.output_rate, info.output_channels)) return finish(sink->error());

        // --duration: exactly this many frames at the output rate.
        const bool limited = a.duration.has_value();
        const std::uint64_t limit =
            limited ? static_cast<std::uint64_t>(std::llround(*a.duration * info.output_rate))
                    : std::numeric_limits<std::uint64_t>::max();
        std::optional<ex::pacer> pace;
        if (a.realtime) pace.emplace(info.output_rate);
        ex::progress_line progress(!a.quiet);
        const double duration = info.duration.count() > 0 ? secs(info.duration) : 0;
        double pos = a.seek.value_or(0);
        for (;;) {
            if (st.frames >= limit) break;
            auto c = (*dec)->next();
            if (!c) {
                error = c.error().message();
                break;
            }
            if (!*c) {
                if (limited)
                    error = "the stream ended after " + std::to_string(st.audio_s()) +
                            " s of output, before --duration " + std::to_string(*a.duration) + " s";
                break;
            }
            const auto& ch = **c;
            if (!st.time_to_first_sample_ms) st.time_to_first_sample_ms = ms_since_start();
            std::size_t frames = ch.frames();
            frames = static_cast<std::size_t>(std::min<std::uint64_t>(frames, limit - st.frames));
            if (!sink->discards() && (ch.sample_rate != st.rate || ch.channels != st.channels)) {
                // The WAV header and raw consumers assume one format: say so rather than write
                // a stream whose meaning changes silently.
                error = "the output format changed mid-stream (" + std::to_string(ch.sample_rate) +
                        " Hz " + std::to_string(ch.channels) +
                        " ch); pass --rate and --channels to keep it fixed";
                break;
            }
            if (pace) pace->wait(frames);
            if (!sink->write(std::span<const float>(ch.samples.data(), frames * ch.channels))) {
                error = sink->error();
                break;
            }
            st.frames += frames;
            pos = secs(ch.start) + static_cast<double>(frames) / ch.sample_rate;
            if (progress.due()) {
                const auto len = (*src)->length();
                const double pct = len && *len > 0
                                       ? 100.0 * static_cast<double>((*src)->cached_bytes()) /
                                             static_cast<double>(*len)
                                       : 0;
                const double el = secs(clock_type::now() - process_start);
                char line[160];
                std::snprintf(line, sizeof line, "%7.1f / %.1f s  downloaded %5.1f%%  %7.1f KiB/s",
                              pos, duration, pct,
                              static_cast<double>((*src)->stats().bytes_fetched) / 1024.0 / el);
                progress.show(line);
            }
        }
        progress.done();
        if (!sink->finish() && error.empty()) error = sink->error();
        if (pace) st.output_underruns = pace->underruns();
        fill_source_stats();
        st.extra["end_position_s"] = pos;
        dec->reset();
        src->reset();
    }
    io.shutdown();
    if (temp_cache) {
        std::error_code ec;
        std::filesystem::remove_all(a.cache_dir, ec);
    }
    return finish(error);
}
