// Get/put latency of kithara::bufpool against new[]/delete[] and std::vector, single- and
// multi-threaded. Run: build/default/bench/bufpool_bench --benchmark_repetitions=5
//                         --benchmark_report_aggregates_only=true
#include <kithara/bufpool/pool.hpp>

#include <benchmark/benchmark.h>

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

#define KITHARA_SIZES Arg(4 << 10)->Arg(64 << 10)->Arg(1 << 20)
BENCHMARK(bm_pool_get_put)->KITHARA_SIZES;
BENCHMARK(bm_new_delete)->KITHARA_SIZES;
BENCHMARK(bm_vector)->KITHARA_SIZES;
BENCHMARK(bm_pool_get_put)->KITHARA_SIZES->Threads(2)->UseRealTime();
BENCHMARK(bm_new_delete)->KITHARA_SIZES->Threads(2)->UseRealTime();
BENCHMARK(bm_vector)->KITHARA_SIZES->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
