// kithara::net throughput samples (throughput_sample) over the test server's shared link.
#include <kithara/net/client.hpp>

#include "io_thread.hpp"
#include "test_server.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

namespace kithara::net {
namespace {

using namespace std::chrono_literals;

class recorder {
public:
    sample_observer observer() {
        return [this](const throughput_sample& s) {
            std::lock_guard lock(m_);
            samples_.push_back(s);
            cv_.notify_all();
        };
    }
    std::vector<throughput_sample> samples() const {
        std::lock_guard lock(m_);
        return samples_;
    }
    // Waits (bounded) until pred holds for some sample; returns it.
    std::optional<throughput_sample> wait_for(
        const std::function<bool(const throughput_sample&)>& pred,
        std::chrono::milliseconds limit) {
        std::unique_lock lock(m_);
        std::optional<throughput_sample> found;
        cv_.wait_for(lock, limit, [&] {
            for (const auto& s : samples_)
                if (pred(s)) {
                    found = s;
                    return true;
                }
            return false;
        });
        return found;
    }

private:
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::vector<throughput_sample> samples_;
};

class throughput_sample_test : public ::testing::Test {
protected:
    request get(std::string_view path, recorder& rec) {
        request r;
        r.url = server_.url(path);
        r.options.timeout.stall = 5s;
        r.options.sampling.every = 100ms;
        r.on_sample = rec.observer();
        return r;
    }

    test::http_server server_;
    test::io_thread io_;
    client client_{io_.executor()};
};

constexpr double link_rate = 250'000;  // bytes/s: 2 Mbit/s

TEST_F(throughput_sample_test, sampled_rate_of_a_paced_transfer_is_within_ten_percent) {
    server_.set_link_rate(static_cast<std::uint64_t>(link_rate));
    server_.put("/a", test::make_body(400'000));
    recorder rec;
    auto r = fetch(client_, get("/a", rec));
    ASSERT_TRUE(r) << r.error().message();
    const auto samples = rec.samples();
    ASSERT_GE(samples.size(), 4u);  // in-flight samples, then the final one
    const auto& last = samples.back();
    EXPECT_TRUE(last.final && last.complete && !last.below_floor);
    EXPECT_EQ(last.bytes, 400'000u);
    EXPECT_NEAR(last.bytes_per_second, link_rate, 0.1 * link_rate);
    for (const auto& s : samples) {
        EXPECT_EQ(s.attempt, 1);
        if (s.bytes < 64 * 1024) continue;  // a few ticks: the link's granularity dominates
        EXPECT_NEAR(s.bytes_per_second, link_rate, 0.1 * link_rate) << s.bytes;
    }
    EXPECT_EQ(std::count_if(samples.begin(), samples.end(), [](auto& s) { return s.final; }), 1);
}

TEST_F(throughput_sample_test, time_to_first_byte_is_reported_apart_from_the_rate) {
    server_.set_link_rate(static_cast<std::uint64_t>(link_rate));
    server_.put("/a", test::make_body(200'000));
    server_.add_fault("/a", {.first_byte_delay = 300ms});
    recorder rec;
    auto r = fetch(client_, get("/a", rec));
    ASSERT_TRUE(r) << r.error().message();
    const auto last = rec.samples().back();
    EXPECT_GE(last.time_to_first_byte, 300ms);
    // 200 KB at 250 KB/s is 0.8 s of wire time; counting the 300 ms wait would give -27 %.
    EXPECT_NEAR(last.bytes_per_second, link_rate, 0.1 * link_rate);
}

TEST_F(throughput_sample_test, rate_drop_mid_transfer_shows_in_samples_before_the_end) {
    server_.set_link_rate(static_cast<std::uint64_t>(link_rate));
    server_.put("/a", test::make_body(1'000'000));
    // After 100 KB the link falls 8x: the remaining 900 KB would need 29 s.
    server_.add_fault("/a", {.link_drop_after = 100'000, .link_drop_factor = 8});
    recorder rec;
    auto sink = std::make_shared<memory_sink>();
    auto h = client_.start(get("/a", rec), sink);
    // The first in-flight sample whose interval began after the drop.
    auto low = rec.wait_for(
        [](const throughput_sample& s) {
            return !s.final && s.bytes - s.interval_bytes >= 100'000;
        },
        5s);
    h.cancel();  // what an ABR emergency abort does with this sample
    ASSERT_TRUE(low) << "no in-flight sample showed the drop";
    EXPECT_LT(low->bytes, 1'000'000u);
    EXPECT_NEAR(low->interval_bytes_per_second, link_rate / 8, 0.25 * link_rate / 8);
    auto r = sink->wait();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::cancelled);
    // Before the drop the samples saw the full link; the cancelled attempt still ends in a
    // final (incomplete) sample.
    const auto samples = rec.samples();
    bool saw_fast = false;
    for (const auto& s : samples)
        if (!s.final && s.bytes >= 64 * 1024 && s.bytes <= 100'000)
            saw_fast = saw_fast || std::abs(s.bytes_per_second - link_rate) < 0.1 * link_rate;
    EXPECT_TRUE(saw_fast);
    EXPECT_TRUE(samples.back().final);
    EXPECT_FALSE(samples.back().complete);
}

TEST_F(throughput_sample_test, fast_small_response_is_flagged_below_the_floor) {
    server_.put("/small", test::make_body(4'000));
    server_.put("/big", test::make_body(300'000));
    recorder small, big;
    ASSERT_TRUE(fetch(client_, get("/small", small)));
    ASSERT_TRUE(fetch(client_, get("/big", big)));
    auto s = small.samples();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_TRUE(s[0].final && s[0].complete);
    EXPECT_TRUE(s[0].below_floor);
    EXPECT_EQ(s[0].bytes, 4'000u);
    for (const auto& b : big.samples()) EXPECT_EQ(b.below_floor, b.bytes < 16 * 1024);
    EXPECT_FALSE(big.samples().back().below_floor);
}

TEST_F(throughput_sample_test, request_observer_sees_its_own_and_client_observer_sees_all) {
    std::mutex m;
    std::vector<std::string> all;
    client_options co;
    co.observer = [&](const throughput_sample& s) {
        std::lock_guard lock(m);
        if (s.final) all.push_back(s.url);
    };
    client c{io_.executor(), co};
    server_.put("/x", test::make_body(20'000));
    server_.put("/y", test::make_body(20'000, 2));
    recorder rx;
    auto rq = get("/x", rx);
    ASSERT_TRUE(fetch(c, rq));
    rq = get("/y", rx);
    rq.on_sample = nullptr;  // a playlist or key fetch: not subscribed
    ASSERT_TRUE(fetch(c, rq));
    for (const auto& s : rx.samples()) EXPECT_EQ(s.url, server_.url("/x"));
    std::lock_guard lock(m);
    EXPECT_EQ(all, (std::vector<std::string>{server_.url("/x"), server_.url("/y")}));
}

TEST_F(throughput_sample_test, sampling_options_zero_gives_only_the_final_sample) {
    server_.set_link_rate(static_cast<std::uint64_t>(link_rate));
    server_.put("/a", test::make_body(100'000));
    recorder rec;
    auto req = get("/a", rec);
    req.options.sampling.every = 0ms;
    req.options.sampling.every_bytes = 0;
    ASSERT_TRUE(fetch(client_, req));
    auto s = rec.samples();
    ASSERT_EQ(s.size(), 1u);
    EXPECT_TRUE(s[0].final);
    EXPECT_EQ(s[0].interval_bytes, 100'000u);
}

}  // namespace
}  // namespace kithara::net
