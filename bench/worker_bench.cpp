// kithara::worker channel latency and throughput against a plain bounded queue (std::mutex +
// std::condition_variable + std::deque), and the latency of posting to the io thread.
// Run: build/default/bench/worker_bench --benchmark_repetitions=5
//                                       --benchmark_report_aggregates_only=true
#include <kithara/worker/channel.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <benchmark/benchmark.h>
#include <asio/post.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using kithara::worker::channel;

// The baseline: a bounded blocking queue as most code bases write it.
template <class T>
class plain_queue {
public:
    explicit plain_queue(std::size_t cap) : cap_(cap) {}
    void send(T v) {
        std::unique_lock lk(m_);
        not_full_.wait(lk, [&] { return q_.size() < cap_; });
        q_.push_back(std::move(v));
        not_empty_.notify_one();
    }
    T receive() {
        std::unique_lock lk(m_);
        not_empty_.wait(lk, [&] { return !q_.empty(); });
        T v = std::move(q_.front());
        q_.pop_front();
        not_full_.notify_one();
        return v;
    }

private:
    std::size_t cap_;
    std::mutex m_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::deque<T> q_;
};

struct kithara_queue {
    explicit kithara_queue(std::size_t cap) : ch({.max_items = cap}) {}
    void send(std::uint64_t v) { (void)ch.send(std::move(v)); }
    std::uint64_t receive() { return *ch.receive(); }
    channel<std::uint64_t> ch;
};
struct baseline_queue {
    explicit baseline_queue(std::size_t cap) : q(cap) {}
    void send(std::uint64_t v) { q.send(v); }
    std::uint64_t receive() { return q.receive(); }
    plain_queue<std::uint64_t> q;
};

// Round trip: the benchmark thread sends, an echo thread receives and answers on a second queue.
template <class Q>
void bm_ping_pong(benchmark::State& state) {
    Q ping(1);
    Q pong(1);
    std::thread echo([&] {
        for (;;) {
            const auto v = ping.receive();
            pong.send(v);
            if (v == UINT64_MAX) return;
        }
    });
    std::uint64_t i = 0;
    for (auto _ : state) {
        ping.send(i++);
        benchmark::DoNotOptimize(pong.receive());
    }
    ping.send(UINT64_MAX);
    (void)pong.receive();
    echo.join();
}

// Throughput: state.range(0) producers and as many consumers move items through a 64-slot queue.
template <class Q>
void bm_throughput(benchmark::State& state) {
    const auto pairs = static_cast<int>(state.range(0));
    constexpr std::uint64_t per_producer = 20000;
    for (auto _ : state) {
        Q q(64);
        std::vector<std::thread> threads;
        std::atomic<std::uint64_t> sum{0};
        for (int p = 0; p < pairs; ++p) {
            threads.emplace_back([&] {
                for (std::uint64_t i = 1; i <= per_producer; ++i) q.send(i);
            });
            threads.emplace_back([&] {
                std::uint64_t s = 0;
                for (std::uint64_t i = 0; i < per_producer; ++i) s += q.receive();
                sum += s;
            });
        }
        for (auto& t : threads) t.join();
        benchmark::DoNotOptimize(sum.load());
    }
    state.SetItemsProcessed(state.iterations() * pairs * static_cast<std::int64_t>(per_producer));
}

// Post a handler to the io thread and wait (futex, no spinning) until it has run.
void bm_post_to_io_thread(benchmark::State& state) {
    kithara::worker::io_runtime io;
    if (!io.start()) {
        state.SkipWithError("io_runtime::start failed");
        return;
    }
    std::atomic<std::uint32_t> done{0};
    std::uint32_t expect = 0;
    for (auto _ : state) {
        asio::post(io.executor(), [&] {
            done.fetch_add(1, std::memory_order_release);
            done.notify_one();
        });
        ++expect;
        for (auto v = done.load(std::memory_order_acquire); v != expect;
             v = done.load(std::memory_order_acquire)) {
            done.wait(v, std::memory_order_acquire);
        }
    }
}

BENCHMARK(bm_ping_pong<kithara_queue>)->Name("ping_pong/kithara_channel")->UseRealTime();
BENCHMARK(bm_ping_pong<baseline_queue>)->Name("ping_pong/mutex_cv_deque")->UseRealTime();
BENCHMARK(bm_throughput<kithara_queue>)
    ->Name("throughput/kithara_channel")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_throughput<baseline_queue>)
    ->Name("throughput/mutex_cv_deque")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_post_to_io_thread)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
