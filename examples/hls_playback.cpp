// hls_playback: plays an HLS VOD stream (master or media playlist) through kithara::hls: one
// variant downloaded segment by segment into a persistent cache while it decodes to PCM.
//
//   hls_playback [URL] [--out FILE|-|null] [--format wav|f32le|s16le] [--rate HZ] [--channels N]
//                [--variant N|BANDWIDTH] [--list] [--seek S] [--duration S] [--cache-dir DIR]
//                [--max-cache BYTES] [--offline] [--pin] [--gaps-on-error] [--realtime]
//                [--stats-json FILE] [--verbose] [--quiet]
//
// --out FILE writes the PCM, `-` streams it to stdout, `null` (the default) discards it.
// --format wav (default) is a float32 WAV; f32le and s16le are raw interleaved samples, e.g.
//   hls_playback URL --out - --format s16le --rate 48000 --channels 2 | aplay -f S16_LE -c2
//   -r48000
// --variant picks the variant: a number below 1000 is an index into the master's variants (as
// --list prints them), a larger one a BANDWIDTH; default: the lowest-bandwidth variant.
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
// segments from the network vs the cache, requests) ends the run, and --stats-json writes the
// same as JSON; --verbose prints every event (stall, resume, gap, progress...) with its time and
// the progress line says "stalled" while playback waits for the network. Exit 0: ok; 1: failure
// or incomplete audio; 2: usage error.
#include <kithara/assets/asset_store.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <kithara/hls/loader.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/blocking_pool.hpp>
#include <kithara/worker/io_runtime.hpp>

#include "support/cli.hpp"
#include "support/hls_pin.hpp"
#include "support/output_sink.hpp"
#include "support/pacer.hpp"
#include "support/progress.hpp"
#include "support/run_stats.hpp"
#include "test_server.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
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

const char* event_name(hls::event_kind k) {
    switch (k) {
        case hls::event_kind::playlist_loaded:
            return "playlist_loaded";
        case hls::event_kind::variant_chosen:
            return "variant_chosen";
        case hls::event_kind::segment_requested:
            return "segment_requested";
        case hls::event_kind::segment_complete:
            return "segment_complete";
        case hls::event_kind::discontinuity:
            return "discontinuity";
        case hls::event_kind::gap:
            return "gap";
        case hls::event_kind::stall:
            return "stall";
        case hls::event_kind::progress:
            return "progress";
        case hls::event_kind::abr_decision:
            return "abr_decision";
        case hls::event_kind::variant_switched:
            return "variant_switched";
        case hls::event_kind::resume:
            return "resume";
        case hls::event_kind::error:
            return "error";
    }
    return "?";
}

// What the events tell that stream_stats does not: they arrive on the io thread, hence atomics.
struct event_counts {
    std::atomic<std::uint64_t> stalls{0};
    std::atomic<std::uint64_t> gaps{0};
    std::atomic<std::uint64_t> failed_segments{0};  // gaps standing for a failed segment
    std::atomic<std::uint64_t> discontinuities{0};
    std::atomic<bool> stalled{false};  // between a stall and its resume
};

// --verbose: one line per event, with the time since the process started.
void print_event(const hls::event& e) {
    if (e.kind == hls::event_kind::progress) {
        std::fprintf(stderr, "[%8.1f ms] %-17s %llu / %s%llu bytes, %zu / %zu segments\n",
                     ms_since_start(), event_name(e.kind),
                     static_cast<unsigned long long>(e.bytes_done), e.bytes_total_exact ? "" : "~",
                     static_cast<unsigned long long>(e.bytes_total), e.segments_done,
                     e.segments_total);
        return;
    }
    std::fprintf(stderr, "[%8.1f ms] %-17s t=%7.3f s seq %llu %s%s%s\n", ms_since_start(),
                 event_name(e.kind), e.time, static_cast<unsigned long long>(e.media_sequence),
                 e.uri.c_str(), e.message.empty() ? "" : " ", e.message.c_str());
}

