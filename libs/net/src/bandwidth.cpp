// bandwidth: link_meter (concurrent transfers as one link) and bandwidth_estimator (fast and slow
// moving averages behind a median-of-three prefilter).
// (Interim implementation in the abr branch; the bw branch's replaces it.)
#include <kithara/net/bandwidth.hpp>

#include <algorithm>
#include <cmath>

namespace kithara::net {

void bandwidth_estimator::add(double bps, double weight) {
    if (!(bps > 0) || !(weight > 0)) return;
    recent_[samples_ % 3] = bps;
    ++samples_;
    last_ = bps;
    double v = bps;
    if (samples_ >= 3) {
        auto r = recent_;
        std::sort(r.begin(), r.end());
        v = r[1];
    } else if (samples_ == 2) {
        v = std::min(recent_[0], recent_[1]);
    }
    const double af = std::pow(0.5, weight / opts_.fast_half_life);
    const double as = std::pow(0.5, weight / opts_.slow_half_life);
    fast_ = v * (1 - af) + af * fast_;
    slow_ = v * (1 - as) + as * slow_;
    weight_ += weight;
    fast_weight_ = weight_;
    slow_weight_ = weight_;
}

void bandwidth_estimator::seed(double bps) {
    if (bps > 0) seed_ = bps;
}

bool bandwidth_estimator::warm() const noexcept {
    return weight_ >= opts_.warmup_weight && samples_ >= opts_.warmup_samples;
}

std::optional<double> bandwidth_estimator::estimate() const {
    if (warm()) {
        const double cf = 1 - std::pow(0.5, fast_weight_ / opts_.fast_half_life);
        const double cs = 1 - std::pow(0.5, slow_weight_ / opts_.slow_half_life);
        return std::min(fast_ / cf, slow_ / cs);
    }
    return seed_;
}

void bandwidth_estimator::reset() {
    *this = bandwidth_estimator(opts_);
}

std::optional<link_reading> link_meter::add(const throughput_sample& s, clock::time_point now) {
    const auto begin = now - std::chrono::duration_cast<clock::duration>(s.interval_time);
    const auto from = busy_until_ ? std::max(begin, *busy_until_) : begin;
    if (now > from) pending_.busy += std::chrono::duration_cast<std::chrono::nanoseconds>(now - from);
    if (!busy_until_ || now > *busy_until_) busy_until_ = now;
    pending_.bytes += s.interval_bytes;
    if (pending_.bytes < floor_ || pending_.busy.count() <= 0) return std::nullopt;
    auto r = pending_;
    pending_ = {};
    return r;
}

void link_meter::reset() {
    pending_ = {};
    busy_until_.reset();
}

}  // namespace kithara::net
