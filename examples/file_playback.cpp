// file_playback: plays a progressive HTTP file (MP3/M4A/FLAC/Opus/WAV...) through kithara::file
// and kithara::decode while it downloads into a persistent cache.
//
//   file_playback [URL] [--out FILE|-|null] [--rate HZ] [--channels N] [--seek SECONDS]
//                 [--cache-dir DIR] [--offline] [--quiet]
//
// --out FILE writes a float32 WAV, `-` streams a WAV to stdout (pipe into aplay/ffplay), `null`
// (the default) discards the PCM. With no URL it plays a built-in demo: a 12 s track generated
// in-process, served on 127.0.0.1 by the project's loopback test server (no internet needed).
// Progress goes to stderr when it is a terminal; a summary (time to first sample, realtime
// factor, bytes fetched vs served from cache) ends the run. Any failure exits non-zero.
#include <kithara/assets/asset_store.hpp>
#include <kithara/decode/decoder.hpp>
#include <kithara/file/file_source.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/blocking_pool.hpp>
#include <kithara/worker/io_runtime.hpp>

#include "test_server.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <numbers>
#include <optional>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
const clock_type::time_point process_start = clock_type::now();

struct args {
    std::string url;
    std::string out = "null";
    std::uint32_t rate = 0;
    std::uint32_t channels = 0;
    std::optional<double> seek;
    std::string cache_dir;
    bool offline = false;
    unsigned max_requests = 0;  // 0: kithara::file's default
    bool quiet = false;
    bool verbose = false;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "file_playback: %s\nusage: file_playback [URL] [--out FILE|-|null] [--rate HZ] "
                 "[--channels N] [--seek SECONDS] [--cache-dir DIR] [--offline] [--max-requests N] "
                 "[--quiet] "
                 "[--verbose]\n",
                 why);
    std::exit(2);
}

args parse(int argc, char** argv) {
    args a;
    for (int i = 1; i < argc; ++i) {
        std::string s = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value for " + s).c_str());
            return argv[++i];
        };
        if (s == "--out") {
            a.out = value();
        } else if (s == "--rate") {
            a.rate = static_cast<std::uint32_t>(std::stoul(value()));
        } else if (s == "--channels") {
            a.channels = static_cast<std::uint32_t>(std::stoul(value()));
        } else if (s == "--seek") {
            a.seek = std::stod(value());
        } else if (s == "--cache-dir") {
            a.cache_dir = value();
        } else if (s == "--offline") {
            a.offline = true;
        } else if (s == "--max-requests") {
            a.max_requests = static_cast<unsigned>(std::stoul(value()));
        } else if (s == "--verbose") {
            a.verbose = true;
        } else if (s == "--quiet") {
            a.quiet = true;
        } else if (s == "-h" || s == "--help") {
            usage("help");
        } else if (!s.empty() && s[0] == '-') {
            usage(("unknown option " + s).c_str());
        } else if (a.url.empty()) {
            a.url = s;
        } else {
            usage("more than one URL");
        }
    }
    return a;
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

// A float32 WAV writer; sizes are patched at the end when the output can seek.
class wav_out {
public:
    explicit wav_out(std::FILE* f) : f_(f) {}
    bool header(std::uint32_t rate, std::uint32_t channels) {
        rate_ = rate;
        channels_ = channels;
        return write_header(0xFFFFFFFFu - 36);
    }
    bool write(const float* s, std::size_t n) {
        bytes_ += n * sizeof(float);
        return std::fwrite(s, sizeof(float), n, f_) == n;
    }
    bool finish() {
        if (std::fseek(f_, 0, SEEK_SET) == 0) {
            if (!write_header(
                    static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes_, 0xFFFFFFF0u))))
                return false;
        }
        return std::fflush(f_) == 0;
    }

