// hls_playback: plays an HLS VOD stream (master or media playlist) through kithara::hls: segments
// downloaded into a persistent cache while they decode to PCM, with adaptive bitrate over a
// master's variants.
//
//   hls_playback [URL] [--out FILE|-|null] [--format wav|f32le|s16le] [--rate HZ] [--channels N]
//                [--variant N|BANDWIDTH] [--abr auto|fixed] [--max-bandwidth BITS_PER_S]
//                [--speed X] [--audio NAME|LANGS] [--list] [--seek S] [--duration S] [--cache-dir DIR]
//                [--max-cache BYTES] [--offline] [--pin] [--gaps-on-error] [--realtime]
//                [--stats-json FILE] [--verbose] [--quiet]
//
// --out FILE writes the PCM, `-` streams it to stdout, `null` (the default) discards it.
// --format wav (default) is a float32 WAV; f32le and s16le are raw interleaved samples, e.g.
//   hls_playback URL --out - --format s16le --rate 48000 --channels 2 | aplay -f S16_LE -c2
//   -r48000
// A master without --variant plays with adaptive bitrate (--abr auto): it starts on the variant a
// persisted estimate fits (else the lowest) and switches at segment boundaries by the measured
// bandwidth and the buffer; --max-bandwidth caps it (bits/s, k or M suffix), --abr fixed stays on
// the starting variant. --variant locks a variant: a number below 1000 is an index into the
// master's variants (as --list prints them), a larger one a BANDWIDTH. --speed X plays X media
// seconds per wall second: the adaptation budgets X times the bitrate and --realtime (output
// paced like a sound card) paces at X times real time. With a variant that changes the sample
// rate, pass --rate to keep one output format (null output needs none). --audio picks the
// alternate audio rendition (EXT-X-MEDIA TYPE=AUDIO; --list shows the groups): a NAME, else
// languages in order of preference (de-AT,en), else the DEFAULT one; every bit-rate tier keeps it.
// --seek S starts at S seconds exactly; --duration S stops after exactly round(S * rate) frames
// (fewer available: exit 1). --pin downloads the chosen variant whole without decoding it
// (hls::pin: the cache asset is pinned, never evicted; a progress bar on a terminal), after which
// --offline plays it with zero requests; a failed --pin leaves what it got pinned and a second
// --pin resumes. --gaps-on-error renders a segment that cannot be downloaded (after the retries)
// as a gap, silence of its duration, instead of ending the run (the summary counts them).
// With no URL it plays a built-in demo: a 59.5 s multi-variant stream (three fMP4 AAC variants
// at 44.1 and 48 kHz, one MPEG-TS) generated at build time with the ffmpeg CLI and served on
// 127.0.0.1 by the project's loopback test server (no internet needed). Progress goes to stderr
// when it is a terminal; a summary (time to first sample, realtime factor, variant, bytes and
// segments from the network vs the cache, requests; switches, aborts, the bandwidth estimate,
// the variant per segment, stalls) ends the run, and --stats-json writes the same as JSON:
// time_to_first_sample_ms (the startup), switches, aborts, estimate_bps, stalls and
// stall_seconds (the stream's: next() waited for the network), stall_events, segment_variants
// ([{time, variant}]: the variant played for each media segment requested), variant_runs
// ("0:6,2:4"), abr_decisions and switch_times ([{wall_s, time, variant, message}], wall_s from
// the process start), with --realtime output_underruns and output_late_s (what a sound card
// would have heard as silence). --verbose prints every event (stall, resume, gap, abr_decision,
// variant_switched...) with its time and the progress line says "stalled" while playback waits
// for the network. Exit 0: ok; 1: failure or incomplete audio; 2: usage error.
#include <kithara/assets/asset_store.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/blocking_pool.hpp>
#include <kithara/worker/io_runtime.hpp>

#include "support/cli.hpp"
#include "support/hls_events.hpp"
#include "support/hls_list.hpp"
#include "support/hls_pin.hpp"
#include "support/output_sink.hpp"
#include "support/pacer.hpp"
#include "support/progress.hpp"
#include "support/run_stats.hpp"
#include "test_server.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#ifndef KITHARA_HLS_DEMO_DIR
#define KITHARA_HLS_DEMO_DIR ""
#endif

