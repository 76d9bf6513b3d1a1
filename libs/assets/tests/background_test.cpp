// store_options::background (eviction and index writes off the caller's thread) and concurrent
// remove_resource vs open (label concurrency: also run under TSan).
#include <kithara/assets/asset_store.hpp>
#include <kithara/assets/error.hpp>

#include "assets_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

namespace kithara::assets {
namespace {

namespace fs = std::filesystem;
using test::pattern;

std::string url(int i) {
    return "https://b.example/a" + std::to_string(i) + "/file.mp3";
}

// Records tasks; the test runs them later on a std::thread.
struct recording_runner {
    std::mutex mu;
    std::vector<std::function<void()>> tasks;

    std::function<bool(std::function<void()>)> submit() {
        return [this](std::function<void()> t) {
            std::lock_guard lk(mu);
            tasks.push_back(std::move(t));
            return true;
        };
    }
    std::size_t pending() {
        std::lock_guard lk(mu);
        return tasks.size();
    }
    void run_on_thread() {
        std::vector<std::function<void()>> mine;
        {
            std::lock_guard lk(mu);
            mine.swap(tasks);
        }
        std::thread th([&] {
            for (auto& t : mine) t();
        });
        th.join();
    }
};

// A worker thread running tasks as they arrive.
struct thread_runner {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> q;
    bool stop = false;
    bool running = false;
    std::condition_variable idle_cv;
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
    // Returns once no task is queued or running (tasks may queue more; those are waited for too).
    void wait_idle() {
        std::unique_lock lk(mu);
        idle_cv.wait(lk, [&] { return q.empty() && !running; });
    }
    ~thread_runner() {
        {
            std::lock_guard lk(mu);
            stop = true;
        }
        cv.notify_all();
        th.join();
    }
    std::function<bool(std::function<void()>)> submit() {
        return [this](std::function<void()> t) {
            {
                std::lock_guard lk(mu);
                q.push_back(std::move(t));
            }
            cv.notify_one();
            return true;
        };
    }
};

std::size_t tombstones(const fs::path& root) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root / "evicted", ec)) {
        (void)e;
        ++n;
    }
    return n;
}

void fill(asset_store& store, int i, std::size_t n, unsigned seed) {
    auto a = store.open_asset(url(i));
    ASSERT_TRUE(a) << a.error().message();
    auto s = a->open_streaming(url(i));
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_TRUE(s->resource().write_at(0, pattern(n, seed)));
    ASSERT_TRUE(s->resource().commit(n));
}

std::vector<std::byte> read_all(asset_store& store, int i) {
    auto a = store.open_asset(url(i));
    EXPECT_TRUE(a);
    auto s = a->open_streaming(url(i));
    EXPECT_TRUE(s);
    std::vector<std::byte> out(s->resource().available_bytes());
    auto n = s->resource().read_at(0, out);
    EXPECT_TRUE(n);
    out.resize(n ? *n : 0);
    return out;
}

// Fills assets 0, 1 and 2 (4000 bytes each, budget 10000): the runner finishes the durability
// work of the first two commits (until then an asset counts as in use), so the third evicts
// asset 0 and its deletion waits on the runner.
void fill_three(asset_store& store, recording_runner& runner) {
    for (int i = 0; i < 3; ++i) {
        fill(store, i, 4000, static_cast<unsigned>(i));
        if (i < 2) runner.run_on_thread();
    }
}

store_options with_runner(std::function<bool(std::function<void()>)> bg, std::uint64_t max) {
    auto o = test::budget(max);
    o.background = std::move(bg);
    return o;
}

