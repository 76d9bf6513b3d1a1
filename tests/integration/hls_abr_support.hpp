// Helpers of hls_abr_test: a paced consumer that plays a stream like an audio device in
// accelerated time (k media seconds per wall second), measuring stalls and recording per chunk its
// start, length, variant and wall time; an event recorder with arrival times; and the continuity
// analysis around a switch point (SNR against the new variant's own decode, and the jump across
// the point against the signal's own sample-to-sample change just before it).
//
//   hls_test::play_options po{.speed = 8};
//   auto run = hls_test::play(*s, po);        // blocks until the end (or po.max_media)
//   EXPECT_EQ(run.stalls, 0u);
//   auto c = hls_test::check_switch(run.audio, own_decode_of_new_variant, n0);
//
// Threads: play() runs on the test's thread (it calls next(), info() and the actions there);
// timed_events::record is called on the io thread (events), guarded by its mutex. Buffers: every
// helper returns owned vectors.
#pragma once

#include "hls_support.hpp"

#include <kithara/hls/hls_stream.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kithara::hls_test {

using wall_clock = std::chrono::steady_clock;

inline double seconds_between(wall_clock::time_point a, wall_clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// Events with the wall time they arrived (on the io thread or the caller's).
struct timed_event {
    hls::event ev;
    wall_clock::time_point at;
};

class timed_events {
public:
    void record(const hls::event& e) {
        const auto now = wall_clock::now();
        std::lock_guard lock(m_);
        events_.push_back({e, now});
    }
    std::function<void(const hls::event&)> callback() {
        return [this](const hls::event& e) { record(e); };
    }
    [[nodiscard]] std::vector<timed_event> of(hls::event_kind k) const {
        std::lock_guard lock(m_);
        std::vector<timed_event> out;
        for (const auto& e : events_)
            if (e.ev.kind == k) out.push_back(e);
        return out;
    }

private:
    mutable std::mutex m_;
    std::vector<timed_event> events_;
};

struct played_chunk {
    double start = 0;  // presentation time, s
    std::size_t frames = 0;
    std::size_t variant = 0;      // info().variant after next() returned it
    wall_clock::time_point wall;  // when next() returned it
    // Wall seconds the device was dry while next() blocked for this chunk (0: on time).
    double late = 0;
    // Wall seconds of that call the stream waited for the network (its stats' stall_seconds).
    double waited = 0;
};

struct play_options {
    // Media seconds played per wall second; 0: no pacing (next() as fast as it returns).
    double speed = 8;
    // Media seconds the device holds: next() is called when the device has room for a chunk,
    // i.e. when what was written minus what was played is below this.
    double device_buffer = 0.2;
    // A next() that keeps the device dry longer than this (wall seconds) while the stream waits
    // for the network is a stall. Below it, or without that wait: scheduling noise of a loaded
    // machine (a 2-core CI runner shared with builds: next() that opens a segment kept the device
    // dry 31 ms; two busy-looping processes beside the tests, 59 ms with every byte there); the
    // device clock still waits for it. 0.05 s is 0.4 media s at k = 8, well below the stalls a
    // wrong decision causes (a segment's download).
    double stall_tolerance = 0.05;
    double max_media = std::numeric_limits<double>::infinity();  // stop after this much media
    // Actions run once, in order, after the chunk that reaches their media time was returned.
    std::vector<std::pair<double, std::function<void(hls::hls_stream&)>>> at;
};

struct play_result {
    pcm audio;
    std::vector<played_chunk> chunks;
    // next() calls that kept the device dry beyond the tolerance while waiting for the network
    std::size_t stalls = 0;
    double stall_seconds = 0;              // wall seconds the device was dry, all of it
    double max_stall = 0;                  // the longest, wall seconds
    wall_clock::time_point first_chunk{};  // the device starts playing here
    wall_clock::time_point end{};
    // Indices of the chunks whose variant differs from the chunk before.
    [[nodiscard]] std::vector<std::size_t> switch_chunks() const {
        std::vector<std::size_t> v;
        for (std::size_t i = 1; i < chunks.size(); ++i)
            if (chunks[i].variant != chunks[i - 1].variant) v.push_back(i);
        return v;
    }
    // "late chunks: 31.2 s (variant 1) 0.110 s; ..." for failure messages.
    [[nodiscard]] std::string stall_report() const {
        std::string out = std::to_string(stalls) + " stalls, " + std::to_string(stall_seconds) +
                          " s dry (wall), longest " + std::to_string(max_stall) +
                          " s; late chunks:";
        for (const auto& c : chunks)
            if (c.late > 0.005)
                out += " " + std::to_string(c.start) + " s (variant " + std::to_string(c.variant) +
                       ") " + std::to_string(c.late) + " s, network " + std::to_string(c.waited) +
                       " s;";
        return out;
    }
    [[nodiscard]] double media_seconds() const {
        return audio.rate ? static_cast<double>(audio.frames()) / audio.rate : 0;
    }
};

// Plays s like an audio device at o.speed: the device starts with the first chunk and consumes
// speed media seconds per wall second; after writing a chunk the consumer waits (a clock wait
// until the deadline the media position gives) until the device has room, then calls next().
// If next() returns after the device ran dry, the device clock stops for that long; it is a stall
// when the stream waited for the network that long (a machine busy elsewhere is not the stream's
// doing, and the stream never waits for the network because of it).
inline play_result play(hls::hls_stream& s, const play_options& o) {
    play_result r;
    double written = 0;    // media seconds given to the device
    double dry_total = 0;  // wall seconds the device waited for data
    std::size_t next_action = 0;
    bool started = false;
    for (;;) {
        if (started && o.speed > 0) {
            const double room_at = (written - o.device_buffer) / o.speed + dry_total;
            std::this_thread::sleep_until(
                r.first_chunk + std::chrono::duration_cast<wall_clock::duration>(
                                    std::chrono::duration<double>(std::max(0.0, room_at))));
        }
        const auto called = wall_clock::now();
        const double waited_before = s.stats().stall_seconds;
        auto c = s.next();
        const auto now = wall_clock::now();
        const double waited = s.stats().stall_seconds - waited_before;
        double late = 0;
        if (started && o.speed > 0) {
            // The device ran dry `dry` seconds ago; the part of that spent inside next() is the
            // stream's stall (the rest: this thread woke up late, not the stream's doing).
            const double dry_at = written / o.speed + dry_total;
            const double dry = std::max(0.0, seconds_between(r.first_chunk, now) - dry_at);
            dry_total += dry;
            late = std::min(dry, seconds_between(called, now));
            r.stall_seconds += late;
            r.max_stall = std::max(r.max_stall, late);
            if (std::min(late, waited) > o.stall_tolerance) ++r.stalls;
        }
        if (!c) {
            r.audio.failure = c.error();
            break;
        }
        if (!*c) break;
        const auto& ch = **c;
        if (!started) {
            started = true;
            r.first_chunk = now;
        }
        r.audio.rate = ch.sample_rate;
        r.audio.channels = ch.channels;
        const double start = std::chrono::duration<double>(ch.start).count();
        r.audio.starts.push_back(start);
        r.audio.samples.insert(r.audio.samples.end(), ch.samples.begin(), ch.samples.end());
        r.chunks.push_back({start, ch.frames(), s.info().variant, now, late, waited});
        written += static_cast<double>(ch.frames()) / ch.sample_rate;
        const double end = start + static_cast<double>(ch.frames()) / ch.sample_rate;
        while (next_action < o.at.size() && o.at[next_action].first <= end)
            o.at[next_action++].second(s);
        if (written >= o.max_media) break;
    }
    r.end = wall_clock::now();
    return r;
}

// Continuity at a switch point n0 (a frame index of `got`): the 50 ms after it against the new
// variant's own continuous decode `own` (same output rate, same frame indices), and the largest
// sample-to-sample change across it (the 8 frames from n0 on, so the step into the first new
// sample and the first new frame's start) against the largest in the 10 ms before it.
struct switch_check {
    std::size_t at = 0;     // n0
    double snr_db = 0;      // 50 ms after n0, all channels
    double jump = 0;        // max |x[n] - x[n-1]|, n in [n0, n0 + 8)
    double before_max = 0;  // max |x[n] - x[n-1]|, n in [n0 - 10 ms, n0)
    [[nodiscard]] double ratio() const { return before_max > 0 ? jump / before_max : jump * 1e9; }
};

inline double max_step(const pcm& p, std::size_t from, std::size_t to) {
    double m = 0;
    const std::size_t ch = p.channels;
    for (std::size_t n = std::max<std::size_t>(from, 1); n < to && n < p.frames(); ++n)
        for (std::size_t c = 0; c < ch; ++c)
            m = std::max(m, static_cast<double>(
                                std::fabs(p.samples[n * ch + c] - p.samples[(n - 1) * ch + c])));
    return m;
}

inline switch_check check_switch(const pcm& got, const pcm& own, std::size_t n0) {
    switch_check r;
    r.at = n0;
    const std::size_t ch = got.channels;
    const std::size_t n50 = got.rate / 20, n10 = got.rate / 100;
    const std::size_t n = std::min({n50, got.frames() - std::min(n0, got.frames()),
                                    own.frames() - std::min(n0, own.frames())});
    r.snr_db = n == 0 ? -std::numeric_limits<double>::infinity()
                      : snr_db(got.samples.data() + n0 * ch, own.samples.data() + n0 * ch, n * ch);
    r.jump = max_step(got, n0, n0 + 8);
    r.before_max = max_step(got, n0 > n10 ? n0 - n10 : 1, n0);
    return r;
}

// The whole variant `v` of `url` decoded by kithara through a locked stream (no adaptation), at
// the output format of `decode` (so a resampled variant is resampled the same way).
inline pcm locked_decode(const std::string& url, assets::asset_store& store, net::client& client,
                         std::size_t v, decode::decoder_options decode = {}) {
    hls::stream_options o;
    o.variant = v;
    o.decode = decode;
    auto s = hls::open(url, store, client, o);
    if (!s) {
        pcm p;
        p.failure = s.error();
        return p;
    }
    return drain(**s);
}

}  // namespace kithara::hls_test