namespace ex = kithara::examples;
namespace hls = kithara::hls;

namespace {

using clock_type = std::chrono::steady_clock;
const clock_type::time_point process_start = clock_type::now();

double secs(clock_type::duration d) {
    return std::chrono::duration<double>(d).count();
}

double ms_since_start() {
    return secs(clock_type::now() - process_start) * 1e3;
}

// The demo stream's directory (master.m3u8 and its variants): $KITHARA_HLS_DEMO_DIR, else where
// the build generated it.
std::string demo_dir() {
    if (const char* d = std::getenv("KITHARA_HLS_DEMO_DIR"); d && *d) return d;
    return KITHARA_HLS_DEMO_DIR;
}

// "123", "64K", "512M", "2G" (binary multiples) -> bytes.
std::optional<std::uint64_t> parse_bytes(const std::string& s) {
    if (s.empty()) return std::nullopt;
    std::uint64_t mult = 1;
    std::string digits = s;
    switch (s.back()) {
        case 'k':
        case 'K':
            mult = 1ull << 10;
            break;
        case 'm':
        case 'M':
            mult = 1ull << 20;
            break;
        case 'g':
        case 'G':
            mult = 1ull << 30;
            break;
        default:
            break;
    }
    if (mult != 1) digits.pop_back();
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
        digits.size() > 12)
        return std::nullopt;
    return std::stoull(digits) * mult;
}

// "256k", "1.5M", "64000" (bits/s; k and M decimal) -> bits/s.
std::optional<std::uint64_t> parse_bits(const std::string& s) {
    double mult = 1;
    std::string digits = s;
    if (!s.empty() && (s.back() == 'k' || s.back() == 'K')) mult = 1e3;
    if (!s.empty() && (s.back() == 'm' || s.back() == 'M')) mult = 1e6;
    if (mult != 1) digits.pop_back();
    if (digits.empty() || digits.size() > 15 ||
        !std::isdigit(static_cast<unsigned char>(digits[0])))
        return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(digits.c_str(), &end);
    if (end != digits.c_str() + digits.size()) return std::nullopt;
    return static_cast<std::uint64_t>(std::llround(v * mult));
}

// The stream's own counters into the run's statistics (summary and --stats-json).
void fill_stats(ex::run_stats& st, const hls::stream_stats& x, const ex::hls_event_log& log) {
    st.bytes_network = x.bytes_from_network;
    st.bytes_cache = x.bytes_from_cache;
    st.requests = x.requests;
    st.retries = x.retries;
    st.extra["segments_from_network"] = x.segments_from_network;
    st.extra["segments_from_cache"] = x.segments_from_cache;
    st.extra["parts_fetched"] = x.parts_fetched;
    st.extra["segments_from_parts"] = x.segments_from_parts;
    st.extra["buffered_s"] = x.buffered_seconds;
    st.extra["switches"] = x.switches;
    st.extra["aborts"] = x.aborts;
    st.extra["estimate_bps"] = x.estimate_bps;
    st.extra["stalls"] = x.stalls;
    st.extra["stall_seconds"] = x.stall_seconds;
    st.extra["stall_events"] = log.stalls.load();
    st.extra["gaps"] = log.gaps.load();
    st.extra["failed_segments"] = log.failed_segments.load();
    st.extra["discontinuities"] = log.discontinuities.load();
}

std::string kbit(std::uint64_t bits_per_second) {
    char b[32];
    std::snprintf(b, sizeof b, "%.0f kbit/s", static_cast<double>(bits_per_second) / 1000.0);
    return b;
}

// "1 of 4 (96 kbit/s, mp4a.40.2, v1.m3u8)", or "media playlist".
std::string variant_label(const hls::stream_info& info) {
    if (info.variants.empty()) return "media playlist";
    const auto& v = info.variants[info.variant];
    return std::to_string(info.variant) + " of " + std::to_string(info.variants.size()) + " (" +
           kbit(v.bandwidth) + ", " + v.codecs.value_or("?") + ", " +
           v.uri.substr(v.uri.find_last_of('/') + 1) + ")";
}