TEST(background, over_budget_write_returns_before_deleting_with_exact_stats) {
    test::temp_dir dir("bgevict", true);
    recording_runner runner;
    auto store = asset_store::open(dir.path, with_runner(runner.submit(), 10'000));
    ASSERT_TRUE(store);
    for (int i = 0; i < 2; ++i) fill(*store, i, 4000, static_cast<unsigned>(i));
    runner.run_on_thread();  // their commits' syncs: until then the assets count as in use
    const auto before = runner.pending();
    fill(*store, 2, 4000, 2);  // 12000 > 10000: asset 0 is evicted
    const auto st = store->stats();
    EXPECT_EQ(st.evictions, 1u);
    EXPECT_EQ(st.evicted_bytes, 4000u);
    EXPECT_EQ(st.bytes_used, 8000u);
    EXPECT_FALSE(store->contains(url(0)));
    EXPECT_FALSE(fs::exists(*store->asset_directory(url(0))));
    EXPECT_EQ(tombstones(dir.path), 1u);  // renamed, not yet deleted
    EXPECT_GT(runner.pending(), before);
    runner.run_on_thread();
    EXPECT_EQ(tombstones(dir.path), 0u);
    EXPECT_EQ(read_all(*store, 1), pattern(4000, 1));
}

TEST(background, rejecting_runner_runs_the_work_inline) {
    test::temp_dir dir("bgreject", true);
    std::atomic<int> offered{0};
    auto store = asset_store::open(dir.path, with_runner(
                                                 [&](std::function<void()>) {
                                                     offered.fetch_add(1);
                                                     return false;
                                                 },
                                                 10'000));
    ASSERT_TRUE(store);
    for (int i = 0; i < 3; ++i) fill(*store, i, 4000, static_cast<unsigned>(i));
    EXPECT_GT(offered.load(), 0);
    EXPECT_EQ(store->stats().evictions, 1u);
    EXPECT_EQ(tombstones(dir.path), 0u);
}

TEST(background, reopen_while_the_old_directory_is_queued_gets_a_fresh_asset) {
    test::temp_dir dir("bgreopen", true);
    recording_runner runner;
    auto store = asset_store::open(dir.path, with_runner(runner.submit(), 10'000));
    ASSERT_TRUE(store);
    fill_three(*store, runner);
    ASSERT_FALSE(store->contains(url(0)));
    ASSERT_EQ(tombstones(dir.path), 1u);
    {
        auto a = store->open_asset(url(0));  // the old directory is still queued for deletion
        ASSERT_TRUE(a);
        auto s = a->open_streaming(url(0));
        ASSERT_TRUE(s);
        EXPECT_EQ(s->resource().available_bytes(), 0u);
        ASSERT_TRUE(s->resource().write_at(0, pattern(1000, 42)));
    }
    runner.run_on_thread();
    EXPECT_EQ(tombstones(dir.path), 0u);
    EXPECT_EQ(read_all(*store, 0), pattern(1000, 42));
    runner.run_on_thread();
}

TEST(background, reopens_racing_background_deletions_keep_the_new_data) {
    test::temp_dir dir("bgrace", true);
    thread_runner runner;
    std::vector<unsigned> last(4, 0);
    {
        auto store = asset_store::open(dir.path, with_runner(runner.submit(), 6000));
        ASSERT_TRUE(store);
        for (unsigned n = 1; n <= 60; ++n) {
            const int i = static_cast<int>(n % 4);
            fill(*store, i, 2500, n);  // at most two assets fit: every fill evicts one
            last[static_cast<std::size_t>(i)] = n;
        }
        runner.wait_idle();  // assets whose commit sync is queued count as in use until it ran
        for (int i = 0; i < 4; ++i) {
            if (store->contains(url(i))) {
                EXPECT_EQ(read_all(*store, i), pattern(2500, last[static_cast<std::size_t>(i)]));
            }
        }
        EXPECT_LE(store->stats().bytes_used, 6000u);
    }  // the destructor finishes or waits for the queued work
    EXPECT_EQ(tombstones(dir.path), 0u);
}

TEST(background, destructor_finishes_pending_work_and_late_tasks_do_nothing) {
    test::temp_dir dir("bgdtor", true);
    recording_runner runner;
    {
        auto store = asset_store::open(dir.path, with_runner(runner.submit(), 10'000));
        ASSERT_TRUE(store);
        fill_three(*store, runner);
        ASSERT_EQ(tombstones(dir.path), 1u);
        ASSERT_GT(runner.pending(), 0u);
    }
    EXPECT_EQ(tombstones(dir.path), 0u);
    runner.run_on_thread();  // tasks outliving the store find it gone
    auto store = asset_store::open(dir.path, test::budget(10'000));
    ASSERT_TRUE(store) << store.error().message();  // the lock was released
    EXPECT_FALSE(store->stats().index_rebuilt);
    EXPECT_EQ(store->stats().bytes_used, 8000u);
    EXPECT_FALSE(store->contains(url(0)));
}

TEST(background, task_dropped_by_the_runner_does_not_stall_later_work) {
    test::temp_dir dir("bgdrop", true);
    recording_runner runner;
    auto store = asset_store::open(dir.path, with_runner(runner.submit(), 10'000));
    ASSERT_TRUE(store);
    fill_three(*store, runner);
    ASSERT_EQ(tombstones(dir.path), 1u);
    {
        std::lock_guard lk(runner.mu);
        runner.tasks.clear();  // dropped unrun (e.g. a pool shutting down)
    }
    fill(*store, 3, 4000, 3);  // evicts asset 1: a new task is submitted
    EXPECT_EQ(runner.pending(), 1u);
    EXPECT_EQ(tombstones(dir.path), 2u);
    runner.run_on_thread();
    EXPECT_EQ(tombstones(dir.path), 0u);  // the dropped work ran too
}

TEST(background, commit_returns_before_its_sync_which_the_runner_makes_durable) {
    test::temp_dir dir("bgsync", true);
    recording_runner runner;
    fs::path path;
    {
        auto store = asset_store::open(dir.path, with_runner(runner.submit(), 1 << 30));
        ASSERT_TRUE(store);
        auto a = store->open_asset(url(0));
        ASSERT_TRUE(a);
        {
            auto s = a->open_streaming(url(0));
            ASSERT_TRUE(s);
            path = s->resource().path();
            ASSERT_TRUE(s->resource().write_at(0, pattern(4000, 9)));
            ASSERT_TRUE(s->resource().commit(4000));
            EXPECT_TRUE(s->resource().complete());
        }
        // Nothing synced on this thread: no range map yet; the job holds the resource open.
        EXPECT_EQ(storage::streaming_resource::inspect(path).error(),
                  std::errc::no_such_file_or_directory);
        EXPECT_GT(runner.pending(), 0u);
        runner.run_on_thread();
        auto m = storage::streaming_resource::inspect(path);
        ASSERT_TRUE(m) << m.error().message();
        EXPECT_TRUE(m->complete);
        EXPECT_FALSE(fs::exists(storage::streaming_resource::range_log_path(path)));
    }
    auto store = asset_store::open(dir.path, test::budget(1 << 30));
    ASSERT_TRUE(store);
    EXPECT_EQ(read_all(*store, 0), pattern(4000, 9));
}

TEST(background, removing_a_resource_whose_sync_is_queued_waits_for_the_sync) {
    test::temp_dir dir("bgsyncrm", true);
    recording_runner runner;
    auto store = asset_store::open(dir.path, with_runner(runner.submit(), 1 << 30));
    ASSERT_TRUE(store);
    auto a = store->open_asset(url(0));
    ASSERT_TRUE(a);
    fs::path path;
    {
        auto s = a->open_streaming(url(0));
        ASSERT_TRUE(s);
        path = s->resource().path();
        ASSERT_TRUE(s->resource().write_at(0, pattern(4000, 9)));
        ASSERT_TRUE(s->resource().commit(4000));
    }
    ASSERT_TRUE(a->remove_resource(url(0)));  // the queued job still writes its map: deferred
    EXPECT_TRUE(fs::exists(path));
    EXPECT_EQ(a->open_streaming(url(0)).error(), errc::removal_pending);
    runner.run_on_thread();
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(fs::exists(storage::streaming_resource::range_map_path(path)));
    auto s = a->open_streaming(url(0));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->resource().available_bytes(), 0u);
    EXPECT_EQ(store->stats().bytes_used, 0u);
}

TEST(background, periodic_index_writes_run_on_the_runner_coalesced) {
    test::temp_dir dir("bgflush", true);
    recording_runner runner;
    auto o = with_runner(runner.submit(), 1 << 30);
    o.flush_after_changes = 1;
    auto store = asset_store::open(dir.path, o);
    ASSERT_TRUE(store);
    const auto writes = store->stats().index_writes;
    for (int i = 0; i < 20; ++i) fill(*store, i % 3, 100, 1);
    EXPECT_EQ(store->stats().index_writes, writes);  // nothing written on this thread
    EXPECT_EQ(runner.pending(), 1u);                 // one drain task queued, however many changes
    runner.run_on_thread();
    EXPECT_EQ(store->stats().index_writes, writes + 1);
}

TEST(remove_resource, concurrent_remove_and_open_keep_files_and_bytes_consistent) {
    test::temp_dir dir("rmrace", true);
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    auto a = store->open_asset(url(1));
    ASSERT_TRUE(a);
    const std::string res = url(1) + "/data";
    std::barrier start(2);
    std::atomic<int> unexpected{0};
    std::thread opener([&] {
        auto h = a->share();
        start.arrive_and_wait();
        for (int n = 0; n < 200; ++n) {
            auto s = h.open_streaming(res);
            if (!s) {
                if (s.error() != errc::removal_pending) unexpected.fetch_add(1);
                continue;
            }
            const auto have = s->resource().available_bytes();
            if (!s->resource().write_at(have, pattern(512, 1))) unexpected.fetch_add(1);
        }
    });
    std::thread remover([&] {
        auto h = a->share();
        start.arrive_and_wait();
        for (int n = 0; n < 200; ++n) {
            if (!h.remove_resource(res)) unexpected.fetch_add(1);
        }
    });
    opener.join();
    remover.join();
    EXPECT_EQ(unexpected.load(), 0);
    // Whatever survived is counted exactly; removing it leaves nothing behind.
    {
        auto s = a->open_streaming(res);
        ASSERT_TRUE(s);
        EXPECT_EQ(store->stats().bytes_used, s->resource().available_bytes());
    }
    ASSERT_TRUE(a->remove_resource(res));
    EXPECT_EQ(store->stats().bytes_used, 0u);
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(a->directory())) {
        (void)e;
        ++files;
    }
    EXPECT_EQ(files, 0u);
}

TEST(background, evictions_and_removals_from_many_threads_leave_an_index_matching_the_disk) {
    test::temp_dir dir("bgmix", true);
    store_stats kept;
    {
        thread_runner runner;
        auto o = with_runner(runner.submit(), 64 * 1024);
        o.max_assets = 8;
        o.flush_after_changes = 16;
        auto store = asset_store::open(dir.path, o);
        ASSERT_TRUE(store);
        std::atomic<int> unexpected{0};
        std::vector<std::thread> pool;
        for (int t = 0; t < 4; ++t) {
            pool.emplace_back([&, t] {
                std::mt19937 rng(static_cast<unsigned>(t) + 11);
                for (int n = 0; n < 80; ++n) {
                    const int i = static_cast<int>(rng() % 12);
                    const std::string res = url(i) + "/r" + std::to_string(rng() % 3);
                    auto a = store->open_asset(url(i));
                    if (!a) {
                        unexpected.fetch_add(1);
                        continue;
                    }
                    if (t == 0) {  // the remover
                        if (!a->remove_resource(res)) unexpected.fetch_add(1);
                        continue;
                    }
                    auto s = a->open_streaming(res);
                    if (!s) {
                        if (s.error() != errc::removal_pending) unexpected.fetch_add(1);
                        continue;
                    }
                    const auto have = s->resource().available_bytes();
                    if (!s->resource().write_at(have, pattern(4096, 1))) unexpected.fetch_add(1);
                }
            });
        }
        for (auto& th : pool) th.join();
        EXPECT_EQ(unexpected.load(), 0);
        EXPECT_LE(store->stats().bytes_counted, 64u * 1024);
        EXPECT_GT(store->stats().evictions, 0u);
    }
    {
        auto store = asset_store::open(dir.path, {});
        ASSERT_TRUE(store);
        kept = store->stats();
        EXPECT_FALSE(kept.index_rebuilt);
        EXPECT_GT(kept.bytes_used, 0u);
    }
    EXPECT_EQ(tombstones(dir.path), 0u);
    fs::remove(dir.path / "index");
    fs::remove(dir.path / "journal-0");
    fs::remove(dir.path / "journal-1");
    auto rebuilt = asset_store::open(dir.path, {});
    ASSERT_TRUE(rebuilt);
    EXPECT_EQ(rebuilt->stats().entries, kept.entries);
    EXPECT_EQ(rebuilt->stats().bytes_used, kept.bytes_used);
}

}  // namespace
}  // namespace kithara::assets
