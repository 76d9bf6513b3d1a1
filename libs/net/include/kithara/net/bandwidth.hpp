// kithara::net::bandwidth_estimator and kithara::net::link_meter: network throughput estimation
// for adaptive bitrate, from throughput_samples (network transfers only: never cache hits or
// disk reads).
//
//   kithara::net::link_meter meter;            // the link, across concurrent transfers
//   kithara::net::bandwidth_estimator est{};   // fast and slow moving averages, take the lower
//   // on each throughput_sample s of a media request (on the executor):
//   if (auto r = meter.add(s, std::chrono::steady_clock::now()))
//       est.add(r->bytes_per_second(), r->weight(media_bytes_per_second));
//   // when no media request is in flight any more: meter.flush() gives the rest
//   if (auto r = meter.flush()) est.add(r->bytes_per_second(), r->weight(media_bytes_per_second));
//   if (auto bps = est.estimate()) { /* bytes/s, once warmed up (or seeded) */ }
//
// link_meter turns per-transfer samples into readings of the link: the bytes of every transfer
// over the union of the times at least one of them was receiving, so two transfers sharing a
// link measure the link, not half of it. A reading covers a stretch of time once every
// transfer had the time to report its bytes of it (one sample interval later, or flush()), and
// is emitted once it holds floor_bytes (smaller ones mean nothing: the head, TCP slow start and
// a read's granularity dominate them).
//
// bandwidth_estimator: two exponentially weighted moving averages of the rate whose half-lives
// are given in units of sample weight (hls weighs a sample by the media seconds it carried, so the
// estimator behaves the same at any playback speed or bitrate). A median of the last three
// samples feeds them, so one outlier in either direction moves nothing. estimate() is the lowest
// of the two averages and (from the third sample) that median: slow to rise, and a drop that
// lasts two samples counts at once (an 8x drop would take the averages three half-lives).
// (The first sample feeds them as it is, the second the lower of the first two.) The averages
// are bias-corrected like hls.js's EWMA, so the first samples are not pulled toward 0.
// Until warmup_weight and warmup_samples are reached estimate() is empty, unless seed() gave a
// prior (e.g. the estimate of a previous session), which samples then replace.
//
// Threads: neither class is thread-safe; the owner serializes calls (hls calls them under its
// lock). Buffers: none (fixed arrays: a link_meter is about 1 KB).
#pragma once

#include <kithara/net/client.hpp>
#include <kithara/net/export.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace kithara::net {

struct estimator_options {
    // Half-lives in units of sample weight (hls: media seconds of data downloaded): a sample of
    // weight w keeps 0.5^(w / half_life) of the average. Defaults tuned on the ABR tests
    // (docs/HLS.md, "Adaptive bitrate").
    double fast_half_life = 2.0;
    double slow_half_life = 8.0;
    // estimate() stays empty until this much weight and this many samples were added.
    double warmup_weight = 1.0;
    std::size_t warmup_samples = 2;
};

class KITHARA_NET_EXPORT bandwidth_estimator {
public:
    explicit bandwidth_estimator(estimator_options o = {}) : opts_(o) {}

    // A rate (bytes/s, > 0) measured over `weight` (> 0) units; other values are ignored.
    void add(double bytes_per_second, double weight);
    // A prior (> 0, else ignored): estimate() returns it until the warm-up is reached, then
    // the samples rule.
    void seed(double bytes_per_second);
    // Bytes/s: min(fast, slow) once warm, else the seed, else empty.
    [[nodiscard]] std::optional<double> estimate() const;
    [[nodiscard]] bool warm() const noexcept;
    // The (bias-corrected) averages of the prefiltered samples, warm or not; 0 before any.
    [[nodiscard]] double fast() const noexcept { return fast_; }
    [[nodiscard]] double slow() const noexcept { return slow_; }
    [[nodiscard]] std::size_t samples() const noexcept { return samples_; }
    [[nodiscard]] double total_weight() const noexcept { return weight_; }
    // The last raw sample (0 before any): what the link does right now, unsmoothed.
    [[nodiscard]] double last() const noexcept { return last_; }
    // Forgets everything, the seed included.
    void reset();

private:
    estimator_options opts_;
    double fast_ = 0;  // bias-corrected
    double slow_ = 0;
    double fast_weight_ = 0;  // sum of weights folded into fast_ (bias correction)
    double slow_weight_ = 0;
    double weight_ = 0;
    double median_ = 0;  // the prefilter's last output (median of the last three)
    double last_ = 0;
    std::size_t samples_ = 0;
    std::array<double, 3> recent_{};  // the last raw samples (median-of-three prefilter)
    std::optional<double> seed_;
};

