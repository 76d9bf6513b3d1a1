// kithara_scale: N concurrent streams in one process through one kithara::context, for
// bench/scale_vs_peers.sh (issue 18's scale figures).
//
//   kithara_scale --urls FILE --streams N --mode fast|realtime --seconds S --cache-dir DIR
//                 [--json OUT.json] [--new-streams M] [--replay yes] [--reference F]
//                 [--write-reference F] [--cache-bytes B]
//
// FILE lists URLs, one per line; stream i plays line i mod K with "?s=<i>" appended (a query the
// loopback server ignores), so every stream downloads its own copy instead of reading another's
// cache. One application thread serves every stream with try_next() and on_ready:
// - fast: each stream is read as fast as it decodes, to its end (or S seconds); its realtime
//   factor is its media seconds over the wall time from its open to its end;
// - realtime: a clock ticks every 10 ms and each stream takes the chunks due at 1x; a stream with
//   nothing due ready has starved (its buffer went under its low-water mark); a stream that ends
//   starts again from 0 (seek), for S seconds.
// While the N play, M more streams open one after another (time from open() to the first
// chunk: ttfp_new_ms p50/p99) and close. Sampled every 100 ms: threads (/proc/self/status) and
// anonymous memory (/proc/self/smaps_rollup); CPU from getrusage over the playing phase.
// Soak (--replay yes, fast): a stream that ends opens again under a new URL ("&r=<k>": a new
// download), until S seconds pass. Every whole play's PCM (frames and an FNV-1a hash) is checked
// against --reference (lines "index frames hash" of a clean run, --write-reference); a play that
// differs is corrupt, one that fails (an error after net's retries) failed. The JSON adds the
// play counts and, for flatness, the largest anonymous memory of each half of the run and the
// descriptor range (after a 10 % warm-up). Exit 1 on any error, corrupt or failed play.
// Prints one JSON object (and writes it to --json).
#include <kithara/kithara/context.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

