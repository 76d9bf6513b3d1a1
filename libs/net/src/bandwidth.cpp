// bandwidth: link_meter (concurrent transfers as one link) and bandwidth_estimator (fast and slow
// moving averages behind a median-of-three prefilter).
#include <kithara/net/bandwidth.hpp>

#include <algorithm>
#include <cmath>

namespace kithara::net {

namespace {

// Folds x, weighing w, into a bias-corrected EWMA `avg` whose folded weight is `folded`.
// Uncorrected, avg' = a * avg + (1 - a) * x with a = 0.5^(w / half_life), starting from 0; the
// correction divides by 1 - 0.5^(folded / half_life) (as hls.js's EWMA does), so the first
// samples are not pulled toward 0. Kept corrected, the update is a convex combination:
//   z = 1 - 0.5^(folded / h), z' = 1 - 0.5^((folded + w) / h) = a * z + (1 - a)
//   avg' = (a * z * avg + (1 - a) * x) / z'
void fold(double& avg, double& folded, double x, double w, double half_life) {
    if (!(half_life > 0)) {  // no memory: the latest value
        avg = x;
        folded += w;
        return;
    }
    const double a = std::exp2(-w / half_life);
    const double z = 1 - std::exp2(-folded / half_life);
    folded += w;
    const double z_next = a * z + (1 - a);
    avg = (a * z * avg + (1 - a) * x) / z_next;
}

}  // namespace

void bandwidth_estimator::add(double bytes_per_second, double weight) {
    if (!std::isfinite(bytes_per_second) || !(bytes_per_second > 0) || !std::isfinite(weight) ||
        !(weight > 0))
        return;
    recent_[2] = recent_[1];
    recent_[1] = recent_[0];
    recent_[0] = bytes_per_second;
    ++samples_;
    weight_ += weight;
    last_ = bytes_per_second;
    // The prefilter: the median of the last three; of two, the lower (one low outlier passes,
    // which errs on the safe side while nothing else is known); the first passes as it is.
    double x = bytes_per_second;
    if (samples_ == 2)
        x = std::min(recent_[0], recent_[1]);
    else if (samples_ >= 3)
        x = std::max(std::min(recent_[0], recent_[1]),
                     std::min(std::max(recent_[0], recent_[1]), recent_[2]));
    fold(fast_, fast_weight_, x, weight, opts_.fast_half_life);
    fold(slow_, slow_weight_, x, weight, opts_.slow_half_life);
}

void bandwidth_estimator::seed(double bytes_per_second) {
    if (std::isfinite(bytes_per_second) && bytes_per_second > 0) seed_ = bytes_per_second;
}

bool bandwidth_estimator::warm() const noexcept {
    return samples_ > 0 && samples_ >= opts_.warmup_samples && weight_ >= opts_.warmup_weight;
}

std::optional<double> bandwidth_estimator::estimate() const {
    if (warm()) return std::min(fast_, slow_);
    return seed_;
}

void bandwidth_estimator::reset() {
    *this = bandwidth_estimator(opts_);
}

std::optional<link_reading> link_meter::add(const throughput_sample& s, clock::time_point now) {
    pending_.bytes += s.interval_bytes;
    const auto begin = now - std::chrono::duration_cast<clock::duration>(s.interval_time);
    if (begin < now) {
        // Busy time added: the part of [begin, now] no span covers; the spans it touches merge
        // with it into one.
        auto busy = now - begin;
        span merged{begin, now};
        std::array<span, max_spans + 1> out{};
        std::size_t n = 0;
        bool placed = false;
        for (std::size_t i = 0; i < span_count_; ++i) {
            const auto& sp = spans_[i];
            if (sp.end < begin) {
                out[n++] = sp;
            } else if (sp.begin > now) {
                if (!placed) out[n++] = merged;
                placed = true;
                out[n++] = sp;
            } else {
                busy -= std::min(sp.end, now) - std::max(sp.begin, begin);
                merged.begin = std::min(merged.begin, sp.begin);
                merged.end = std::max(merged.end, sp.end);
            }
        }
        if (!placed) out[n++] = merged;
        const std::size_t drop = n > max_spans ? n - max_spans : 0;  // forget the oldest
        std::copy(out.begin() + static_cast<std::ptrdiff_t>(drop),
                  out.begin() + static_cast<std::ptrdiff_t>(n), spans_.begin());
        span_count_ = n - drop;
        pending_.busy += std::chrono::duration_cast<std::chrono::nanoseconds>(busy);
    }
    if (pending_.bytes < floor_ || pending_.busy.count() <= 0) return std::nullopt;
    const auto reading = pending_;
    pending_ = {};
    return reading;
}

void link_meter::reset() {
    pending_ = {};
    span_count_ = 0;
}

}  // namespace kithara::net
