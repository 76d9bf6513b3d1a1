#include "test_server_link.hpp"

#include <algorithm>
#include <cmath>

namespace kithara::test::detail {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

}  // namespace

void shared_link::configure(link_options o) {
    std::sort(o.schedule.begin(), o.schedule.end(),
              [](const link_step& a, const link_step& b) { return a.at < b.at; });
    std::lock_guard lock(mutex_);
    config_ = std::move(o);
    origin_ = clock::now();
    factor_ = 1.0;
}

void shared_link::scale(double factor) {
    std::lock_guard lock(mutex_);
    factor_ *= factor;
}

bool shared_link::enabled() const {
    std::lock_guard lock(mutex_);
    return !config_.schedule.empty();
}

std::uint64_t shared_link::rate_at(double link_seconds) const {
    std::lock_guard lock(mutex_);
    return rate_at_locked(link_seconds);
}

std::uint64_t shared_link::rate_now() const {
    std::lock_guard lock(mutex_);
    const double real = std::chrono::duration<double>(clock::now() - origin_).count();
    return rate_at_locked(real * config_.time_scale);
}

std::uint64_t shared_link::rate_at_locked(double link_seconds) const {
    const auto& s = config_.schedule;
    if (s.empty()) return 0;
    const link_step* step = &s.front();
    for (const auto& st : s)
        if (st.at <= link_seconds) step = &st;
    double rate = static_cast<double>(step->bytes_per_second) * factor_;
    if (config_.noise > 0 && config_.noise_period > 0) {
        // One draw per noise period, a pure function of (seed, period): the same seed gives the
        // same rates whatever the timing of the run.
        const auto period =
            static_cast<std::uint64_t>(std::max(0.0, link_seconds / config_.noise_period));
        const double u =
            static_cast<double>(splitmix64(config_.seed * 0x100000001b3ull + period) >> 11) /
            9007199254740992.0;  // [0, 1)
        rate *= 1.0 + config_.noise * (2.0 * u - 1.0);
    }
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(rate)));
}

void shared_link::request(std::uint64_t id, std::uint64_t want, grant_fn on_grant) {
    waiters_.push_back({id, std::max<std::uint64_t>(want, 1), std::move(on_grant)});
    if (!ticking_) {
        // An idle link starts empty: no burst saved up while nobody sent.
        ticking_ = true;
        budget_ = 0;
        last_tick_ = clock::now();
        arm();
    }
}

void shared_link::cancel(std::uint64_t id) {
    std::erase_if(waiters_, [id](const waiter& w) { return w.id == id; });
}

std::chrono::milliseconds shared_link::period() const {
    std::lock_guard lock(mutex_);
    return std::max(config_.tick, std::chrono::milliseconds(1));
}

void shared_link::arm() {
    timer_.expires_at(last_tick_ + period());
    timer_.async_wait([this](const std::error_code& ec) {
        if (!ec) tick();
    });
}

void shared_link::tick() {
    if (waiters_.empty()) {  // the link went idle during the last tick: stop
        ticking_ = false;
        budget_ = 0;
        return;
    }
    const auto now = clock::now();
    const double dt = std::chrono::duration<double>(now - last_tick_).count();
    last_tick_ = now;
    const std::uint64_t rate = rate_now();
    std::vector<waiter> ready;
    ready.swap(waiters_);  // grants may re-request (write completion is asynchronous anyway)
    if (rate == 0) {       // the link was switched off: everyone gets what they asked for
        budget_ = 0;
        for (auto& w : ready) w.on_grant(w.want);
    } else {
        // The carry is at most one tick of the current rate: after a drop, the old rate's
        // leftover does not go out at the new one.
        const double per_tick =
            static_cast<double>(rate) * std::chrono::duration<double>(period()).count();
        budget_ = std::min(budget_, per_tick) + static_cast<double>(rate) * dt;
        // Water-filling: the smallest wants first; each takes min(want, equal share of the rest).
        std::stable_sort(ready.begin(), ready.end(),
                         [](const waiter& a, const waiter& b) { return a.want < b.want; });
        std::vector<std::pair<grant_fn, std::uint64_t>> grants;
        std::size_t left = ready.size();
        for (auto& w : ready) {
            const auto share = static_cast<std::uint64_t>(budget_ / static_cast<double>(left--));
            const std::uint64_t g = std::min(w.want, share);
            if (g == 0) {
                waiters_.push_back(std::move(w));  // below one byte per tick: wait for more
                continue;
            }
            budget_ -= static_cast<double>(g);
            grants.emplace_back(std::move(w.on_grant), g);
        }
        // What nobody could take is not saved up beyond one tick's worth (a real link does not
        // store unused capacity).
        budget_ = std::min(budget_, per_tick);
        for (auto& [fn, g] : grants) fn(g);
    }
    arm();
}

}  // namespace kithara::test::detail
