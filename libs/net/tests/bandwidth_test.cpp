// kithara::net::bandwidth_estimator and link_meter on synthetic samples (chosen rates, weights
// and timestamps). The meter over real concurrent transfers: tests/integration/shared_link_test.
#include <kithara/net/bandwidth.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace kithara::net {
namespace {

using namespace std::chrono_literals;

// Adds n samples of rate r, weight w each.
void feed(bandwidth_estimator& e, double r, double w, int n) {
    for (int i = 0; i < n; ++i) e.add(r, w);
}

// Samples of rate r (weight w) until the estimate is within 10 % of r; how many it took.
int samples_to_reach(bandwidth_estimator& e, double r, double w) {
    for (int i = 1; i <= 100; ++i) {
        e.add(r, w);
        if (std::abs(*e.estimate() - r) <= 0.1 * r) return i;
    }
    return 1000;
}

TEST(bandwidth_estimator, constant_rate_converges_to_it) {
    bandwidth_estimator e;
    feed(e, 1e6, 1, 20);
    ASSERT_TRUE(e.estimate());
    EXPECT_NEAR(*e.estimate(), 1e6, 1e-6);
    EXPECT_NEAR(e.fast(), 1e6, 1e-6);
    EXPECT_NEAR(e.slow(), 1e6, 1e-6);
    EXPECT_EQ(e.samples(), 20u);
    EXPECT_DOUBLE_EQ(e.total_weight(), 20);
}

TEST(bandwidth_estimator, first_samples_are_not_pulled_toward_zero) {
    // Without the bias correction, the slow average (half-life 8) would hold 1 - 0.5^(2/8) =
    // 16 % of the rate after 2 units of weight.
    bandwidth_estimator e;
    feed(e, 5e5, 1, 2);
    ASSERT_TRUE(e.warm());
    EXPECT_NEAR(*e.estimate(), 5e5, 1e-6);
    EXPECT_NEAR(e.slow(), 5e5, 1e-6);
}

TEST(bandwidth_estimator, one_outlier_up_moves_nothing) {
    bandwidth_estimator e;
    feed(e, 1e6, 4, 10);
    e.add(8e6, 4);
    EXPECT_DOUBLE_EQ(e.last(), 8e6);
    EXPECT_NEAR(*e.estimate(), 1e6, 1e-6);
    EXPECT_NEAR(e.fast(), 1e6, 1e-6);
    e.add(1e6, 4);
    EXPECT_NEAR(*e.estimate(), 1e6, 1e-6);
    EXPECT_NEAR(e.slow(), 1e6, 1e-6);
}

TEST(bandwidth_estimator, one_outlier_down_moves_nothing) {
    bandwidth_estimator e;
    feed(e, 1e6, 4, 10);
    e.add(1e4, 4);
    EXPECT_DOUBLE_EQ(e.last(), 1e4);
    EXPECT_NEAR(*e.estimate(), 1e6, 1e-6);
    e.add(1e6, 4);
    EXPECT_NEAR(*e.estimate(), 1e6, 1e-6);
    EXPECT_NEAR(e.fast(), 1e6, 1e-6);
}

TEST(bandwidth_estimator, sustained_drop_shows_from_its_second_sample) {
    bandwidth_estimator e;
    feed(e, 1e6, 4, 10);  // 4 media seconds per sample, like a segment
    e.add(2.5e5, 4);
    EXPECT_NEAR(*e.estimate(), 1e6, 1e-6);  // one low sample could be an outlier
    e.add(2.5e5, 4);
    // The fast average (half-life 2) keeps 0.5^(4/2) = 25 % of the old rate: 437.5 kB/s; the
    // median of the last three is the new rate already, and the estimate is the lowest.
    EXPECT_NEAR(e.fast(), 0.25 * 1e6 + 0.75 * 2.5e5, 1);
    EXPECT_GT(e.slow(), e.fast());
    EXPECT_DOUBLE_EQ(*e.estimate(), 2.5e5);
    e.add(2.5e5, 4);
    EXPECT_DOUBLE_EQ(*e.estimate(), 2.5e5);
}

TEST(bandwidth_estimator, rise_is_slower_than_drop) {
    bandwidth_estimator down, up;
    feed(down, 1e6, 4, 10);
    feed(up, 2.5e5, 4, 10);
    const int to_fall = samples_to_reach(down, 2.5e5, 4);
    EXPECT_LE(to_fall, 4);
    // Rising, the slow average (half-life 8) is the lower one and rules.
    up.add(1e6, 4);
    up.add(1e6, 4);
    EXPECT_GT(up.fast(), up.slow());
    EXPECT_DOUBLE_EQ(*up.estimate(), up.slow());
    const int to_rise = 2 + samples_to_reach(up, 1e6, 4);
    EXPECT_GE(to_rise, to_fall + 3) << to_fall;  // 7 against 4
}

TEST(bandwidth_estimator, empty_until_warm) {
    bandwidth_estimator e;  // warm-up: 1 unit of weight and 2 samples
    EXPECT_FALSE(e.estimate());
    e.add(1e6, 0.3);
    EXPECT_FALSE(e.estimate());
    e.add(1e6, 0.3);  // 2 samples, 0.6 units
    EXPECT_FALSE(e.warm());
    EXPECT_FALSE(e.estimate());
    e.add(1e6, 0.5);
    EXPECT_TRUE(e.warm());
    EXPECT_NEAR(*e.estimate(), 1e6, 1e-6);

    bandwidth_estimator heavy;
    heavy.add(1e6, 10);  // weight enough, but one sample
    EXPECT_FALSE(heavy.estimate());
    heavy.add(1e6, 10);
    EXPECT_TRUE(heavy.estimate());
}

TEST(bandwidth_estimator, warm_up_follows_its_options) {
    bandwidth_estimator e({.warmup_weight = 8, .warmup_samples = 3});
    feed(e, 1e6, 2, 3);
    EXPECT_FALSE(e.estimate());
    e.add(1e6, 2);
    EXPECT_TRUE(e.estimate());
}

TEST(bandwidth_estimator, with_two_samples_the_lower_feeds_the_averages) {
    bandwidth_estimator e;
    e.add(1e6, 1);
    e.add(4e5, 1);
    EXPECT_NEAR(e.fast(), 7e5, 7e5 * 0.2);  // the first as it is, then the lower: between
    EXPECT_LT(*e.estimate(), 1e6);
    e.add(2e6, 1);  // median of 1e6, 4e5, 2e6
    bandwidth_estimator ref;
    ref.add(1e6, 1);
    ref.add(4e5, 1);
    ref.add(1e6, 1);
    EXPECT_DOUBLE_EQ(e.fast(), ref.fast());
    EXPECT_DOUBLE_EQ(e.slow(), ref.slow());
}

TEST(bandwidth_estimator, seed_rules_until_warm_then_samples_replace_it) {
    bandwidth_estimator e;
    e.seed(3e5);
    ASSERT_TRUE(e.estimate());
    EXPECT_DOUBLE_EQ(*e.estimate(), 3e5);
    e.add(1e6, 4);
    EXPECT_DOUBLE_EQ(*e.estimate(), 3e5);  // one sample: not warm
    e.add(1e6, 4);
    EXPECT_NEAR(*e.estimate(), 1e6, 1e-6);  // not mixed with the seed
    e.seed(1e3);                            // a later seed does not override samples
    EXPECT_NEAR(*e.estimate(), 1e6, 1e-6);
}

TEST(bandwidth_estimator, reset_forgets_samples_and_seed) {
    bandwidth_estimator e;
    e.seed(3e5);
    feed(e, 1e6, 1, 5);
    e.reset();
    EXPECT_FALSE(e.estimate());
    EXPECT_EQ(e.samples(), 0u);
    EXPECT_EQ(e.total_weight(), 0);
    EXPECT_EQ(e.last(), 0);
    EXPECT_EQ(e.fast(), 0);
    // The prefilter starts over too: the next first sample passes as it is.
    feed(e, 2e5, 1, 2);
    EXPECT_NEAR(*e.estimate(), 2e5, 1e-6);
}

TEST(bandwidth_estimator, invalid_samples_and_seeds_are_ignored) {
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    bandwidth_estimator e;
    e.add(0, 1);
    e.add(-5, 1);
    e.add(nan, 1);
    e.add(inf, 1);
    e.add(1e6, 0);
    e.add(1e6, -1);
    e.add(1e6, nan);
    e.add(1e6, inf);
    e.seed(0);
    e.seed(nan);
    e.seed(-1);
    EXPECT_EQ(e.samples(), 0u);
    EXPECT_EQ(e.total_weight(), 0);
    EXPECT_FALSE(e.estimate());
}

TEST(bandwidth_estimator, weights_make_it_indifferent_to_how_the_data_is_cut) {
    // 6 media seconds at 1 MB/s, 6 at 400 kB/s, 8 at 800 kB/s, cut into samples of 0.5 or 2 media
    // seconds (each weighing what it carried). Sample counts differ 4x; the estimates do not.
    auto rate = [](double t) { return t < 6 ? 1e6 : t < 12 ? 4e5 : 8e5; };
    auto run = [&](double cut) {
        bandwidth_estimator e;
        for (double t = 0; t < 20 - 1e-9; t += cut) {
            // The sample's rate: its bytes over its time (the pieces of its cut at each rate).
            double time = 0;
            for (int k = 0; k < 100; ++k) time += cut / 100 / rate(t + cut * (k + 0.5) / 100);
            e.add(cut / time, cut);
        }
        return e;
    };
    const auto fine = run(0.5), coarse = run(2);
    EXPECT_EQ(fine.samples(), 40u);
    EXPECT_EQ(coarse.samples(), 10u);
    EXPECT_NEAR(*coarse.estimate(), *fine.estimate(), 0.03 * *fine.estimate());
    EXPECT_NEAR(coarse.slow(), fine.slow(), 0.03 * fine.slow());
    EXPECT_NEAR(coarse.fast(), fine.fast(), 0.03 * fine.fast());
    EXPECT_NEAR(*fine.estimate(), 7.3e5, 0.05 * 7.3e5);  // on the way from 400 to 800 kB/s
}

// --- link_meter ---------------------------------------------------------------------------

using clock = link_meter::clock;
const clock::time_point t0 = clock::time_point{} + 1h;

clock::time_point at(std::chrono::milliseconds ms) {
    return t0 + ms;
}

throughput_sample sample(std::uint64_t bytes, std::chrono::milliseconds interval) {
    throughput_sample s;
    s.interval_bytes = bytes;
    s.interval_time = interval;
    return s;
}

constexpr std::uint64_t no_floor_reached = std::uint64_t{1} << 40;

TEST(link_meter, one_transfer_reads_its_bytes_over_its_intervals) {
    link_meter m;  // floor 16 KiB
    // A stretch is read one sample interval after it ended (a concurrent transfer could still
    // report bytes of it), or at flush().
    EXPECT_FALSE(m.add(sample(64'000, 100ms), at(100ms)));
    for (int i = 2; i <= 4; ++i) {
        auto r = i < 4 ? m.add(sample(64'000, 100ms), at(i * 100ms)) : m.flush();
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->bytes, 64'000u);
        EXPECT_EQ(r->busy, 100ms);
        EXPECT_DOUBLE_EQ(r->bytes_per_second(), 640'000);
    }
    EXPECT_EQ(m.pending().bytes, 0u);
    EXPECT_EQ(m.pending().busy, 0ns);
    EXPECT_FALSE(m.flush());
}

TEST(link_meter, staggered_samples_of_concurrent_transfers_read_the_link) {
    // Two transfers share a 1 MB/s link, each sampled every 100 ms, B 3 ms after A. Reading at
    // each sample the bytes it brought over the time it added would alternate between A's half
    // of the link and B's 50 kB over 3 ms (16 MB/s).
    link_meter m;
    std::vector<link_reading> readings;
    for (int i = 1; i <= 10; ++i) {
        if (auto r = m.add(sample(50'000, 100ms), at(i * 100ms))) readings.push_back(*r);
        if (auto r = m.add(sample(50'000, 100ms), at(i * 100ms + 3ms))) readings.push_back(*r);
    }
    if (auto r = m.flush()) readings.push_back(*r);
    ASSERT_GE(readings.size(), 9u);
    std::uint64_t bytes = 0;
    for (const auto& r : readings) {
        bytes += r.bytes;
        EXPECT_NEAR(r.bytes_per_second(), 1e6, 0.03e6) << r.bytes << " B over " << r.busy.count();
    }
    EXPECT_EQ(bytes, 1'000'000u);
}

TEST(link_meter, short_concurrent_transfers_with_one_sample_each_read_the_link) {
    // Pairs of segments fetched together over a 1 MB/s link, each reporting only its final
    // sample: A gets [t, t + 60] (30 kB), B [t, t + 64] (30 kB shared, then 4 kB alone).
    link_meter m;
    std::vector<link_reading> readings;
    for (int k = 0; k < 10; ++k) {
        const auto t = k * 100ms;
        if (auto r = m.add(sample(30'000, 60ms), at(t + 60ms))) readings.push_back(*r);
        if (auto r = m.add(sample(34'000, 64ms), at(t + 64ms))) readings.push_back(*r);
    }
    if (auto r = m.flush()) readings.push_back(*r);
    ASSERT_GE(readings.size(), 5u);
    std::uint64_t bytes = 0;
    for (const auto& r : readings) {
        bytes += r.bytes;
        EXPECT_NEAR(r.bytes_per_second(), 1e6, 0.1e6) << r.bytes << " B over " << r.busy.count();
    }
    EXPECT_EQ(bytes, 640'000u);
}

TEST(link_meter, two_overlapping_transfers_count_the_union_of_their_time) {
    link_meter m(no_floor_reached);
    // A receives over [0, 400] ms, B over [50, 450] ms, each sampled every 100 ms, 50 kB each:
    // 400 kB over 450 ms of link time, not over 800 ms (the sum) nor 400 ms (one of them).
    for (int i = 1; i <= 4; ++i) {
        EXPECT_FALSE(m.add(sample(50'000, 100ms), at(i * 100ms)));
        EXPECT_FALSE(m.add(sample(50'000, 100ms), at(i * 100ms + 50ms)));
    }
    EXPECT_EQ(m.pending().bytes, 400'000u);
    EXPECT_EQ(m.pending().busy, 450ms);
    EXPECT_NEAR(m.pending().bytes_per_second(), 400'000 / 0.45, 1e-6);
}

TEST(link_meter, transfer_that_started_first_but_reports_last_counts_from_its_start) {
    link_meter m(no_floor_reached);
    m.add(sample(10'000, 100ms), at(200ms));  // A: [100, 200]
    m.add(sample(30'000, 300ms), at(300ms));  // B: [0, 300], A's part inside it
    EXPECT_EQ(m.pending().busy, 300ms);
    EXPECT_EQ(m.pending().bytes, 40'000u);
}

TEST(link_meter, gaps_between_transfers_are_not_busy_time) {
    link_meter m(no_floor_reached);
    m.add(sample(10'000, 100ms), at(100ms));  // [0, 100]
    m.add(sample(10'000, 100ms), at(400ms));  // [300, 400]: idle in between
    m.add(sample(10'000, 150ms), at(450ms));  // [300, 450], overlapping the previous
    EXPECT_EQ(m.pending().busy, 250ms);
    // A late report reaching back into the gap counts only the gap's covered part.
    m.add(sample(10'000, 300ms), at(460ms));  // [160, 460]: adds [160, 300] and [450, 460]
    EXPECT_EQ(m.pending().busy, 400ms);
    EXPECT_EQ(m.pending().bytes, 40'000u);
}

TEST(link_meter, readings_wait_for_the_floor_and_keep_the_remainder) {
    link_meter m(16 * 1024);
    // 4 KiB every 10 ms: each stretch settles one interval later; the fourth settled makes 16 KiB.
    for (int i = 1; i <= 4; ++i) EXPECT_FALSE(m.add(sample(4096, 10ms), at(i * 10ms))) << i;
    EXPECT_EQ(m.pending().bytes, 4u * 4096);  // settled or not
    EXPECT_EQ(m.pending().busy, 40ms);
    auto r = m.add(sample(4096, 10ms), at(50ms));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, 16u * 1024);
    EXPECT_EQ(r->busy, 40ms);
    EXPECT_EQ(m.pending().bytes, 4096u);  // the fifth, not settled yet
    EXPECT_EQ(m.pending().busy, 10ms);
    // A final sample below the floor (a small last response) stays for the next reading.
    EXPECT_FALSE(m.add(sample(1000, 5ms), at(100ms)));
    EXPECT_FALSE(m.flush());
    EXPECT_EQ(m.pending().bytes, 5096u);
    EXPECT_EQ(m.pending().busy, 15ms);  // the idle gap [50, 95] is not busy
    EXPECT_FALSE(m.add(sample(20'000, 20ms), at(200ms)));
    r = m.flush();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, 25'096u);
    EXPECT_EQ(r->busy, 35ms);
}

TEST(link_meter, bytes_without_busy_time_wait_for_time) {
    link_meter m(1000);
    EXPECT_FALSE(m.add(sample(5000, 0ms), at(100ms)));  // one read: bytes, no measurable time
    EXPECT_FALSE(m.flush());
    EXPECT_EQ(m.pending().bytes, 5000u);
    EXPECT_FALSE(m.add(sample(5000, 50ms), at(150ms)));
    auto r = m.flush();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, 10'000u);
    EXPECT_EQ(r->busy, 50ms);
}

TEST(link_meter, weight_is_media_seconds_of_the_bytes) {
    link_reading r{.bytes = 64'000, .busy = 500ms};
    EXPECT_DOUBLE_EQ(r.bytes_per_second(), 128'000);
    EXPECT_DOUBLE_EQ(r.weight(16'000), 4);  // 128 kbit/s media: 4 s of it
    EXPECT_EQ(r.weight(0), 0);
    EXPECT_EQ(link_reading{}.bytes_per_second(), 0);
}

TEST(link_meter, many_idle_gaps_err_toward_a_lower_rate) {
    link_meter m(no_floor_reached);
    // 20 bursts of 10 ms with 10 ms gaps, then one late report spanning all of them: the union
    // is exact for the recent spans; forgotten old ones count twice (never less than exact).
    for (int i = 0; i < 20; ++i) m.add(sample(1000, 10ms), at(i * 20ms + 10ms));
    EXPECT_EQ(m.pending().busy, 200ms);
    m.add(sample(1000, 400ms), at(400ms));
    EXPECT_GE(m.pending().busy, 400ms);
    EXPECT_LE(m.pending().busy, 600ms);

    // The same bursts while a long interval keeps them unsettled (a lag of 1 s): the oldest
    // spans join their neighbours, their gaps count as busy.
    link_meter n(no_floor_reached);
    n.add(sample(1000, 1000ms), at(1000ms));
    for (int i = 0; i < 20; ++i) n.add(sample(1000, 10ms), at(1000ms + i * 20ms + 20ms));
    EXPECT_FALSE(n.flush());
    EXPECT_GE(n.pending().busy, 1200ms);  // exact: 1 s + 20 x 10 ms
    EXPECT_LE(n.pending().busy, 1400ms);  // the whole stretch
}

TEST(link_meter, reset_forgets_pending_bytes_and_busy_time) {
    link_meter m(no_floor_reached);
    m.add(sample(5000, 100ms), at(100ms));
    m.reset();
    EXPECT_EQ(m.pending().bytes, 0u);
    m.add(sample(5000, 100ms), at(100ms));  // the same interval counts again after a reset
    EXPECT_EQ(m.pending().busy, 100ms);
}

}  // namespace
}  // namespace kithara::net
