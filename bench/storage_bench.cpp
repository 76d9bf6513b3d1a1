// kithara::storage: read_at/write_at throughput against raw pread/pwrite on the same file,
// wake-up latency from write_at to a blocked waiter (p50/p99 counters), range_set operations.
// Run: build/default/bench/storage_bench --benchmark_repetitions=3
//                                        --benchmark_report_aggregates_only=true
// Files live in $TMPDIR (page cache); the write figures include no fsync unless named "flush".
#include <kithara/storage/memory_resource.hpp>
#include <kithara/storage/range_set.hpp>
#include <kithara/storage/streaming_resource.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace {

namespace ks = kithara::storage;
using clock_type = std::chrono::steady_clock;

constexpr std::uint64_t span_bytes = 64 * 1024 * 1024;  // the region each benchmark cycles over

std::filesystem::path bench_file(const char* name) {
    return std::filesystem::temp_directory_path() /
           (std::string("kithara-storage-bench-") + name + "-" + std::to_string(::getpid()));
}

std::vector<std::byte> block_of(std::size_t n) {
    std::vector<std::byte> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>(i * 31);
    return b;
}

// --- raw positional I/O ---------------------------------------------------------------------

// Like bm_streaming_write_at: new bytes every iteration, a fresh file per 64 MiB pass.
void bm_raw_pwrite(benchmark::State& state) {
    const auto block = static_cast<std::size_t>(state.range(0));
    const auto path = bench_file("raw-w");
    const auto data = block_of(block);
    int fd = -1;
    std::uint64_t off = span_bytes;
    for (auto _ : state) {
        if (off + block > span_bytes) {
            state.PauseTiming();
            if (fd >= 0) ::close(fd);
            std::filesystem::remove(path);
            fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
            off = 0;
            state.ResumeTiming();
        }
        if (::pwrite(fd, data.data(), block, static_cast<off_t>(off)) < 0) std::abort();
        off += block;
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(block));
    ::close(fd);
    std::filesystem::remove(path);
}

void bm_raw_pread(benchmark::State& state) {
    const auto block = static_cast<std::size_t>(state.range(0));
    const auto path = bench_file("raw-r");
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    const auto data = block_of(1 << 20);
    for (std::uint64_t off = 0; off < span_bytes; off += data.size()) {
        if (::pwrite(fd, data.data(), data.size(), static_cast<off_t>(off)) < 0) std::abort();
    }
    std::vector<std::byte> out(block);
    std::uint64_t off = 0;
    for (auto _ : state) {
        if (::pread(fd, out.data(), block, static_cast<off_t>(off)) < 0) std::abort();
        benchmark::DoNotOptimize(out.data());
        off = (off + block) % span_bytes;
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(block));
    ::close(fd);
    std::filesystem::remove(path);
}

// --- streaming_resource ---------------------------------------------------------------------

// Writes new bytes every iteration (a fresh resource per pass), so the range set, growth
// bookkeeping and, with range(1) == 1, the default 4 MiB auto-flush (fdatasync + map) all run;
// range(2) == 1 records each write in the range log (the default), 0 turns it off (as before).
void bm_streaming_write_at(benchmark::State& state) {
    const auto block = static_cast<std::size_t>(state.range(0));
    const bool auto_flush = state.range(1) != 0;
    const auto path = bench_file("res-w");
    const auto data = block_of(block);
    ks::streaming_options o;
    o.flush_every_bytes = auto_flush ? 4 * 1024 * 1024 : 0;
    o.range_log = state.range(2) != 0;
    std::unique_ptr<ks::streaming_resource> res;
    std::uint64_t off = span_bytes;
    for (auto _ : state) {
        if (off + block > span_bytes) {
            state.PauseTiming();
            res.reset();
            (void)ks::streaming_resource::remove(path);
            res = std::move(*ks::streaming_resource::open(path, o));
            off = 0;
            state.ResumeTiming();
        }
        if (!res->write_at(off, data)) std::abort();
        off += block;
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(block));
    res.reset();
    (void)ks::streaming_resource::remove(path);
}

void bm_streaming_read_at(benchmark::State& state) {
    const auto block = static_cast<std::size_t>(state.range(0));
    const auto path = bench_file("res-r");
    (void)ks::streaming_resource::remove(path);
    ks::streaming_options o;
    o.flush_every_bytes = 0;
    auto res = std::move(*ks::streaming_resource::open(path, o));
    const auto data = block_of(1 << 20);
    for (std::uint64_t off = 0; off < span_bytes; off += data.size()) {
        if (!res->write_at(off, data)) std::abort();
    }
    std::vector<std::byte> out(block);
    std::uint64_t off = 0;
    for (auto _ : state) {
        if (!res->read_at(off, out)) std::abort();
        benchmark::DoNotOptimize(out.data());
        off = (off + block) % span_bytes;
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(block));
    res.reset();
    (void)ks::streaming_resource::remove(path);
}

// --- wake-up latency ------------------------------------------------------------------------