// The stream's own counters into the run's statistics (summary and --stats-json).
void fill_stats(ex::run_stats& st, const hls::stream_stats& x, const event_counts& counts) {
    st.bytes_network = x.bytes_from_network;
    st.bytes_cache = x.bytes_from_cache;
    st.requests = x.requests;
    st.retries = x.retries;
    st.extra["segments_from_network"] = x.segments_from_network;
    st.extra["segments_from_cache"] = x.segments_from_cache;
    st.extra["buffered_s"] = x.buffered_seconds;
    st.extra["stalls"] = counts.stalls.load();
    st.extra["gaps"] = counts.gaps.load();
    st.extra["failed_segments"] = counts.failed_segments.load();
    st.extra["discontinuities"] = counts.discontinuities.load();
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

// --list: the master's variants (indexes for --variant) and renditions, or the media playlist.
int list_variants(kithara::net::client& client, const std::string& url) {
    auto p = hls::load_playlist(client, url);
    if (!p) {
        std::fprintf(stderr, "hls_playback: %s: %s\n", url.c_str(), p.error().message().c_str());
        return ex::exit_failure;
    }
    if (!p->content.is_master()) {
        const auto& m = p->content.media();
        std::printf("media playlist %s: %zu segments, %.3f s (no variants)\n", url.c_str(),
                    m.segments.size(), m.duration());
        return ex::exit_ok;
    }
    const auto& m = p->content.master();
    std::printf("%zu variants of %s:\n", m.variants.size(), url.c_str());
    for (std::size_t i = 0; i < m.variants.size(); ++i) {
        const auto& v = m.variants[i];
        std::printf("  %zu  BANDWIDTH=%llu", i, static_cast<unsigned long long>(v.bandwidth));
        if (v.average_bandwidth)
            std::printf(" AVERAGE-BANDWIDTH=%llu",
                        static_cast<unsigned long long>(*v.average_bandwidth));
        if (v.codecs) std::printf(" CODECS=%s", v.codecs->c_str());
        if (v.audio) std::printf(" AUDIO=%s", v.audio->c_str());
        std::printf("  %s\n", v.uri.c_str());
    }
    if (!m.renditions.empty()) {
        std::printf("%zu renditions:\n", m.renditions.size());
        for (const auto& r : m.renditions) {
            std::printf("  %s GROUP-ID=%s NAME=\"%s\"", hls::to_string(r.type), r.group_id.c_str(),
                        r.name.c_str());
            if (r.language) std::printf(" LANGUAGE=%s", r.language->c_str());
            if (r.channels) std::printf(" CHANNELS=%s", r.channels->c_str());
            if (r.is_default) std::printf(" DEFAULT");
            std::printf("  %s\n", r.uri ? r.uri->c_str() : "(in the variant's stream)");
        }
    }
    return ex::exit_ok;
}

// --list --offline: the variants the cached master lists, each marked by whether its media
// playlist is cached too (opened offline, one index after the other: no request is made).
int list_cached(kithara::assets::asset_store& store, kithara::net::client& client,
                const std::string& url) {
    std::optional<hls::stream_info> info;
    std::vector<bool> cached;
    std::string first_error;
    std::atomic<bool> master_cached{false};
    for (std::size_t i = 0; i < 1000; ++i) {
        hls::stream_options o;
        o.offline = true;
        o.variant = i;
        o.on_event = [&master_cached](const hls::event& e) {
            if (e.kind == hls::event_kind::variant_chosen) master_cached = true;
        };
        auto s = hls::open(url, store, client, o);
        if (s) {
            if (!info) info = (*s)->info();
            cached.resize(i + 1);
            cached[i] = true;
            if (info->variants.empty()) break;  // a media playlist
        } else if (s.error().code() == hls::errc::offline_miss) {
            if (first_error.empty()) first_error = s.error().message();
            if (!master_cached) break;  // not even the master playlist is cached
        } else {
            break;  // past the last variant (or nothing usable cached)
        }
        if (info && i + 1 >= info->variants.size()) break;
    }
    if (!info) {
        std::fprintf(stderr, "hls_playback: %s: no playable variant in the cache%s%s\n",
                     url.c_str(), first_error.empty() ? "" : ": ", first_error.c_str());
        return ex::exit_failure;
    }
    if (info->variants.empty()) {
        std::printf("media playlist %s: %zu segments, %.3f s (no variants; cached)\n", url.c_str(),
                    info->segments, info->duration);
        return ex::exit_ok;
    }
    cached.resize(info->variants.size());
    std::printf("%zu variants of %s (from the cache):\n", info->variants.size(), url.c_str());
    for (std::size_t i = 0; i < info->variants.size(); ++i) {
        const auto& v = info->variants[i];
        std::printf("  %zu  BANDWIDTH=%llu CODECS=%s  %s%s\n", i,
                    static_cast<unsigned long long>(v.bandwidth), v.codecs.value_or("?").c_str(),
                    v.uri.c_str(), cached[i] ? "" : "  (not cached)");
    }
    return ex::exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    ex::common_options a;
    std::optional<std::uint64_t> variant;
    std::optional<std::uint64_t> max_cache;
    bool list = false;
    bool pin = false;
    bool gaps_on_error = false;
    CLI::App app{"Plays an HLS VOD stream (master or media playlist) through kithara::hls.",
                 "hls_playback"};
    ex::add_common_options(app, a);
    app.add_option_function<std::string>(
           "--variant", [&variant](const std::string& v) { variant = std::stoull(v); },
           "variant to play: an index (< 1000, as --list numbers them) or a BANDWIDTH "
           "(default: the lowest bandwidth)")
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
    if (auto rc = ex::parse_command_line(app, argc, argv, a)) return *rc;

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
            if (num("stalls") != "0" || num("gaps") != "0")
                std::fprintf(stderr, "  %s stalls, %s gaps (%s failed segments)\n",
                             num("stalls").c_str(), num("gaps").c_str(),
                             num("failed_segments").c_str());
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
        return list_variants(client, a.url);
    }
    // Disk work that must not run on the io thread: durability flushes, metadata writes, cache
    // eviction and index rewrites.
    kithara::worker::blocking_pool background(
        {.threads = 1, .max_queued = 64, .name = "kithara-bg"});
    std::string error;
    event_counts counts;
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
        // The progress line, redrawn from the event callback when a stall or resume happens on
        // this thread (inside next(), where they are reported): set once the loop below starts.
        const auto main_thread = std::this_thread::get_id();
        std::function<void()> redraw;
        const bool verbose = a.verbose;
        ho.on_event = [&counts, &redraw, main_thread, verbose](const hls::event& e) {
            switch (e.kind) {
                case hls::event_kind::stall:
                    counts.stalls++;
                    counts.stalled = true;
                    break;
                case hls::event_kind::resume:
                    counts.stalled = false;
                    break;
                case hls::event_kind::gap:
                    counts.gaps++;
                    if (!e.message.empty()) counts.failed_segments++;  // names the error
                    break;
                case hls::event_kind::discontinuity:
                    counts.discontinuities++;
                    break;
                default:
                    break;
            }
            if (verbose) print_event(e);
            if ((e.kind == hls::event_kind::stall || e.kind == hls::event_kind::resume) &&
                std::this_thread::get_id() == main_thread && redraw)
                redraw();
        };
        if (list) return list_cached(*store, client, a.url);  // --list --offline
        if (pin) {
            // Download only; then an offline open (no request) names what was pinned.
            auto r = ex::pin_with_progress(a.url, *store, client, ho, !a.quiet);
            if (!r)
                return finish("pin: " + r.error().message() +
                              " (what was downloaded stays pinned; --pin again resumes)");
            fill_stats(st, *r, counts);
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
        st.extra["variants"] = info.variants.size();
        st.extra["duration_s"] = info.duration;
        st.extra["segments"] = info.segments;
        st.extra["format"] = ex::to_string(a.format);
        st.extra["out"] = a.out;
        st.extra["pinned"] = pin;
        if (a.verbose)
            std::fprintf(stderr, "[%8.1f ms] opened: variant %s, %.3f s in %zu segments\n",
                         ms_since_start(), label.c_str(), info.duration, info.segments);
        auto fill_stream_stats = [&] { fill_stats(st, stream.stats(), counts); };
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
        auto show_progress = [&] {
            char line[200];
            std::snprintf(line, sizeof line,
                          "%7.1f / %.1f s  variant %zu  buffered %5.1f s  %7.1f KiB/s%s", pos,
                          info.duration, info.variant, buffered, rate_kib,
                          counts.stalled ? "  stalled" : "");
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
                if (a.realtime) pace.emplace(ch.sample_rate);
            }
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
        if (pace) st.output_underruns = pace->underruns();
        fill_stream_stats();
        st.extra["end_position_s"] = pos;
        s->reset();
    }
    io.shutdown();
    return finish(error);
}