long proc_field(const char* file, const char* name) {
    std::ifstream in(file);
    std::string line;
    const std::string key = std::string(name) + ":";
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
    return -1;
}
long fds_now() {
    long n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

void fnv1a(std::uint64_t& h, const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
}

long threads_now() {
    return proc_field("/proc/self/status", "Threads");
}
long anon_kb_now() {
    return proc_field("/proc/self/smaps_rollup", "Anonymous");
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double ms_since(clock_type::time_point t) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

std::string with_query(const std::string& url, std::size_t i) {
    return url + (url.find('?') == std::string::npos ? "?s=" : "&s=") + std::to_string(i);
}

struct stream_run {
    std::unique_ptr<kithara::audio_stream> s;
    clock_type::time_point opened;
    double media_s = 0;    // returned so far
    double wall_s = 0;     // fast: open to end
    bool done = false;     // fast: ended
    bool started = false;  // realtime: first chunk had
    double due_s = 0;      // realtime: media seconds consumed
    std::size_t starved_ticks = 0;
    std::size_t media = 0;                            // index into the URL list
    std::uint64_t play_hash = 0xcbf29ce484222325ull;  // FNV-1a over this play's samples
    std::uint64_t play_frames = 0;
    std::size_t replays = 0;
    double first_starve_s = 0;  // run time of its first starved tick
};

int usage() {
    std::fprintf(stderr,
                 "usage: kithara_scale --urls FILE --streams N --mode fast|realtime --seconds S "
                 "--cache-dir DIR [--json OUT] [--new-streams M] [--replay yes] [--reference F]\n"
                 "       [--write-reference F] [--cache-bytes B]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string urls_file, mode = "fast", cache_dir, json_out, reference_in, reference_out;
    bool replay = false;
    std::uint64_t cache_bytes = 4'000'000'000;
    std::size_t n = 1, new_streams = 8;
    double seconds = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--urls")
            urls_file = v;
        else if (k == "--streams")
            n = std::stoul(v);
        else if (k == "--mode")
            mode = v;
        else if (k == "--seconds")
            seconds = std::stod(v);
        else if (k == "--cache-dir")
            cache_dir = v;
        else if (k == "--json")
            json_out = v;
        else if (k == "--new-streams")
            new_streams = std::stoul(v);
        else if (k == "--replay")
            replay = v == "yes";
        else if (k == "--reference")
            reference_in = v;
        else if (k == "--write-reference")
            reference_out = v;
        else if (k == "--cache-bytes")
            cache_bytes = std::stoull(v);
        else
            return usage();
    }
    if (urls_file.empty() || cache_dir.empty() || (mode != "fast" && mode != "realtime"))
        return usage();
    std::vector<std::string> urls;
    {
        std::ifstream in(urls_file);
        for (std::string l; std::getline(in, l);)
            if (!l.empty()) urls.push_back(l);
    }
    if (urls.empty()) return usage();

    kithara::context_options co;
    co.cache_dir = cache_dir;
    co.cache_bytes = cache_bytes;
    auto ctx = kithara::context::create(co);
    if (!ctx) {
        std::fprintf(stderr, "context: %s\n", ctx.error().message().c_str());
        return 1;
    }
    std::mutex m;
    std::condition_variable cv;
    std::uint64_t readies = 0;
    kithara::open_options oo;
    oo.on_ready = [&] {
        {
            std::lock_guard lk(m);
            ++readies;
        }
        cv.notify_one();
    };

    // Each media's whole-play PCM (frames, FNV-1a) from a clean run: every play is checked.
    std::map<std::size_t, std::pair<std::uint64_t, std::uint64_t>> reference;
    if (!reference_in.empty()) {
        std::ifstream in(reference_in);
        std::size_t idx;
        std::uint64_t frames, hash;
        while (in >> idx >> frames >> std::hex >> hash >> std::dec) reference[idx] = {frames, hash};
    }
    std::size_t plays_ok = 0, plays_corrupt = 0, plays_failed = 0;

    const long anon_base = anon_kb_now();
    long threads_peak = threads_now();
    long anon_peak = anon_base;
    std::size_t errors = 0;
    std::vector<stream_run> runs(n);
    const auto t_start = clock_type::now();
    const double cpu_start = cpu_seconds();
    for (std::size_t i = 0; i < n; ++i) {
        runs[i].opened = clock_type::now();
        auto s = ctx->open(with_query(urls[i % urls.size()], i), oo);
        if (!s) {
            std::fprintf(stderr, "open %zu: %s\n", i, s.error().message().c_str());
            ++errors;
            runs[i].done = true;
            continue;
        }
        runs[i].s = std::move(*s);
        runs[i].media = i % urls.size();
    }
    struct point {
        double t;
        long anon_kb;
        long fds;
    };
    std::vector<point> series;
    auto sample = [&] {
        threads_peak = std::max(threads_peak, threads_now());
        const long a = anon_kb_now();
        anon_peak = std::max(anon_peak, a);
        series.push_back({ms_since(t_start) / 1000.0, a, fds_now()});
    };
    // A whole play ended: check it against the reference, or record it as one.
    auto end_of_play = [&](stream_run& r) {
        auto it = reference.find(r.media);
        if (it == reference.end()) {
            reference[r.media] = {r.play_frames, r.play_hash};
            ++plays_ok;
        } else if (it->second == std::make_pair(r.play_frames, r.play_hash)) {
            ++plays_ok;
        } else {
            ++plays_corrupt;
            std::fprintf(stderr, "corrupt play of %s: %llu frames (reference %llu)\n",
                         r.s->url().c_str(), static_cast<unsigned long long>(r.play_frames),
                         static_cast<unsigned long long>(it->second.first));
        }
    };
    // Fast with --replay yes: a stream that ended opens again under a new URL (a new download).
    auto reopen = [&](stream_run& r, std::size_t i) {
        r.s.reset();
        ++r.replays;
        auto s = ctx->open(with_query(urls[r.media], i) + "&r=" + std::to_string(r.replays), oo);
        r.play_hash = 0xcbf29ce484222325ull;
        r.play_frames = 0;
        if (!s) {
            std::fprintf(stderr, "reopen %zu: %s\n", i, s.error().message().c_str());
            ++plays_failed;
            return false;
        }
        r.s = std::move(*s);
        return true;
    };
    std::vector<double> ttfp_new;
    std::size_t opened_new = 0;
    // Opens one more stream, waits for its first chunk, closes it.
    auto probe_new_stream = [&] {
        const auto t0 = clock_type::now();
        auto s = ctx->open(with_query(urls[opened_new % urls.size()], 100000 + opened_new), oo);
        ++opened_new;
        if (!s) {
            ++errors;
            return;
        }
        auto c = (*s)->next();
        if (!c || !*c) {
            ++errors;
            return;
        }
        ttfp_new.push_back(ms_since(t0));
    };

    auto last_sample = clock_type::now();
    const double new_every = seconds / static_cast<double>(new_streams + 1);
    double next_new = new_every;
    const bool fast = mode == "fast";
    const auto tick = std::chrono::milliseconds(10);
    auto next_tick = clock_type::now() + tick;
    std::size_t left = n - errors;
    std::uint64_t sweeps = 0;
    while (true) {
        const double elapsed = ms_since(t_start) / 1000.0;
        if (elapsed >= seconds || (fast && left == 0)) break;
        if (ms_since(last_sample) >= 100) {
            sample();
            last_sample = clock_type::now();
        }
        // New streams open while the N play: spread over the run at 1x; as fast: one every
        // few sweeps from the start (the N may all end in well under a second).
        ++sweeps;
        if (opened_new < new_streams && (fast ? sweeps % 4 == 0 : elapsed >= next_new)) {
            probe_new_stream();
            next_new += new_every;
        }
        std::uint64_t seen;
        {
            std::lock_guard lk(m);
            seen = readies;
        }
        bool progressed = false;
        for (std::size_t idx = 0; idx < runs.size(); ++idx) {
            auto& r = runs[idx];
            if (!r.s || r.done) continue;
            const double due = ms_since(r.opened) / 1000.0;
            // realtime: take chunks while the stream is behind its clock
            while (fast || !r.started || r.due_s < due) {
                kithara::decode::pcm_chunk c;
                auto st = r.s->try_next(c);
                if (!st) {
                    std::fprintf(stderr, "%s: %s\n", r.s->url().c_str(),
                                 st.error().message().c_str());
                    if (replay && fast) {
                        ++plays_failed;
                        if (reopen(r, idx)) break;
                    }
                    ++errors;
                    r.done = true;
                    --left;
                    break;
                }
                if (*st == kithara::poll_state::pending) {
                    if (!fast && r.started) {
                        if (r.starved_ticks++ == 0) r.first_starve_s = elapsed;
                    }
                    break;
                }
                progressed = true;
                if (*st == kithara::poll_state::ended) {
                    end_of_play(r);
                    if (fast && replay) {
                        if (!reopen(r, idx)) {
                            r.done = true;
                            --left;
                        }
                    } else if (fast) {
                        r.done = true;
                        r.wall_s = ms_since(r.opened) / 1000.0;
                        --left;
                    } else {
                        (void)r.s->seek(std::chrono::nanoseconds(0));
                        r.play_hash = 0xcbf29ce484222325ull;
                        r.play_frames = 0;
                    }
                    break;
                }
                fnv1a(r.play_hash, c.samples.data(), c.samples.size() * sizeof(float));
                r.play_frames += c.frames();
                const double len = static_cast<double>(c.frames()) / c.sample_rate;
                r.media_s += len;
                if (!r.started) {
                    r.started = true;
                    r.opened = clock_type::now();  // its clock starts with its first chunk
                    r.due_s = len;
                    if (!fast) break;  // `due` was reckoned from the open: wait for the next tick
                } else {
                    r.due_s += len;
                }
            }
        }
        if (fast) {
            if (!progressed) {
                std::unique_lock lk(m);
                cv.wait_for(lk, std::chrono::milliseconds(100), [&] { return readies != seen; });
            }
        } else {
            // The sound card's clock: a player takes audio every tick, whatever is ready.
            std::this_thread::sleep_until(next_tick);
            next_tick += tick;
        }
    }
    sample();
    const double wall = ms_since(t_start) / 1000.0;
    const double cpu = cpu_seconds() - cpu_start;
    double media_total = 0;
    std::vector<double> rt;
    std::size_t starved = 0;
    for (auto& r : runs) {
        media_total += r.media_s;
        if (fast && r.s) rt.push_back(r.media_s / (r.done ? r.wall_s : wall));
        if (!fast && r.s && r.started) rt.push_back(r.media_s / (ms_since(r.opened) / 1000.0));
        if (r.starved_ticks > 0) ++starved;
        if (r.starved_ticks > 0)  // which stream, when (seconds since the run began)
            std::fprintf(stderr, "starved %s: %zu ticks, the first at %.2f s\n", r.s->url().c_str(),
                         r.starved_ticks, r.first_starve_s);
    }
    const long anon_per_stream = n ? (anon_peak - anon_base) / static_cast<long>(n) : 0;
    std::ostringstream j;
    j << "{\"streams\": " << n << ", \"mode\": \"" << mode << "\", \"wall_s\": " << wall
      << ", \"media_seconds\": " << media_total
      << ", \"rt_aggregate\": " << (wall > 0 ? media_total / wall : 0)
      << ", \"rt_per_stream_min\": " << (rt.empty() ? 0 : *std::min_element(rt.begin(), rt.end()))
      << ", \"rt_per_stream_median\": " << percentile(rt, 0.5)
      << ", \"threads_peak\": " << threads_peak << ", \"private_kb_base\": " << anon_base
      << ", \"private_kb_peak\": " << anon_peak
      << ", \"private_kb_per_stream\": " << anon_per_stream << ", \"cpu_s\": " << cpu
      << ", \"cpu_ms_per_stream_second\": " << (media_total > 0 ? cpu * 1000 / media_total : 0)
      << ", \"ttfp_new_ms_p50\": " << percentile(ttfp_new, 0.5)
      << ", \"ttfp_new_ms_p99\": " << percentile(ttfp_new, 0.99)
      << ", \"new_streams\": " << ttfp_new.size() << ", \"starved_streams\": " << starved
      << ", \"errors\": " << errors << ", \"plays_ok\": " << plays_ok
      << ", \"plays_corrupt\": " << plays_corrupt << ", \"plays_failed\": " << plays_failed;
    // Flatness: the largest anonymous memory and descriptor count in the first and second half
    // of the run after a 10 % warm-up.
    long a1 = 0, a2 = 0, f_min = -1, f_max = 0;
    for (const auto& p : series) {
        if (p.t < wall * 0.1) continue;
        (p.t < wall * 0.55 ? a1 : a2) = std::max(p.t < wall * 0.55 ? a1 : a2, p.anon_kb);
        f_min = f_min < 0 ? p.fds : std::min(f_min, p.fds);
        f_max = std::max(f_max, p.fds);
    }
    j << ", \"anon_kb_max_first_half\": " << a1 << ", \"anon_kb_max_second_half\": " << a2
      << ", \"fds_min\": " << f_min << ", \"fds_max\": " << f_max << "}";
    if (std::getenv("KITHARA_SCALE_SERIES"))
        for (const auto& p : series)
            std::fprintf(stderr, "series %.1f s: %ld KB anonymous, %ld fds\n", p.t, p.anon_kb,
                         p.fds);
    if (!reference_out.empty()) {
        std::ofstream out(reference_out);
        for (const auto& [idx, v] : reference)
            out << idx << ' ' << v.first << ' ' << std::hex << v.second << std::dec << '\n';
    }
    std::cout << j.str() << std::endl;
    if (!json_out.empty()) std::ofstream(json_out) << j.str() << "\n";
    return errors == 0 && plays_corrupt == 0 && plays_failed == 0 ? 0 : 1;
}