private:
    bool write_header(std::uint32_t data_bytes) {
        unsigned char h[58] = {};
        auto p32 = [&](int at, std::uint32_t v) {
            for (int i = 0; i < 4; ++i) h[at + i] = static_cast<unsigned char>(v >> (8 * i));
        };
        auto p16 = [&](int at, std::uint32_t v) {
            h[at] = static_cast<unsigned char>(v);
            h[at + 1] = static_cast<unsigned char>(v >> 8);
        };
        std::memcpy(h, "RIFF", 4);
        p32(4, data_bytes + 50);
        std::memcpy(h + 8, "WAVEfmt ", 8);
        p32(16, 18);
        p16(20, 3);  // IEEE float
        p16(22, channels_);
        p32(24, rate_);
        p32(28, rate_ * channels_ * 4);
        p16(32, channels_ * 4);
        p16(34, 32);
        p16(36, 0);
        std::memcpy(h + 38, "fact", 4);
        p32(42, 4);
        p32(46, channels_ == 0 ? 0 : data_bytes / (channels_ * 4));
        std::memcpy(h + 50, "data", 4);
        p32(54, data_bytes);
        return std::fwrite(h, 1, sizeof h, f_) == sizeof h;
    }
    std::FILE* f_;
    std::uint32_t rate_ = 0;
    std::uint32_t channels_ = 0;
    std::uint64_t bytes_ = 0;
};

double secs(clock_type::duration d) {
    return std::chrono::duration<double>(d).count();
}

std::string default_cache_dir() {
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/kithara";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/kithara";
    return (std::filesystem::temp_directory_path() / "kithara-cache").string();
}

}  // namespace

