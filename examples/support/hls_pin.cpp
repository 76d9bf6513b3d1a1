#include "hls_pin.hpp"

#include "progress.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

namespace kithara::examples {

namespace {

using clock_type = std::chrono::steady_clock;

double secs(clock_type::duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

// "[##########..........]  50.0%  1.2 / ~2.4 MiB  7 / 30 segments  850 KiB/s"
std::string pin_progress_text(const hls::event& p, double kib_per_s) {
    double f = p.bytes_total
                   ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total)
                   : 0.0;
    if (p.segments_total && p.segments_done == p.segments_total) f = 1.0;
    f = std::clamp(f, 0.0, 1.0);
    constexpr int width = 24;
    const int full = static_cast<int>(f * width);
    std::string bar = "pinning [" + std::string(static_cast<std::size_t>(full), '#') +
                      std::string(static_cast<std::size_t>(width - full), '.') + "]";
    char tail[160];
    std::snprintf(tail, sizeof tail, " %5.1f%%  %.1f / %s%.1f MiB  %zu / %zu segments  %.0f KiB/s",
                  100.0 * f, static_cast<double>(p.bytes_done) / 1048576.0,
                  p.bytes_total_exact ? "" : "~", static_cast<double>(p.bytes_total) / 1048576.0,
                  p.segments_done, p.segments_total, kib_per_s);
    return bar + tail;
}

// hls::pin() on a thread of its own while this one draws its progress events (they
// arrive on the io thread and the pinning thread; only this thread touches the terminal).
result<hls::stream_stats> pin_with_progress(const std::string& url, assets::asset_store& store,
                                            net::client& client, hls::stream_options ho,
                                            bool show) {
    std::mutex m;
    std::condition_variable cv;
    hls::event last;     // the latest progress event      (guarded by m)
    bool fresh = false;  // (guarded by m)
    std::optional<kithara::result<hls::stream_stats>> done;  // (guarded by m)
    auto inner = std::move(ho.on_event);
    ho.on_event = [&, inner](const hls::event& e) {
        if (inner) inner(e);
        if (e.kind != hls::event_kind::progress) return;
        {
            std::lock_guard lock(m);
            last = e;
            fresh = true;
        }
        cv.notify_one();
    };
    std::thread worker([&] {
        auto r = hls::pin(url, store, client, std::move(ho));
        {
            std::lock_guard lock(m);
            done.emplace(std::move(r));
        }
        cv.notify_one();
    });
    progress_line line(show);
    const auto t0 = clock_type::now();
    std::unique_lock lock(m);
    for (;;) {
        cv.wait(lock, [&] { return fresh || done.has_value(); });
        if (done) break;
        fresh = false;
        const hls::event p = last;
        if (!line.due()) continue;
        lock.unlock();
        const double dt = secs(clock_type::now() - t0);
        line.show(
            pin_progress_text(p, dt > 0 ? static_cast<double>(p.bytes_done) / 1024.0 / dt : 0.0));
        lock.lock();
    }
    const hls::event p = last;
    lock.unlock();
    worker.join();
    if (line.enabled() && p.segments_total) {
        const double dt = secs(clock_type::now() - t0);
        line.show(
            pin_progress_text(p, dt > 0 ? static_cast<double>(p.bytes_done) / 1024.0 / dt : 0.0));
    }
    line.done();
    return std::move(*done);
}

}  // namespace kithara::examples
