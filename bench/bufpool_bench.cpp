// Get/put latency of kithara::bufpool against new[]/delete[] and std::vector, single- and
// multi-threaded. Run: build/default/bench/bufpool_bench --benchmark_repetitions=5
//                         --benchmark_report_aggregates_only=true
#include <kithara/bufpool/pool.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace {

using kithara::bufpool::byte_pool;

byte_pool& shared_pool() {
    static byte_pool pool;
    return pool;
}

void bm_pool_get_put(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto& pool = shared_pool();
    for (auto _ : state) {
        auto b = pool.get(n);
        b.data()[0] = std::byte{1};
        benchmark::DoNotOptimize(b.data());
    }
}

void bm_new_delete(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        auto* p = new std::byte[n];
        p[0] = std::byte{1};
        benchmark::DoNotOptimize(p);
        delete[] p;
    }
}

void bm_vector(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        std::vector<std::byte> v(n);
        benchmark::DoNotOptimize(v.data());
    }
}

// A playback-like pattern: 64 buffers of mixed sizes (4 KiB .. 1 MiB) stay live; each iteration
// replaces the oldest with a new one of another size, touching every page of it.
std::vector<std::size_t> ring_sizes() {
    std::vector<std::size_t> sizes(1024);
    std::uint64_t x = 88172645463325252ULL;  // xorshift: same sequence for every contender
    for (auto& s : sizes) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s = std::size_t{4096} << (x % 9);
    }
    return sizes;
}

void touch(std::byte* p, std::size_t n) {
    for (std::size_t i = 0; i < n; i += 4096) p[i] = std::byte{1};
    benchmark::DoNotOptimize(p);
}

void bm_pool_ring(benchmark::State& state) {
    const auto sizes = ring_sizes();
    auto& pool = shared_pool();
    std::vector<kithara::bufpool::byte_buffer> live(64);
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t n = sizes[i % sizes.size()];
        live[i % live.size()] = pool.get(n);
        touch(live[i % live.size()].data(), n);
        ++i;
    }
}

void bm_new_delete_ring(benchmark::State& state) {
    const auto sizes = ring_sizes();
    std::vector<std::unique_ptr<std::byte[]>> live(64);
    std::size_t i = 0;
    for (auto _ : state) {
        const std::size_t n = sizes[i % sizes.size()];
        live[i % live.size()].reset(new std::byte[n]);
        touch(live[i % live.size()].get(), n);
        ++i;
    }
}

BENCHMARK(bm_pool_ring);
BENCHMARK(bm_new_delete_ring);

#define KITHARA_SIZES Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20)
BENCHMARK(bm_pool_get_put)->KITHARA_SIZES;
BENCHMARK(bm_new_delete)->KITHARA_SIZES;
BENCHMARK(bm_vector)->KITHARA_SIZES;
BENCHMARK(bm_pool_get_put)->KITHARA_SIZES->Threads(2)->UseRealTime();
BENCHMARK(bm_new_delete)->KITHARA_SIZES->Threads(2)->UseRealTime();
BENCHMARK(bm_vector)->KITHARA_SIZES->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