// The summary's adaptive-bitrate and stall lines (only what happened: no line for a run with
// nothing to say).
void print_abr_summary(const ex::run_stats& st) {
    const auto& x = st.extra;
    const auto u = [&x](const char* k) { return x.value(k, std::uint64_t{0}); };
    if (x.value("abr", std::string()) == "auto") {
        std::string at;
        for (const auto& r : x.value("switch_times", nlohmann::json::array())) {
            char b[48];
            std::snprintf(b, sizeof b, "%s%.1f s -> %llu", at.empty() ? "" : ", ",
                          r.value("wall_s", 0.0),
                          static_cast<unsigned long long>(r.value("variant", std::uint64_t{0})));
            at += b;
        }
        std::fprintf(
            stderr,
            "  abr: %llu switches%s%s%s, %llu aborts, estimate %.0f kbit/s; variant per "
            "segment (variant:count) %s\n",
            static_cast<unsigned long long>(u("switches")), at.empty() ? "" : " (at ", at.c_str(),
            at.empty() ? "" : ")", static_cast<unsigned long long>(u("aborts")),
            x.value("estimate_bps", 0.0) / 1e3, x.value("variant_runs", std::string("-")).c_str());
    }
    if (u("stalls") || u("stall_events") || u("gaps"))
        std::fprintf(stderr,
                     "  %llu stalls (%.3f s; %llu stall events), %llu gaps (%llu failed "
                     "segments)\n",
                     static_cast<unsigned long long>(u("stalls")), x.value("stall_seconds", 0.0),
                     static_cast<unsigned long long>(u("stall_events")),
                     static_cast<unsigned long long>(u("gaps")),
                     static_cast<unsigned long long>(u("failed_segments")));
    if (st.output_underruns)
        std::fprintf(stderr, "  realtime output %.3f s late in all\n",
                     x.value("output_late_s", 0.0));
}

}  // namespace

