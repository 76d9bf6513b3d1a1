// The test server's shared link (one byte budget for every connection, a rate schedule, noise),
// exercised through kithara::net as a client would see it.
#include <kithara/net/bandwidth.hpp>
#include <kithara/net/client.hpp>

#include "io_thread.hpp"
#include "test_server.hpp"
#include "timing_sink.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>

namespace kithara::test {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

constexpr std::uint64_t mbit = 125'000;  // bytes/s of a 1 Mbit/s link
constexpr auto tick = 5ms;               // link_options' default refill period

double seconds(clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

// Records when each body byte arrived (cumulative count per on_data call).
class arrival_sink : public net::memory_sink {
public:
    result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) override {
        {
            std::lock_guard lock(m_);
            total_ += bytes.size();
            points_.emplace_back(clock::now(), total_);
        }
        return memory_sink::on_data(offset, bytes);
    }
    // Bytes per second between the first arrivals at or after t1 and at or after t2.
    double rate_between(clock::time_point t1, clock::time_point t2) const {
        std::lock_guard lock(m_);
        auto at = [&](clock::time_point t) {
            return *std::find_if(points_.begin(), points_.end(),
                                 [t](const auto& p) { return p.first >= t; });
        };
        auto a = at(t1), b = at(t2);
        return static_cast<double>(b.second - a.second) / seconds(b.first - a.first);
    }

private:
    mutable std::mutex m_;
    std::uint64_t total_ = 0;
    std::vector<std::pair<clock::time_point, std::uint64_t>> points_;
};

class shared_link_test : public ::testing::Test {
protected:
    struct outcome {
        double elapsed = 0;        // start of all transfers to the last completion, s
        std::vector<double> done;  // each transfer's completion, s
    };

    // n transfers of `size` bytes each started at once; checks every body.
    outcome run_concurrent(int n, std::size_t size) {
        std::vector<std::string> bodies;
        std::vector<std::shared_ptr<timing_sink>> sinks;
        for (int i = 0; i < n; ++i) {
            bodies.push_back(make_body(size, static_cast<std::uint32_t>(i + 1)));
            server_.put("/t" + std::to_string(i), bodies.back());
        }
        const auto t0 = clock::now();
        for (int i = 0; i < n; ++i) {
            sinks.push_back(std::make_shared<timing_sink>());
            net::request r;
            r.url = server_.url("/t" + std::to_string(i));
            client_.start(r, sinks.back());
        }
        outcome o;
        for (int i = 0; i < n; ++i) {
            auto r = sinks[static_cast<std::size_t>(i)]->wait();
            EXPECT_TRUE(r) << r.error().message();
            if (!r) continue;
            EXPECT_EQ(std::string(reinterpret_cast<const char*>(r->body.data()), r->body.size()),
                      bodies[static_cast<std::size_t>(i)]);
            o.done.push_back(seconds(sinks[static_cast<std::size_t>(i)]->completed_at() - t0));
        }
        o.elapsed = o.done.empty() ? 0 : *std::max_element(o.done.begin(), o.done.end());
        return o;
    }

    // elapsed / (bytes at the link rate): never below 1 - one tick (the bucket holds at most one
    // tick's bytes of the current rate), above 1 by the link's start (one tick), the last tick
    // and loopback request round trips; the bound allows the scheduling delays of a loaded
    // 2-core machine too.
    static void expect_link_time(double elapsed, double bytes, double rate) {
        const double ideal = bytes / rate;
        const double ratio = elapsed / ideal;
        const double t = seconds(tick);
        EXPECT_GE(ratio, 1 - t / ideal) << "faster than the link: " << elapsed << " s";
        EXPECT_LE(ratio, 1 + (4 * t + 0.1) / ideal) << "slower than the link: " << elapsed << " s";
    }