// One reading of the link: bytes received over busy time (the union of receiving intervals).
struct link_reading {
    std::uint64_t bytes = 0;
    std::chrono::nanoseconds busy{0};
    [[nodiscard]] double bytes_per_second() const noexcept {
        return busy.count() > 0
                   ? static_cast<double>(bytes) * 1e9 / static_cast<double>(busy.count())
                   : 0.0;
    }
    // The sample's weight for an estimator in media seconds: bytes over the media's bytes/s.
    [[nodiscard]] double weight(double media_bytes_per_second) const noexcept {
        return media_bytes_per_second > 0 ? static_cast<double>(bytes) / media_bytes_per_second
                                          : 0.0;
    }
};

class KITHARA_NET_EXPORT link_meter {
public:
    using clock = std::chrono::steady_clock;
    explicit link_meter(std::uint64_t floor_bytes = 16 * 1024) : floor_(floor_bytes) {}

    // A transfer's sample observed at `now` (its interval ends then): its interval_bytes spread
    // evenly over [now - interval_time, now]. Readings cover the link's time up to `now` minus
    // the longest of the recent sample intervals (a concurrent transfer reports the bytes it
    // received there by then): a stretch's bytes, of every transfer, over its busy time. Returns
    // a reading once floor_bytes settled over some busy time (and starts the next), else
    // nullopt; bytes below the floor are kept for the next reading, never dropped.
    std::optional<link_reading> add(const throughput_sample& s, clock::time_point now);
    // Settles everything reported so far: call it when no transfer is in flight (nothing can
    // still arrive for that time), e.g. after a lone final sample, to read it without waiting
    // for the next transfer. A reading as add() gives it.
    std::optional<link_reading> flush();
    // What accumulated since the last reading, settled or not (e.g. to judge a transfer that is
    // collapsing).
    [[nodiscard]] link_reading pending() const noexcept;
    [[nodiscard]] std::uint64_t floor_bytes() const noexcept { return floor_; }
    // Forgets the pending bytes and the busy intervals (e.g. after a network change).
    void reset();

private:
    struct span {
        clock::time_point begin, end;
    };
    struct piece {  // a sample's bytes not settled yet, spread over [from, end]
        clock::time_point from, end;
        double bytes = 0;
    };
    [[nodiscard]] clock::duration covered(clock::time_point a, clock::time_point b) const noexcept;
    void cover(clock::time_point begin, clock::time_point end);
    void settle(clock::time_point until);
    std::optional<link_reading> take();

    // Busy time, as disjoint spans in time order: the union is exact while it has at most
    // max_spans - 1 idle gaps; beyond that the oldest span is forgotten (time it covered would
    // count again if a later interval reached back there: the rate errs low).
    static constexpr std::size_t max_spans = 16;
    static constexpr std::size_t max_pieces = 32;  // beyond: the oldest settles at once
    static constexpr std::size_t max_lags = 8;     // the lag: the longest of the last intervals
    std::uint64_t floor_;
    double bytes_ = 0;  // settled, not yet read
    std::chrono::nanoseconds busy_{0};
    std::array<span, max_spans> spans_{};
    std::size_t span_count_ = 0;
    std::array<piece, max_pieces> pieces_{};
    std::size_t piece_count_ = 0;
    std::array<clock::duration, max_lags> lags_{};
    std::size_t lag_next_ = 0;
    std::optional<clock::time_point> settled_;  // the link's time is settled up to here
    clock::time_point last_{};                  // the latest `now`
};

}  // namespace kithara::net