int main(int argc, char** argv) {
    ex::common_options a;
    std::optional<std::uint64_t> variant;
    std::optional<std::uint64_t> max_cache;
    bool list = false;
    bool pin = false;
    bool gaps_on_error = false;
    std::string abr = "auto";
    std::uint64_t max_bandwidth = 0;
    double speed = 1.0;
    double live_time_scale = 1.0;
    CLI::App app{"Plays an HLS VOD stream (master or media playlist) through kithara::hls.",
                 "hls_playback"};
    ex::add_common_options(app, a);
    app.add_option_function<std::string>(
           "--variant", [&variant](const std::string& v) { variant = std::stoull(v); },
           "lock a variant: an index (< 1000, as --list numbers them) or a BANDWIDTH "
           "(default: adaptive bitrate, see --abr)")
        ->check([](const std::string& v) {
            return !v.empty() && v.size() <= 19 && v.find_first_not_of("0123456789") == v.npos
                       ? std::string()
                       : "not an index or a BANDWIDTH: " + v;
        });
    app.add_flag("--list", list, "print the variants and renditions, then exit");
    app.add_option_function<std::string>(
           "--max-cache", [&max_cache](const std::string& s) { max_cache = parse_bytes(s); },
           "cache byte budget (suffix K, M or G; default 1G)")
        ->check([](const std::string& s) {
            auto b = parse_bytes(s);
            return b && *b > 0 ? std::string() : "not a byte count (e.g. 512M): " + s;
        });
    auto* pin_opt = app.add_flag("--pin", pin,
                                 "keep the stream offline: pin its cache asset (never evicted) and "
                                 "download the whole variant without playing it (a progress bar "
                                 "on a terminal; --pin again resumes a failed one); then "
                                 "--offline plays it with no request");
    for (const char* o : {"--seek", "--duration", "--offline", "--out", "--format", "--realtime"})
        pin_opt->excludes(o);
    app.add_flag("--gaps-on-error", gaps_on_error,
                 "a segment that cannot be downloaded (after the retries) becomes a gap, silence "
                 "of its duration with a gap event naming the error, instead of ending the run "
                 "(exit 0; the summary and --stats-json count failed_segments)");
    app.add_option("--abr", abr,
                   "adaptive bitrate over a master's variants: auto (switch by the measured "
                   "bandwidth and the buffer; the default without --variant) or fixed (stay on "
                   "the variant chosen at open)")
        ->check(CLI::IsMember({"auto", "fixed"}))
        ->capture_default_str();
    app.add_option_function<std::string>(
           "--max-bandwidth",
           [&max_bandwidth](const std::string& s) { max_bandwidth = *parse_bits(s); },
           "never a variant above BITS_PER_S (suffix k or M, e.g. 256k; the lowest plays when "
           "none fits)")
        ->check([](const std::string& s) {
            auto b = parse_bits(s);
            return b && *b > 0 ? std::string() : "not a rate in bits/s (e.g. 256k): " + s;
        });
    std::string audio;
    app.add_option("--audio", audio,
                   "alternate audio: a rendition NAME, else preferred languages, most wanted "
                   "first (RFC 5646 tags, comma-separated: de-AT,en); default: the DEFAULT "
                   "rendition");
    app.add_option("--speed", speed,
                   "playback speed: media seconds per wall second, for the bitrate adaptation "
                   "and --realtime's pacing (default 1)")
        ->check(CLI::Range(0.1, 16.0));
    app.add_option("--live-time-scale", live_time_scale,
                   "live playlists: media seconds per wall second of the server's clock, for "
                   "an accelerated test generator (kithara_serve --live-time-scale); 1 for "
                   "every real server (default 1)")
        ->check(CLI::Range(0.01, 1000.0));
    if (auto rc = ex::parse_command_line(app, argc, argv, a)) return *rc;
    if (variant && app.count("--abr") && abr == "auto") {
        std::fprintf(stderr,
                     "hls_playback: --abr auto and --variant exclude each other (--variant "
                     "locks a variant)\nRun with --help for the options.\n");
        return ex::exit_usage;
    }

    ex::run_stats st;
    st.tool = "hls_playback";
    std::optional<kithara::test::http_server> demo;
    bool temp_cache = false;
    if (a.url.empty()) {
        const std::string dir = demo_dir();
        std::error_code ec;
        if (dir.empty() || !std::filesystem::is_regular_file(dir + "/master.m3u8", ec)) {
            std::fprintf(stderr,
                         "hls_playback: the demo stream is missing (%s/master.m3u8); build the "
                         "hls_playback target, which generates it, or pass a URL\n",
                         dir.c_str());
            return ex::exit_failure;
        }
        demo.emplace(std::filesystem::path(dir));
        a.url = demo->url("/master.m3u8");
        if (!a.quiet)
            std::fprintf(stderr, "demo: serving a generated 59.5 s HLS stream at %s\n",
                         a.url.c_str());
        if (a.cache_dir.empty()) {
            a.cache_dir = (std::filesystem::temp_directory_path() /
                           ("kithara-hls-demo-" + std::to_string(::getpid())))
                              .string();
            temp_cache = true;
        }
    }
    if (a.cache_dir.empty()) a.cache_dir = ex::default_cache_dir();
    st.url = a.url;
    // The demo's temporary cache goes last, after the store that uses it is closed.
    struct remove_on_exit {
        std::string dir;
        ~remove_on_exit() {
            std::error_code ec;
            if (!dir.empty()) std::filesystem::remove_all(dir, ec);
        }
    } temp_dir{temp_cache ? a.cache_dir : std::string()};

    // Every way out after this point reports: the summary, the JSON, the exit code.
    auto finish = [&](std::string error) {
        st.wall_s = secs(clock_type::now() - process_start);
        st.ok = error.empty();
        st.error = std::move(error);
        if (!st.ok) std::fprintf(stderr, "hls_playback: %s\n", st.error.c_str());
        if (!a.quiet) {
            if (pin)
                std::fprintf(stderr,
                             "%s: %s in %.3f s; bytes from network %llu in %llu "
                             "requests (%llu retries), from cache %llu\n",
                             st.ok ? "pinned" : "PIN FAILED", st.url.c_str(), st.wall_s,
                             static_cast<unsigned long long>(st.bytes_network),
                             static_cast<unsigned long long>(st.requests),
                             static_cast<unsigned long long>(st.retries.value_or(0)),
                             static_cast<unsigned long long>(st.bytes_cache));
            else
                ex::print_summary(st);
            const auto num = [&](const char* k) {
                return st.extra.value(k, nlohmann::json(0)).dump();
            };
            if (st.extra.contains("variant"))
                std::fprintf(stderr, "  variant %s; segments from network %s, from cache %s\n",
                             st.extra.value("variant_label", std::string("?")).c_str(),
                             num("segments_from_network").c_str(),
                             num("segments_from_cache").c_str());
            if (st.extra.value("parts_fetched", 0) > 0)
                std::fprintf(stderr, "  LL-HLS: %s parts fetched, %s segments read from parts\n",
                             num("parts_fetched").c_str(), num("segments_from_parts").c_str());
            if (!pin) print_abr_summary(st);
            if (pin && st.ok)
                std::fprintf(stderr, "  kept offline (never evicted): play it with --offline\n");
        }
        int rc = st.ok ? ex::exit_ok : ex::exit_failure;
        if (!a.stats_json.empty()) {
            std::string err;
            if (!ex::write_stats_json(a.stats_json, st, &err)) {
                std::fprintf(stderr, "hls_playback: --stats-json: %s\n", err.c_str());
                rc = ex::exit_failure;
            }
        }
        return rc;
    };

    kithara::worker::io_runtime io({.threads = 1, .name = "kithara-io"});
    if (auto r = io.start(); !r) return finish(r.error().message());
    if (list && !a.offline) {
        kithara::net::client client(io.executor());
        return ex::list_variants(client, a.url);
    }
    // Disk work that must not run on the io thread: durability flushes, metadata writes, cache
    // eviction and index rewrites.
    kithara::worker::blocking_pool background(
        {.threads = 1, .max_queued = 64, .name = "kithara-bg"});
    std::string error;
    ex::hls_event_log log(process_start);
    {
        kithara::assets::store_options so;
        if (max_cache) so.max_bytes = *max_cache;
        so.background = [&background](std::function<void()> task) {
            return background.try_submit([t = std::move(task)] { t(); }).has_value();
        };
        auto store = kithara::assets::asset_store::open(a.cache_dir, so);
        if (!store) return finish("cache " + a.cache_dir + ": " + store.error().message());
        kithara::net::client client(io.executor());
        hls::stream_options ho;
        if (variant) {
            if (*variant < 1000)
                ho.variant = static_cast<std::size_t>(*variant);
            else
                ho.variant_bandwidth = *variant;
        }
        ho.decode.sample_rate = a.rate;
        ho.decode.channels = a.channels;
        ho.decode.start_chunk_frames = 1024;  // start playing as soon as ~20 ms are decoded
        ho.offline = a.offline;
        ho.failed_segment_as_gap = gaps_on_error;
        ho.abr.mode = abr == "fixed" ? hls::abr_mode::fixed : hls::abr_mode::automatic;
        ho.abr.max_bandwidth = max_bandwidth;
        ho.abr.playback_speed = speed;
        ho.live.time_scale = live_time_scale;
        if (!audio.empty()) {
            ho.audio.name = audio;  // a NAME that matches wins over the languages
            for (std::size_t from = 0; from <= audio.size();) {
                const auto comma = std::min(audio.find(',', from), audio.size());
                if (comma > from) ho.audio.languages.push_back(audio.substr(from, comma - from));
                from = comma + 1;
            }
        }
        // The progress line, redrawn from the event callback when a stall or resume happens on
        // this thread (inside next(), where they are reported): set once the loop below starts.
        const auto main_thread = std::this_thread::get_id();
        std::function<void()> redraw;
        const bool verbose = a.verbose;
        ho.on_event = [&log, &redraw, main_thread, verbose](const hls::event& e) {
            log.on_event(e);
            if (verbose) ex::print_event(e, process_start);
            if ((e.kind == hls::event_kind::stall || e.kind == hls::event_kind::resume) &&
                std::this_thread::get_id() == main_thread && redraw)
                redraw();
        };
        // Timed metadata as it plays ("now playing"), with --verbose.
        if (verbose) {
            ho.on_metadata = [](const hls::timed_metadata& m) {
                std::string what = m.artist.empty() ? m.title : m.artist + " - " + m.title;
                if (m.daterange) what += (what.empty() ? "" : " ") + ("[" + m.daterange->id + "]");
                std::fprintf(stderr, "[%8.1f ms] now playing       t=%7.3f s %s\n",
                             std::chrono::duration<double, std::milli>(
                                 std::chrono::steady_clock::now() - process_start)
                                 .count(),
                             m.time, what.c_str());
            };
        }
        if (list) return ex::list_cached(*store, client, a.url);  // --list --offline
        if (pin) {
            // Download only; then an offline open (no request) names what was pinned.
            auto r = ex::pin_with_progress(a.url, *store, client, ho, !a.quiet);
            if (!r)
                return finish("pin: " + r.error().message() +
                              " (what was downloaded stays pinned; --pin again resumes)");
            fill_stats(st, *r, log);
            st.extra["pinned"] = true;
            hls::stream_options oo = ho;
            oo.offline = true;
            oo.on_event = nullptr;
            auto s = hls::open(a.url, *store, client, oo);
            if (!s) return finish("pinned, but it does not open offline: " + s.error().message());
            const auto info = (*s)->info();
            st.extra["variant"] = info.variant;
            st.extra["variants"] = info.variants.size();
            st.extra["duration_s"] = info.duration;
            st.extra["segments"] = info.segments;
            st.extra["variant_label"] = variant_label(info);
            s->reset();
            return finish(std::string());
        }
        auto s = hls::open(a.url, *store, client, ho);
        if (!s) return finish("open: " + s.error().message());
        auto& stream = **s;
        const auto info = stream.info();
        const std::string label = variant_label(info);
        if (!info.variants.empty()) {
            const auto& v = info.variants[info.variant];
            st.codec = v.codecs.value_or("");
            st.extra["variant_bandwidth"] = v.bandwidth;
            st.extra["variant_uri"] = v.uri;
        }
        st.extra["variant"] = info.variant;
        st.extra["variant_label"] = label;
        // Adaptive bitrate runs over a master's variants unless one is locked (--variant) or
        // --abr fixed.
        const bool adaptive = info.variants.size() >= 2 && !variant && abr == "auto";
        st.extra["abr"] = info.variants.size() < 2 ? "off" : variant ? "locked" : abr;
        st.extra["max_bandwidth"] = max_bandwidth;
        st.extra["speed"] = speed;
        auto bandwidths = nlohmann::json::array();
        for (const auto& v : info.variants) bandwidths.push_back(v.bandwidth);
        st.extra["variant_bandwidths"] = std::move(bandwidths);
        st.extra["variants"] = info.variants.size();
        st.extra["duration_s"] = info.duration;
        st.extra["segments"] = info.segments;
        st.extra["format"] = ex::to_string(a.format);
        st.extra["out"] = a.out;
        st.extra["pinned"] = pin;
        if (a.verbose)
            std::fprintf(stderr, "[%8.1f ms] opened: variant %s, %.3f s in %zu segments\n",
                         ms_since_start(), label.c_str(), info.duration, info.segments);
        auto fill_stream_stats = [&] {
            fill_stats(st, stream.stats(), log);
            log.to_json(info.variant, st.extra);
            st.extra["final_variant"] = stream.info().variant;
        };
        if (a.seek && *a.seek > info.duration) {
            fill_stream_stats();
            char msg[120];
            std::snprintf(msg, sizeof msg, "--seek %g s is past the end of the stream (%.3f s)",
                          *a.seek, info.duration);
            return finish(msg);
        }
        if (a.seek) {
            if (auto r = stream.seek(*a.seek); !r) {
                fill_stream_stats();
                return finish("seek: " + r.error().message());
            }
        }
        auto sink = ex::output_sink::open(a.out, a.format, &error);
        if (!sink) return finish(error);

        // The output format is the first chunk's (the decoder's output for the chosen variant).
        bool begun = false;
        std::uint64_t limit = std::numeric_limits<std::uint64_t>::max();
        std::optional<ex::pacer> pace;
        ex::progress_line progress(!a.quiet);
        double pos = a.seek.value_or(0);
        std::uint64_t last_bytes = 0;
        auto last_time = clock_type::now();
        double rate_kib = 0;
        double buffered = 0;
        std::size_t playing = info.variant;
        auto show_progress = [&] {
            char line[200];
            std::snprintf(
                line, sizeof line, "%7.1f / %.1f s  variant %zu  buffered %5.1f s  %7.1f KiB/s%s",
                pos, info.duration, playing, buffered, rate_kib, log.stalled ? "  stalled" : "");
            progress.show(line);
        };
        if (progress.enabled()) redraw = show_progress;
        for (;;) {
            if (st.frames >= limit) break;
            auto c = stream.next();
            if (!c) {
                error = c.error().message();
                break;
            }
            if (!*c) {
                if (a.duration)
                    error = "the stream ended after " + std::to_string(st.audio_s()) +
                            " s of output, before --duration " + std::to_string(*a.duration) + " s";
                break;
            }
            const auto& ch = **c;
            if (!begun) {
                st.time_to_first_sample_ms = ms_since_start();
                st.rate = ch.sample_rate;
                st.channels = ch.channels;
                st.source_rate = ch.source_rate;
                st.source_channels = ch.source_channels;
                if (!sink->begin(ch.sample_rate, ch.channels)) {
                    error = sink->error();
                    break;
                }
                begun = true;
                if (a.duration)
                    limit = static_cast<std::uint64_t>(std::llround(*a.duration * ch.sample_rate));
                if (a.realtime) pace.emplace(ch.sample_rate, speed);
            }
            if (pace) pace->set_rate(ch.sample_rate);  // an adaptive switch may change it
            if (!sink->discards() && (ch.sample_rate != st.rate || ch.channels != st.channels)) {
                // The WAV header and raw consumers assume one format: say so rather than write
                // a stream whose meaning changes silently.
                error = "the output format changed mid-stream (" + std::to_string(ch.sample_rate) +
                        " Hz " + std::to_string(ch.channels) +
                        " ch); pass --rate and --channels to keep it fixed";
                break;
            }
            std::size_t frames = ch.frames();
            frames = static_cast<std::size_t>(std::min<std::uint64_t>(frames, limit - st.frames));
            if (pace) pace->wait(frames);
            if (!sink->write(std::span<const float>(ch.samples.data(), frames * ch.channels))) {
                error = sink->error();
                break;
            }
            st.frames += frames;
            pos = secs(ch.start) + static_cast<double>(frames) / ch.sample_rate;
            if (progress.due()) {
                const auto x = stream.stats();
                const auto now = clock_type::now();
                const double dt = secs(now - last_time);
                if (dt > 0)
                    rate_kib = static_cast<double>(x.bytes_from_network - last_bytes) / 1024.0 / dt;
                last_bytes = x.bytes_from_network;
                last_time = now;
                buffered = x.buffered_seconds;
                if (adaptive) playing = stream.info().variant;
                show_progress();
            }
        }
        redraw = nullptr;
        progress.done();
        if (!begun && error.empty()) {
            // Nothing to play (a seek to the end): still a valid, empty output.
            st.rate = a.rate ? a.rate : 48000;
            st.channels = a.channels ? a.channels : 2;
            if (!sink->begin(st.rate, st.channels)) error = sink->error();
        }
        if (!sink->finish() && error.empty()) error = sink->error();
        if (pace) {
            st.output_underruns = pace->underruns();
            st.extra["output_late_s"] = secs(pace->late());
        }
        fill_stream_stats();
        st.extra["end_position_s"] = pos;
        s->reset();
    }
    io.shutdown();
    return finish(error);
}