    http_server server_;
    io_thread io_;
    net::client client_{io_.executor()};
};

TEST_F(shared_link_test, single_transfer_gets_the_whole_link) {
    server_.set_link_rate(mbit);
    auto o = run_concurrent(1, 128 * 1024);
    expect_link_time(o.elapsed, 128 * 1024, mbit);
}

TEST_F(shared_link_test, two_concurrent_transfers_share_one_budget) {
    server_.set_link_rate(mbit);
    auto o = run_concurrent(2, 64 * 1024);
    expect_link_time(o.elapsed, 2 * 64 * 1024, mbit);
    // Shared fairly: both end together, not one after the other (per-connection pacing would
    // end both at half the time).
    ASSERT_EQ(o.done.size(), 2u);
    EXPECT_GE(*std::min_element(o.done.begin(), o.done.end()) / o.elapsed, 0.9);
    EXPECT_GE(server_.peak_concurrent_responses(), 2u);
}

TEST_F(shared_link_test, four_concurrent_transfers_share_one_budget) {
    server_.set_link_rate(mbit);
    auto o = run_concurrent(4, 40 * 1024);
    expect_link_time(o.elapsed, 4 * 40 * 1024, mbit);
    ASSERT_EQ(o.done.size(), 4u);
    EXPECT_GE(*std::min_element(o.done.begin(), o.done.end()) / o.elapsed, 0.9);
    EXPECT_GE(server_.peak_concurrent_responses(), 4u);
}

TEST_F(shared_link_test, unequal_transfers_split_the_link_then_the_rest_goes_to_the_longer) {
    // 32 KB and 96 KB: the short one ends at 2 x 32 KB / rate, the long one at 128 KB / rate.
    server_.set_link_rate(mbit);
    server_.put("/s", make_body(32 * 1024));
    server_.put("/l", make_body(96 * 1024, 2));
    auto s = std::make_shared<timing_sink>(), l = std::make_shared<timing_sink>();
    const auto t0 = clock::now();
    client_.start({.url = server_.url("/s")}, s);
    client_.start({.url = server_.url("/l")}, l);
    ASSERT_TRUE(s->wait());
    ASSERT_TRUE(l->wait());
    expect_link_time(seconds(s->completed_at() - t0), 64 * 1024, mbit);
    expect_link_time(seconds(l->completed_at() - t0), 128 * 1024, mbit);
}

TEST_F(shared_link_test, schedule_step_changes_the_measured_rate) {
    // 1 Mbit/s, then 250 kbit/s from link second 10, in time accelerated 10x (the step comes
    // after one real second).
    server_.set_link({.schedule = {{0, mbit}, {10, mbit / 4}}, .time_scale = 10});
    server_.put("/a", make_body(170'000));
    auto sink = std::make_shared<arrival_sink>();
    const auto t0 = clock::now();
    client_.start({.url = server_.url("/a")}, sink);
    ASSERT_TRUE(sink->wait());
    const double before = sink->rate_between(t0 + 200ms, t0 + 900ms);
    const double after = sink->rate_between(t0 + 1200ms, t0 + 1500ms);
    EXPECT_NEAR(before, static_cast<double>(mbit), 0.1 * mbit);
    EXPECT_NEAR(after, static_cast<double>(mbit / 4), 0.1 * mbit / 4);
}

TEST_F(shared_link_test, link_drop_fault_divides_the_rate_mid_response) {
    server_.set_link_rate(mbit);
    server_.put("/a", make_body(48 * 1024));
    server_.add_fault("/a", {.link_drop_after = 32 * 1024, .link_drop_factor = 4});
    auto sink = std::make_shared<timing_sink>();
    const auto t0 = clock::now();
    client_.start({.url = server_.url("/a")}, sink);
    ASSERT_TRUE(sink->wait());
    // 32 KB at the full rate, 16 KB at a quarter: 96 KB's worth of full-rate time.
    expect_link_time(seconds(sink->completed_at() - t0), 96 * 1024, mbit);
    EXPECT_EQ(server_.link_rate_at(0), mbit / 4);
}

TEST_F(shared_link_test, noise_is_deterministic_per_seed_and_bounded) {
    http_server other;
    const link_options o{.schedule = {{0, mbit}}, .noise = 0.2, .seed = 7};
    server_.set_link(o);
    other.set_link(o);
    double sum = 0;
    bool varies = false, differs = false;
    for (int p = 0; p < 200; ++p) {
        const double at = p + 0.5;
        const auto r = server_.link_rate_at(at);
        EXPECT_EQ(r, other.link_rate_at(at)) << at;
        EXPECT_GE(r, 0.8 * mbit);
        EXPECT_LE(r, 1.2 * mbit);
        EXPECT_EQ(r, server_.link_rate_at(p + 0.1)) << "one draw per noise period";
        varies = varies || r != server_.link_rate_at(0.5);
        sum += static_cast<double>(r);
    }
    EXPECT_TRUE(varies);
    EXPECT_NEAR(sum / 200, static_cast<double>(mbit), 0.05 * mbit);
    auto seeded = o;
    seeded.seed = 8;
    other.set_link(seeded);
    for (int p = 0; p < 20; ++p)
        differs = differs || server_.link_rate_at(p) != other.link_rate_at(p);
    EXPECT_TRUE(differs);
}

TEST_F(shared_link_test, request_log_records_range_bytes_and_times) {
    server_.set_link_rate(mbit);
    server_.put("/a", make_body(100'000));
    const auto t0 = clock::now();
    auto r =
        net::fetch(client_, {.url = server_.url("/a"), .range = net::byte_range{1000, 25'000}});
    ASSERT_TRUE(r) << r.error().message();
    // The client can hold the last byte before the server's write completion ran.
    ASSERT_TRUE(server_.wait_log(
        [](const auto& l) { return l.size() == 1 && l[0].end != clock::time_point{}; }, 5s));
    auto log = server_.log_for("/a");
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].range, "bytes=1000-25999");
    EXPECT_EQ(log[0].bytes_sent, 25'000u);
    EXPECT_TRUE(log[0].complete);
    EXPECT_GE(log[0].start, t0);
    expect_link_time(seconds(log[0].end - log[0].start), 25'000, mbit);
}

// What an ABR client does with the samples of concurrent segment downloads: a link_meter turns
// them into readings of the link, which a single transfer's own rate (half of it) is not.
TEST_F(shared_link_test, link_meter_reads_the_shared_link_while_each_transfer_sees_half) {
    constexpr double rate = 1'000'000;  // bytes/s
    constexpr std::size_t size = 600'000;
    server_.set_link_rate(static_cast<std::uint64_t>(rate));
    std::mutex m;  // samples arrive on the io thread; the test thread reads after the waits
    net::link_meter meter;
    std::vector<net::link_reading> readings;
    std::vector<net::throughput_sample> finals;
    std::vector<std::shared_ptr<timing_sink>> sinks;
    for (int i = 0; i < 2; ++i) {
        const auto path = "/m" + std::to_string(i);
        server_.put(path, make_body(size, static_cast<std::uint32_t>(i + 1)));
        net::request r{.url = server_.url(path)};
        r.options.sampling.every = 100ms;
        r.on_sample = [&](const net::throughput_sample& s) {
            std::lock_guard lock(m);
            if (s.final) finals.push_back(s);
            if (auto reading = meter.add(s, clock::now())) readings.push_back(*reading);
        };
        sinks.push_back(std::make_shared<timing_sink>());
        client_.start(r, sinks.back());
    }
    for (auto& sink : sinks) ASSERT_TRUE(sink->wait());
    EXPECT_GE(server_.peak_concurrent_responses(), 2u);

    std::lock_guard lock(m);
    ASSERT_EQ(finals.size(), 2u);  // emitted before each transfer completes
    if (auto reading = meter.flush()) readings.push_back(*reading);  // nothing is in flight
    for (const auto& f : finals) {
        EXPECT_TRUE(f.complete);
        EXPECT_EQ(f.bytes, size);
        EXPECT_NEAR(f.bytes_per_second, rate / 2, 0.15 * rate / 2) << f.url;
    }
    ASSERT_GE(readings.size(), 8u);
    std::uint64_t bytes = meter.pending().bytes;
    auto busy = meter.pending().busy;
    double sum = 0;
    for (const auto& r : readings) {
        bytes += r.bytes;
        busy += r.busy;
        sum += r.bytes_per_second();
        // Each reading is of the link (alternating half/many times it would fail here); the
        // bound leaves room for a loaded machine delaying the io thread.
        EXPECT_NEAR(r.bytes_per_second(), rate, 0.4 * rate)
            << r.bytes << " B in " << r.busy.count();
    }
    EXPECT_EQ(bytes, 2 * size);  // every body byte, counted once
    const double mean = sum / static_cast<double>(readings.size());
    EXPECT_NEAR(mean, rate, 0.15 * rate);
    const double overall = static_cast<double>(bytes) / std::chrono::duration<double>(busy).count();
    EXPECT_NEAR(overall, rate, 0.15 * rate);
}

}  // namespace
}  // namespace kithara::test
