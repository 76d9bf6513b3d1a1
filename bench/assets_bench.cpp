// kithara::assets: store open (warm) at 10,000 assets, touch and touch+flush cost, eviction
// throughput, and the calling thread's wall time for 30 segment downloads (create, write,
// commit) with the durability work inline or on a background thread. Run:  build/default/bench/assets_bench --benchmark_repetitions=5
//                       --benchmark_report_aggregates_only=true
// Cold open (first open in a fresh process, index evicted from the page cache with
// posix_fadvise(DONTNEED)):  build/default/bench/assets_bench --cold-open <dir>
// where <dir> was made by:   build/default/bench/assets_bench --make-store <dir> 10000
// Stores are built under /dev/shm (fsync-free) unless KITHARA_BENCH_DIR names another directory.
#include <kithara/assets/asset_store.hpp>

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <unistd.h>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using kithara::assets::asset_store;
using kithara::assets::store_options;

fs::path bench_root() {
    const char* env = std::getenv("KITHARA_BENCH_DIR");
    return fs::path(env ? env : "/dev/shm") /
           ("kithara-assets-bench-" + std::to_string(::getpid()));
}

std::string url(std::int64_t i) {
    return "https://bench.example/show" + std::to_string(i) + "/master.m3u8";
}

store_options big_budget() {
    store_options o;
    o.max_bytes = std::uint64_t{1} << 40;
    o.max_assets = 1'000'000;
    o.flush_after_changes = 1u << 30;
    o.flush_after_time = std::chrono::hours(24);
    return o;
}

void build_store(const fs::path& dir, std::int64_t assets, int resources);

// A store with `assets` assets of `resources` small atomic resources each, built under /dev/shm
// (no fsync cost) and copied to `dir` when that is elsewhere (e.g. a disk, for flush costs).
void make_store(const fs::path& dir, std::int64_t assets, int resources) {
    fs::remove_all(dir);
    std::error_code ec;
    if (!fs::is_directory("/dev/shm", ec) || dir.string().rfind("/dev/shm/", 0) == 0) {
        build_store(dir, assets, resources);
        return;
    }
    const fs::path tmp =
        fs::path("/dev/shm") / ("kithara-assets-build-" + std::to_string(::getpid()));
    fs::remove_all(tmp);
    build_store(tmp, assets, resources);
    fs::create_directories(dir.parent_path());
    fs::copy(tmp, dir, fs::copy_options::recursive);
    fs::remove_all(tmp);
}

void build_store(const fs::path& dir, std::int64_t assets, int resources) {
    auto store = asset_store::open(dir, big_budget());
    if (!store) std::abort();
    const std::byte payload[64] = {};
    for (std::int64_t i = 0; i < assets; ++i) {
        auto a = store->open_asset(url(i));
        for (int r = 0; r < resources; ++r) {
            auto res = a->open_atomic(url(i) + "/r" + std::to_string(r));
            if (!res || !res->replace(payload)) std::abort();
        }
    }
    if (!store->flush()) std::abort();
}

void bm_open_warm(benchmark::State& state) {
    const fs::path dir = bench_root() / ("open-" + std::to_string(state.range(0)) + "x" +
                                         std::to_string(state.range(1)));
    make_store(dir, state.range(0), static_cast<int>(state.range(1)));
    { auto warm = asset_store::open(dir, big_budget()); }
    for (auto _ : state) {
        auto store = asset_store::open(dir, big_budget());
        if (!store) state.SkipWithError("open failed");
        benchmark::DoNotOptimize(store->stats().entries);
        state.PauseTiming();
        store = kithara::fail(kithara::assets::errc::ok_);
        state.ResumeTiming();
    }
    state.counters["index_bytes"] = static_cast<double>(fs::file_size(dir / "index"));
    fs::remove_all(dir);
}
BENCHMARK(bm_open_warm)->Args({10'000, 1})->Args({10'000, 4})->Unit(benchmark::kMicrosecond);

