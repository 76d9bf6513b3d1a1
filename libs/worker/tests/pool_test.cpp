#include <kithara/worker/blocking_pool.hpp>

#include <kithara/core/log.hpp>
#include <kithara/worker/io_runtime.hpp>
#include <kithara/worker/thread.hpp>

#include <gtest/gtest.h>
#include <asio/post.hpp>

#include <atomic>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using kithara::worker::blocking_pool;
using kithara::worker::errc;
using kithara::worker::job;
using kithara::worker::shutdown_mode;

// A gate tasks wait on until the test opens it.
struct gate {
    std::mutex m;
    std::condition_variable cv;
    bool open_ = false;
    void open() {
        std::lock_guard lk(m);
        open_ = true;
        cv.notify_all();
    }
    void wait() {
        std::unique_lock lk(m);
        cv.wait(lk, [&] { return open_; });
    }
};

TEST(blocking_pool, tasks_submitted_from_the_io_thread_never_run_on_it) {
    kithara::worker::io_runtime io;
    ASSERT_TRUE(io.start());
    std::promise<std::thread::id> io_id;
    constexpr int tasks = 16;
    std::latch done(tasks);
    std::mutex m;
    std::vector<std::thread::id> ids;
    std::atomic<int> on_pool{0};
    blocking_pool pool({.threads = 2});  // declared last: joined before what its tasks use
    asio::post(io.executor(), [&] {
        io_id.set_value(std::this_thread::get_id());
        for (int i = 0; i < tasks; ++i) {
            ASSERT_TRUE(pool.try_submit([&] {
                {
                    std::lock_guard lk(m);
                    ids.push_back(std::this_thread::get_id());
                }
                if (pool.running_in_this_thread() && !io.running_in_this_thread()) ++on_pool;
                done.count_down();
            }));
        }
    });
    const auto io_thread = io_id.get_future().get();
    done.wait();
    EXPECT_EQ(on_pool.load(), tasks);
    io.shutdown();
    pool.shutdown();
    for (auto id : ids) EXPECT_NE(id, io_thread);
}

TEST(blocking_pool, try_submit_fails_with_full_when_the_queue_is_full) {
    gate g;  // declared first: outlives the pool's threads
    blocking_pool pool({.threads = 1, .max_queued = 2});
    std::latch running(1);
    ASSERT_TRUE(pool.submit([&] {
        running.count_down();
        g.wait();
    }));
    running.wait();  // the thread is busy: further tasks queue
    ASSERT_TRUE(pool.try_submit([] {}));
    ASSERT_TRUE(pool.try_submit([] {}));
    auto r = pool.try_submit([] {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::full);
    g.open();
}

TEST(blocking_pool, submit_blocks_until_a_task_is_taken) {
    gate g;
    blocking_pool pool({.threads = 1, .max_queued = 1});
    std::latch running(1);
    ASSERT_TRUE(pool.submit([&] {
        running.count_down();
        g.wait();
    }));
    running.wait();
    ASSERT_TRUE(pool.try_submit([] {}));
    std::atomic<bool> submitted{false};
    std::atomic<bool> last_ran{false};
    std::thread submitter([&] {
        EXPECT_TRUE(pool.submit([&] { last_ran = true; }));
        submitted = true;
    });
    EXPECT_FALSE(submitted.load());  // queue full and the thread blocked on the gate
    g.open();
    submitter.join();
    pool.shutdown(shutdown_mode::drain);
    EXPECT_TRUE(last_ran.load());
}

TEST(blocking_pool, drain_shutdown_runs_every_queued_task) {
    std::atomic<int> ran{0};
    blocking_pool pool({.threads = 2, .max_queued = 64});
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.submit([&] { ++ran; }));
    pool.shutdown(shutdown_mode::drain);
    EXPECT_EQ(ran.load(), 50);
}

TEST(blocking_pool, cancel_shutdown_stops_the_running_task_and_drops_queued_ones) {
    std::latch running(1);
    std::atomic<bool> saw_stop{false};
    std::atomic<int> queued_ran{0};
    blocking_pool pool({.threads = 1, .max_queued = 8});
    ASSERT_TRUE(pool.submit([&](std::stop_token st) {
        running.count_down();
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lk(m);
        cv.wait(lk, st, [] { return false; });  // until stop is requested
        saw_stop = st.stop_requested();
    }));
    running.wait();
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(pool.try_submit([&] { ++queued_ran; }));
    pool.shutdown(shutdown_mode::cancel);
    EXPECT_TRUE(saw_stop.load());
    EXPECT_EQ(queued_ran.load(), 0);
}

TEST(blocking_pool, submit_after_shutdown_fails_with_stopped) {
    blocking_pool pool;
    pool.shutdown();
    EXPECT_EQ(pool.submit([] {}).error(), errc::stopped);
    EXPECT_EQ(pool.try_submit([] {}).error(), errc::stopped);
}

TEST(blocking_pool, a_throwing_task_does_not_kill_its_thread) {
    kithara::set_log_level(kithara::log_level::off);
    std::promise<void> after;
    blocking_pool pool({.threads = 1});
    ASSERT_TRUE(pool.submit([] { throw std::runtime_error("boom"); }));
    ASSERT_TRUE(pool.submit([&] { after.set_value(); }));
    after.get_future().wait();
    kithara::set_log_level(kithara::log_level::warn);
}

TEST(blocking_pool, threads_carry_the_configured_name) {
    std::promise<std::string> name;
    blocking_pool pool({.threads = 1, .name = "decoders"});
    ASSERT_TRUE(pool.submit([&] { name.set_value(kithara::worker::current_thread_name()); }));
    EXPECT_EQ(name.get_future().get(), "decoders-0");
}

TEST(job, runs_on_its_own_named_thread_until_stop_is_requested) {
    std::promise<std::string> name;
    std::atomic<bool> finished{false};
    auto j = job::start("decode-1", [&](std::stop_token st) {
        name.set_value(kithara::worker::current_thread_name());
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lk(m);
        cv.wait(lk, st, [] { return false; });
        finished = true;
    });
    ASSERT_TRUE(j);
    EXPECT_EQ(name.get_future().get(), "decode-1");
    EXPECT_NE(j->get_id(), std::this_thread::get_id());
    j->request_stop();
    j->join();
    EXPECT_TRUE(finished.load());
}

TEST(job, destruction_requests_stop_and_joins) {
    std::atomic<bool> finished{false};
    {
        std::latch started(1);
        auto j = job::start("loop", [&](std::stop_token st) {
            started.count_down();
            std::mutex m;
            std::condition_variable_any cv;
            std::unique_lock lk(m);
            cv.wait(lk, st, [] { return false; });
            finished = true;
        });
        ASSERT_TRUE(j);
        started.wait();
    }
    EXPECT_TRUE(finished.load());
}

}  // namespace
