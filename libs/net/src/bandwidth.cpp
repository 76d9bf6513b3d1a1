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
    median_ = x;
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
    // The median of the last three joins once there are three: a drop that lasts two samples
    // counts at once (the averages would take several half-lives to fall that far).
    if (warm()) return samples_ >= 3 ? std::min({fast_, slow_, median_}) : std::min(fast_, slow_);
    return seed_;
}

void bandwidth_estimator::reset() {
    *this = bandwidth_estimator(opts_);
}

namespace {

constexpr link_meter::clock::duration max_lag = std::chrono::seconds(2);

}  // namespace

link_meter::clock::duration link_meter::covered(clock::time_point a,
                                                clock::time_point b) const noexcept {
    clock::duration sum{0};
    for (std::size_t i = 0; i < span_count_; ++i) {
        const auto from = std::max(spans_[i].begin, a);
        const auto to = std::min(spans_[i].end, b);
        if (to > from) sum += to - from;
    }
    return sum;
}

void link_meter::cover(clock::time_point begin, clock::time_point end) {
    span merged{begin, end};
    std::array<span, max_spans + 1> out{};
    std::size_t n = 0;
    bool placed = false;
    for (std::size_t i = 0; i < span_count_; ++i) {
        const auto& sp = spans_[i];
        if (sp.end < begin) {
            out[n++] = sp;
        } else if (sp.begin > end) {
            if (!placed) out[n++] = merged;
            placed = true;
            out[n++] = sp;
        } else {  // touches [begin, end]: one span with it
            merged.begin = std::min(merged.begin, sp.begin);
            merged.end = std::max(merged.end, sp.end);
        }
    }
    if (!placed) out[n++] = merged;
    std::size_t drop = 0;
    if (n > max_spans) {  // one too many: forget the oldest
        // Not settled yet (more gaps than spans within one lag): it joins the next one instead,
        // the gap between them counted as busy (the rate errs low, never high).
        if (settled_ && out[0].end > *settled_) out[1].begin = out[0].begin;
        drop = 1;
    }
    std::copy(out.begin() + static_cast<std::ptrdiff_t>(drop),
              out.begin() + static_cast<std::ptrdiff_t>(n), spans_.begin());
    span_count_ = n - drop;
}

void link_meter::settle(clock::time_point until) {
    if (!settled_) return;
    // Bytes: every piece's share of the time before `until` (or before what is settled already:
    // a transfer's first interval can reach back there; its time was counted when it came).
    const auto to = std::max(until, *settled_);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < piece_count_; ++i) {
        auto p = pieces_[i];
        if (p.end <= to) {
            bytes_ += p.bytes;
            continue;
        }
        if (p.from < to) {
            const double share = std::chrono::duration<double>(to - p.from).count() /
                                 std::chrono::duration<double>(p.end - p.from).count();
            bytes_ += p.bytes * share;
            p.bytes -= p.bytes * share;
            p.from = to;
        }
        pieces_[kept++] = p;
    }
    piece_count_ = kept;
    // Time: the busy part of (settled, until].
    if (until > *settled_) {
        busy_ += covered(*settled_, until);
        settled_ = until;
    }
}

std::optional<link_reading> link_meter::take() {
    const auto bytes = static_cast<std::uint64_t>(std::llround(std::max(bytes_, 0.0)));
    if (bytes < floor_ || busy_.count() <= 0 || bytes == 0) return std::nullopt;
    link_reading r{.bytes = bytes, .busy = busy_};
    bytes_ -= static_cast<double>(bytes);  // the rounding's remainder goes to the next reading
    busy_ = {};
    return r;
}

std::optional<link_reading> link_meter::add(const throughput_sample& s, clock::time_point now) {
    last_ = std::max(last_, now);
    const auto interval =
        std::max(std::chrono::duration_cast<clock::duration>(s.interval_time), clock::duration{0});
    const auto begin = now - interval;
    if (!settled_) settled_ = begin;
    if (begin < *settled_) {  // reaches back into settled time: its uncovered part counts now
        const auto end = std::min(now, *settled_);
        busy_ += std::chrono::duration_cast<std::chrono::nanoseconds>((end - begin) -
                                                                      covered(begin, end));
    }
    if (begin < now) cover(begin, now);
    if (s.interval_bytes > 0) {
        if (piece_count_ == max_pieces) {  // no room: the oldest settles whole
            bytes_ += pieces_[0].bytes;
            std::move(pieces_.begin() + 1, pieces_.end(), pieces_.begin());
            --piece_count_;
        }
        pieces_[piece_count_++] = {begin, now, static_cast<double>(s.interval_bytes)};
    }
    lags_[lag_next_] = std::min(interval, max_lag);
    lag_next_ = (lag_next_ + 1) % max_lags;
    settle(now - *std::max_element(lags_.begin(), lags_.end()));
    return take();
}

std::optional<link_reading> link_meter::flush() {
    settle(last_);
    return take();
}

link_reading link_meter::pending() const noexcept {
    double bytes = bytes_;
    for (std::size_t i = 0; i < piece_count_; ++i) bytes += pieces_[i].bytes;
    auto busy = busy_;
    if (settled_ && last_ > *settled_)
        busy += std::chrono::duration_cast<std::chrono::nanoseconds>(covered(*settled_, last_));
    return {.bytes = static_cast<std::uint64_t>(std::llround(std::max(bytes, 0.0))), .busy = busy};
}

void link_meter::reset() {
    *this = link_meter(floor_);
}

}  // namespace kithara::net