// open_asset + handle close of an existing asset: two LRU moves, no I/O.
void bm_touch(benchmark::State& state) {
    const fs::path dir = bench_root() / "touch";
    make_store(dir, 10'000, 1);
    auto store = asset_store::open(dir, big_budget());
    std::int64_t i = 0;
    for (auto _ : state) {
        auto a = store->open_asset(url(i++ % 10'000));
        benchmark::DoNotOptimize(a->id());
    }
    store = kithara::fail(kithara::assets::errc::ok_);
    fs::remove_all(dir);
}
BENCHMARK(bm_touch);

// A touch followed by an index write of 10,000 assets (temp + fsync + rename + dir fsync).
void bm_touch_flush(benchmark::State& state) {
    const char* env = std::getenv("KITHARA_BENCH_DIR");
    const fs::path dir = bench_root() / "touch-flush";
    make_store(dir, 10'000, 1);
    auto store = asset_store::open(dir, big_budget());
    std::int64_t i = 0;
    for (auto _ : state) {
        { auto a = store->open_asset(url(i++ % 10'000)); }
        if (!store->flush()) state.SkipWithError("flush failed");
    }
    state.SetLabel(env ? env : "/dev/shm");
    store = kithara::fail(kithara::assets::errc::ok_);
    fs::remove_all(dir);
}
BENCHMARK(bm_touch_flush)->Unit(benchmark::kMicrosecond);

// A full store (1,000 assets cap) taking new assets: each insert evicts the LRU asset and
// deletes its directory (one 64-byte resource).
void bm_insert_evict(benchmark::State& state) {
    const fs::path dir = bench_root() / "evict";
    make_store(dir, 1'000, 1);
    auto opts = big_budget();
    opts.max_assets = 1'000;
    auto store = asset_store::open(dir, opts);
    std::int64_t i = 1'000'000;
    const std::byte payload[64] = {};
    for (auto _ : state) {
        auto a = store->open_asset(url(i));
        auto r = a->open_atomic(url(i) + "/r0");
        (void)r->replace(payload);
        ++i;
    }
    state.counters["evictions"] = static_cast<double>(store->stats().evictions);
    state.SetItemsProcessed(static_cast<std::int64_t>(store->stats().evictions));
    store = kithara::fail(kithara::assets::errc::ok_);
    fs::remove_all(dir);
}
BENCHMARK(bm_insert_evict)->Unit(benchmark::kMicrosecond);

// Budget-only eviction: reopening a 10,000-asset store with a budget of 5,000 assets evicts
// 5,000 assets (bookkeeping + directory deletes) inside open().
void bm_evict_at_open(benchmark::State& state) {
    const fs::path dir = bench_root() / "evict-open";
    for (auto _ : state) {
        state.PauseTiming();
        make_store(dir, 10'000, 1);
        auto opts = big_budget();
        opts.max_assets = 5'000;
        state.ResumeTiming();
        auto store = asset_store::open(dir, opts);
        benchmark::DoNotOptimize(store->stats().evictions);
        state.PauseTiming();
        store = kithara::fail(kithara::assets::errc::ok_);
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * 5'000);
    fs::remove_all(dir);
}
BENCHMARK(bm_evict_at_open)->Unit(benchmark::kMillisecond)->Iterations(3);

// HLS-like segment downloads on one calling thread (the net io thread in a player): 30 new
// streaming resources of one asset, 100 KB written to each, committed and closed. Wall time on
// the calling thread. Arg 0: no store_options::background (every fsync inline, as before
// streaming_options::defer_sync); arg 1: a background thread runs the durability work (the
// directory syncs of new files and the flushes after commit), waited for outside the timing.
// Needs a real disk: the directory is KITHARA_SYNC_BENCH_DIR or the temp directory (not
// /dev/shm, where fsync is free).
struct bench_runner {
    std::mutex mu;
    std::condition_variable cv;
    std::condition_variable idle_cv;
    std::deque<std::function<void()>> q;
    bool stop = false;
    bool running = false;
    std::thread th{[this] {
        std::unique_lock lk(mu);
        for (;;) {
            cv.wait(lk, [&] { return stop || !q.empty(); });
            if (q.empty()) return;
            auto t = std::move(q.front());
            q.pop_front();
            running = true;
            lk.unlock();
            t();
            t = nullptr;
            lk.lock();
            running = false;
            if (q.empty()) idle_cv.notify_all();
        }
    }};
    ~bench_runner() {
        {
            std::lock_guard lk(mu);
            stop = true;
        }
        cv.notify_all();
        th.join();
    }
    bool submit(std::function<void()> t) {
        {
            std::lock_guard lk(mu);
            q.push_back(std::move(t));
        }
        cv.notify_one();
        return true;
    }
    void wait_idle() {
        std::unique_lock lk(mu);
        idle_cv.wait(lk, [&] { return q.empty() && !running; });
    }
};

void bm_segments_commit(benchmark::State& state) {
    const bool background = state.range(0) != 0;
    const char* env = std::getenv("KITHARA_SYNC_BENCH_DIR");
    const fs::path dir = fs::path(env ? env : fs::temp_directory_path().string()) /
                         ("kithara-assets-sync-bench-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    constexpr int segments = 30;
    const std::vector<std::byte> body(100 * 1000, std::byte{0x5a});
    bench_runner runner;
    auto opts = big_budget();
    if (background)
        opts.background = [&runner](std::function<void()> t) {
            return runner.submit(std::move(t));
        };
    auto store = asset_store::open(dir, opts);
    if (!store) std::abort();
    std::int64_t round = 0;
    for (auto _ : state) {
        auto asset = store->open_asset(url(round));
        if (!asset) std::abort();
        for (int i = 0; i < segments; ++i) {
            auto s = asset->open_streaming(url(round) + "/seg" + std::to_string(i) + ".ts");
            if (!s) std::abort();
            if (!s->resource().write_at(0, body)) std::abort();
            if (!s->resource().commit(body.size())) std::abort();
        }
        state.PauseTiming();
        runner.wait_idle();  // the deferred syncs do not overlap the next round
        ++round;
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * segments);
    store = kithara::fail(kithara::assets::errc::ok_);
    fs::remove_all(dir);
}
BENCHMARK(bm_segments_commit)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

int cold_open(const char* dir) {
    for (const char* name : {"index", "journal-0", "journal-1"}) {
        const int fd = ::open((fs::path(dir) / name).c_str(), O_RDONLY);
        if (fd >= 0) {
            ::fdatasync(fd);
            ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            ::close(fd);
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto store = asset_store::open(dir, big_budget());
    const auto t1 = std::chrono::steady_clock::now();
    if (!store) {
        std::fprintf(stderr, "%s\n", store.error().message().c_str());
        return 1;
    }
    std::printf("cold open of %zu assets: %.3f ms\n", store->stats().entries,
                std::chrono::duration<double, std::milli>(t1 - t0).count());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && std::strcmp(argv[1], "--cold-open") == 0) return cold_open(argv[2]);
    if (argc >= 4 && std::strcmp(argv[1], "--make-store") == 0) {
        make_store(argv[2], std::atoll(argv[3]), 1);
        return 0;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    fs::remove_all(bench_root());
    return 0;
}