// A waiter blocks in wait_range on the next byte; the writer stamps the time and writes it; the
// waiter stamps its return. p50/p99 over all rounds of the run, in microseconds.
template <class Make>
void wakeup_latency(benchmark::State& state, Make make) {
    constexpr int rounds = 2000;
    std::vector<double> lat;
    lat.reserve(rounds * 8);
    for (auto _ : state) {
        auto res = make();
        std::atomic<int> armed{-1};
        std::atomic<std::int64_t> sent_ns{0};
        std::vector<double> local(rounds);
        std::thread waiter([&] {
            for (int i = 0; i < rounds; ++i) {
                armed.store(i, std::memory_order_release);
                const auto at = static_cast<std::uint64_t>(i);
                (void)res->wait_range({at, at + 1});
                const auto now = clock_type::now().time_since_epoch().count();
                local[static_cast<std::size_t>(i)] =
                    static_cast<double>(now - sent_ns.load(std::memory_order_acquire)) / 1000.0;
            }
        });
        const std::byte one{1};
        for (int i = 0; i < rounds; ++i) {
            while (armed.load(std::memory_order_acquire) != i) {
            }
            // Give the waiter time to block (benchmark code: a short spin, not library code).
            const auto until = clock_type::now() + std::chrono::microseconds(100);
            while (clock_type::now() < until) {
            }
            sent_ns.store(clock_type::now().time_since_epoch().count(), std::memory_order_release);
            if (!res->write_at(static_cast<std::uint64_t>(i), {&one, 1})) std::abort();
        }
        waiter.join();
        lat.insert(lat.end(), local.begin(), local.end());
    }
    std::sort(lat.begin(), lat.end());
    state.counters["p50_us"] = lat[lat.size() / 2];
    state.counters["p99_us"] = lat[lat.size() * 99 / 100];
    state.SetItemsProcessed(static_cast<std::int64_t>(lat.size()));
}

void bm_wakeup_latency_streaming(benchmark::State& state) {
    const auto path = bench_file("wake");
    wakeup_latency(state, [&] {
        (void)ks::streaming_resource::remove(path);
        ks::streaming_options o;
        o.flush_every_bytes = 0;
        return std::move(*ks::streaming_resource::open(path, o));
    });
    (void)ks::streaming_resource::remove(path);
}

void bm_wakeup_latency_memory(benchmark::State& state) {
    wakeup_latency(state, [] { return ks::memory_resource::create({.max_size = 1 << 20}); });
}

// --- range_set ------------------------------------------------------------------------------

// Sequential download: every insert extends the one range (the inline fast path).
void bm_range_set_append(benchmark::State& state) {
    ks::range_set s;
    std::uint64_t off = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(s.insert({off, off + 4096}));
        off += 4096;
    }
}

// Random 1 KiB blocks into a set prefilled with range(0) disjoint ranges (each block lands in
// a gap, touches a neighbour or overlaps one: all insert paths).
void bm_range_set_random_insert(benchmark::State& state) {
    const auto n = static_cast<std::uint64_t>(state.range(0));
    ks::range_set prefilled;
    for (std::uint64_t k = 0; k < n; ++k) prefilled.insert({k * 8192, k * 8192 + 4096});
    std::mt19937_64 rng(1);
    std::vector<std::uint64_t> offs(4096);
    for (auto& o : offs) o = rng() % (n * 8192);
    ks::range_set s = prefilled;
    std::size_t i = 0;
    for (auto _ : state) {
        if (i % offs.size() == 0) {
            state.PauseTiming();
            s = prefilled;
            state.ResumeTiming();
        }
        const auto o = offs[i++ % offs.size()];
        benchmark::DoNotOptimize(s.insert({o, o + 1024}));
    }
    state.counters["ranges"] = static_cast<double>(s.size());
}

void bm_range_set_contains(benchmark::State& state) {
    const auto n = static_cast<std::uint64_t>(state.range(0));
    ks::range_set s;
    for (std::uint64_t k = 0; k < n; ++k) s.insert({k * 8192, k * 8192 + 4096});
    std::mt19937_64 rng(2);
    std::vector<std::uint64_t> offs(4096);
    for (auto& o : offs) o = rng() % (n * 8192);
    std::size_t i = 0;
    for (auto _ : state) {
        const auto o = offs[i++ % offs.size()];
        benchmark::DoNotOptimize(s.contains(ks::byte_range{o, o + 1024}));
    }
    state.counters["ranges"] = static_cast<double>(s.size());
}

}  // namespace

BENCHMARK(bm_raw_pwrite)->Arg(4096)->Arg(65536);
BENCHMARK(bm_streaming_write_at)
    ->Args({4096, 0, 1})
    ->Args({65536, 0, 0})
    ->Args({65536, 0, 1})
    ->Args({65536, 1, 0})
    ->Args({65536, 1, 1});
BENCHMARK(bm_raw_pread)->Arg(4096)->Arg(65536);
BENCHMARK(bm_streaming_read_at)->Arg(4096)->Arg(65536);
BENCHMARK(bm_wakeup_latency_streaming)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(bm_wakeup_latency_memory)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(bm_range_set_append);
BENCHMARK(bm_range_set_random_insert)->Arg(1)->Arg(1000)->Arg(100000);
BENCHMARK(bm_range_set_contains)->Arg(1)->Arg(1000)->Arg(100000);

BENCHMARK_MAIN();