int main(int argc, char** argv) {
    args a = parse(argc, argv);
    const bool tty = ::isatty(2) != 0 && !a.quiet;

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
    if (a.cache_dir.empty()) a.cache_dir = default_cache_dir();

    kithara::worker::io_runtime io({.threads = 1, .name = "kithara-io"});
    if (auto r = io.start(); !r) {
        std::fprintf(stderr, "file_playback: %s\n", r.error().message().c_str());
        return 1;
    }
    // Disk work that must not run on the io thread: durability flushes, metadata writes, cache
    // eviction and index rewrites.
    kithara::worker::blocking_pool background(
        {.threads = 1, .max_queued = 64, .name = "kithara-bg"});
    int rc = 0;
    {
        kithara::assets::store_options so;
        so.background = [&background](std::function<void()> task) {
            return background.try_submit([t = std::move(task)] { t(); }).has_value();
        };
        auto store = kithara::assets::asset_store::open(a.cache_dir, so);
        if (!store) {
            std::fprintf(stderr, "file_playback: cache %s: %s\n", a.cache_dir.c_str(),
                         store.error().message().c_str());
            return 1;
        }
        kithara::net::client client(io.executor());
        kithara::file::options fo;
        fo.background = &background;
        fo.offline = a.offline;
        if (a.max_requests > 0) fo.max_requests = a.max_requests;
        if (a.verbose) {
            fo.on_event = [](const kithara::file::event& e) {
                static const char* names[] = {"opened_cached", "stale_served", "request",
                                              "progress",      "invalidated",  "complete",
                                              "error"};
                std::fprintf(stderr, "[%8.1f ms] %s offset %llu cached %llu in %zu ranges\n",
                             secs(clock_type::now() - process_start) * 1e3,
                             names[static_cast<int>(e.kind)],
                             static_cast<unsigned long long>(e.offset),
                             static_cast<unsigned long long>(e.downloaded), e.ranges);
            };
        }
        auto src = kithara::file::open(a.url, *store, client, fo);
        if (!src) {
            std::fprintf(stderr, "file_playback: open: %s\n", src.error().message().c_str());
            return 1;
        }
        kithara::decode::decoder_options dopt;
        dopt.sample_rate = a.rate;
        dopt.channels = a.channels;
        dopt.start_chunk_frames = 1024;  // start playing as soon as ~20 ms of audio is decoded
        if (a.verbose)
            std::fprintf(stderr, "[%8.1f ms] opened (container hint '%s')\n",
                         secs(clock_type::now() - process_start) * 1e3,
                         (*src)->hints().container.c_str());
        auto dec = kithara::decode::decoder::open(*src, dopt);
        if (a.verbose && dec)
            std::fprintf(stderr, "[%8.1f ms] decoder open\n",
                         secs(clock_type::now() - process_start) * 1e3);
        if (!dec) {
            std::fprintf(stderr, "file_playback: decode: %s\n", dec.error().message().c_str());
            return 1;
        }
        if (a.seek) {
            auto ns = std::chrono::nanoseconds(static_cast<std::int64_t>(*a.seek * 1e9));
            if (auto r = (*dec)->seek(ns); !r) {
                std::fprintf(stderr, "file_playback: seek: %s\n", r.error().message().c_str());
                return 1;
            }
        }
        const auto& info = (*dec)->info();
        std::FILE* out = nullptr;
        if (a.out == "-") {
            out = stdout;
        } else if (a.out != "null") {
            out = std::fopen(a.out.c_str(), "wb");
            if (!out) {
                std::fprintf(stderr, "file_playback: cannot write %s\n", a.out.c_str());
                return 1;
            }
        }
        std::optional<wav_out> wav;
        if (out) {
            wav.emplace(out);
            wav->header(info.output_rate, info.output_channels);
        }

        std::optional<clock_type::time_point> first_sample;
        std::uint64_t frames = 0;
        std::uint32_t out_rate = info.output_rate;
        auto last_progress = clock_type::now();
        const double duration = info.duration.count() > 0 ? secs(info.duration) : 0;
        for (;;) {
            auto c = (*dec)->next();
            if (!c) {
                std::fprintf(stderr, "%sfile_playback: %s\n", tty ? "\n" : "",
                             c.error().message().c_str());
                rc = 1;
                break;
            }
            if (!*c) break;
            if (!first_sample) first_sample = clock_type::now();
            const auto& ch = **c;
            frames += ch.frames();
            out_rate = ch.sample_rate;
            if (wav && !wav->write(ch.samples.data(), ch.samples.size())) {
                std::fprintf(stderr, "file_playback: write failed\n");
                rc = 1;
                break;
            }
            if (tty && clock_type::now() - last_progress > std::chrono::milliseconds(200)) {
                last_progress = clock_type::now();
                const double pos =
                    secs(ch.start) + static_cast<double>(ch.frames()) / ch.sample_rate;
                const auto len = (*src)->length();
                const double pct = len && *len > 0
                                       ? 100.0 * static_cast<double>((*src)->cached_bytes()) /
                                             static_cast<double>(*len)
                                       : 0;
                const double el = secs(clock_type::now() - process_start);
                std::fprintf(stderr, "\r%7.1f / %.1f s  downloaded %5.1f%%  %7.1f KiB/s   ", pos,
                             duration, pct,
                             static_cast<double>((*src)->stats().bytes_fetched) / 1024.0 / el);
            }
        }
        if (wav && !wav->finish()) rc = 1;
        if (out && out != stdout) std::fclose(out);
        const double wall = secs(clock_type::now() - process_start);
        const double audio = out_rate ? static_cast<double>(frames) / out_rate : 0;
        const auto st = (*src)->stats();
        if (!a.quiet) {
            std::fprintf(
                stderr,
                "%s%s: %s %u Hz %u ch -> %u Hz %u ch, %.2f s of audio\n"
                "  time to first sample %.1f ms, wall %.3f s, realtime x%.1f\n"
                "  bytes fetched %llu in %llu requests (%llu on demand), served from "
                "cache %llu\n",
                tty ? "\n" : "", rc == 0 ? "done" : "FAILED", info.codec.c_str(), info.source_rate,
                info.source_channels, info.output_rate, info.output_channels, audio,
                first_sample ? secs(*first_sample - process_start) * 1e3 : -1.0, wall,
                wall > 0 ? audio / wall : 0.0, static_cast<unsigned long long>(st.bytes_fetched),
                static_cast<unsigned long long>(st.requests),
                static_cast<unsigned long long>(st.demand_requests),
                static_cast<unsigned long long>(st.cached_at_open));
        }
        dec->reset();
        src->reset();
    }
    io.shutdown();
    if (temp_cache) {
        std::error_code ec;
        std::filesystem::remove_all(a.cache_dir, ec);
    }
    return rc;
}
