// Internal to the test server: the shared link, one byte-rate budget for every connection of the
// server (a client's access link), as a token bucket refilled by one steady_timer tick and split
// fairly among the responses waiting to send (water-filling: a response that wants less than an
// equal share takes what it wants, the rest is shared by the others). Its rate follows a schedule
// of (link time, rate) steps, optionally scaled in time, with seeded noise and a live factor.
//
//   detail::shared_link link{io};
//   link.configure({.schedule = {{0, 125'000}}});             // any thread
//   link.request(id, 64 * 1024, [](std::uint64_t n) { ... });  // io thread: n bytes granted
//
// Threads: configure(), scale(), enabled(), rate_at() and rate_now() from any thread;
// request(), cancel() and the tick run on the io thread only. Locks: one leaf mutex guards the
// configuration (schedule, factor, clock origin); the waiters live on the io thread, unlocked.
// Buffers: none; grants are byte counts.
#pragma once

#include "test_server.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace kithara::test::detail {

class shared_link {
public:
    using clock = std::chrono::steady_clock;
    using grant_fn = std::function<void(std::uint64_t)>;

    explicit shared_link(asio::io_context& io) : timer_(io) {}

    // Replaces the configuration; the schedule's clock starts now; the factor resets to 1.
    void configure(link_options o);
    // Multiplies the current rate by factor from now on (0.05 = a 20x drop); any thread.
    void scale(double factor);
    [[nodiscard]] bool enabled() const;
    // The rate in bytes/s at a link time (seconds since configure, after time_scale), with noise
    // and the current factor; 0 = unlimited (no schedule).
    [[nodiscard]] std::uint64_t rate_at(double link_seconds) const;
    [[nodiscard]] std::uint64_t rate_now() const;

    // io thread: asks for up to `want` bytes; on_grant(n), 1 <= n <= want, runs on the io
    // thread at a later tick. One outstanding request per id.
    void request(std::uint64_t id, std::uint64_t want, grant_fn on_grant);
    // io thread: forgets id's outstanding request (its on_grant is never called).
    void cancel(std::uint64_t id);

private:
    struct waiter {
        std::uint64_t id;
        std::uint64_t want;
        grant_fn on_grant;
    };

    std::uint64_t rate_at_locked(double link_seconds) const;
    std::chrono::milliseconds period() const;  // the tick
    void arm();
    void tick();

    mutable std::mutex mutex_;  // guards config_, origin_, factor_
    link_options config_;
    clock::time_point origin_ = clock::now();
    double factor_ = 1.0;

    // io thread only.
    asio::steady_timer timer_;
    bool ticking_ = false;
    clock::time_point last_tick_{};
    double budget_ = 0;  // bytes not yet granted, carried to the next tick (below one tick's)
    std::vector<waiter> waiters_;
};

}  // namespace kithara::test::detail
