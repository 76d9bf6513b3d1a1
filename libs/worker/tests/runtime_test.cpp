#include <kithara/worker/io_runtime.hpp>

#include <kithara/core/log.hpp>
#include <kithara/worker/error.hpp>
#include <kithara/worker/thread.hpp>

#include <gtest/gtest.h>
#include <asio/post.hpp>

#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using kithara::worker::io_runtime;

TEST(io_runtime, runs_handlers_on_its_own_named_io_thread) {
    io_runtime io;
    ASSERT_TRUE(io.start());
    EXPECT_TRUE(io.running());
    std::promise<std::tuple<std::thread::id, bool, std::string>> p;
    asio::post(io.executor(), [&] {
        p.set_value({std::this_thread::get_id(), io.running_in_this_thread(),
                     kithara::worker::current_thread_name()});
    });
    auto [id, on_io, name] = p.get_future().get();
    EXPECT_NE(id, std::this_thread::get_id());
    EXPECT_TRUE(on_io);
    EXPECT_EQ(name, "kithara-io-0");
    EXPECT_FALSE(io.running_in_this_thread());
}

TEST(io_runtime, runs_on_the_configured_number_of_threads) {
    io_runtime io({.threads = 2, .name = "test-io"});
    ASSERT_TRUE(io.start());
    // Two handlers that each wait for the other can only finish on two threads.
    std::promise<void> a_ready;
    std::promise<void> b_ready;
    std::promise<std::string> a_name;
    std::promise<std::string> b_name;
    asio::post(io.executor(), [&] {
        a_ready.set_value();
        b_ready.get_future().wait();
        a_name.set_value(kithara::worker::current_thread_name());
    });
    asio::post(io.executor(), [&] {
        b_ready.set_value();
        a_ready.get_future().wait();
        b_name.set_value(kithara::worker::current_thread_name());
    });
    std::set<std::string> names{a_name.get_future().get(), b_name.get_future().get()};
    EXPECT_EQ(names, (std::set<std::string>{"test-io-0", "test-io-1"}));
}

TEST(io_runtime, keeps_handlers_posted_while_stopped_and_runs_them_after_restart) {
    io_runtime io;
    ASSERT_TRUE(io.start());
    io.shutdown();
    EXPECT_FALSE(io.running());
    std::promise<bool> ran;
    asio::post(io.executor(), [&] { ran.set_value(io.running_in_this_thread()); });
    ASSERT_TRUE(io.start());
    EXPECT_TRUE(ran.get_future().get());
}

TEST(io_runtime, start_is_idempotent_while_running) {
    io_runtime io;
    ASSERT_TRUE(io.start());
    EXPECT_TRUE(io.start());
    EXPECT_TRUE(io.running());
}

TEST(io_runtime, destruction_with_pending_work_destroys_handlers_without_running_them) {
    auto token = std::make_shared<int>(0);
    bool ran = false;
    {
        io_runtime io;
        ASSERT_TRUE(io.start());
        io.shutdown();
        asio::post(io.executor(), [&ran, token] { ran = true; });
        EXPECT_EQ(token.use_count(), 2);
    }
    EXPECT_FALSE(ran);
    EXPECT_EQ(token.use_count(), 1);  // the handler was destroyed
}

TEST(io_runtime, destruction_while_running_stops_and_joins) {
    std::promise<void> started;
    {
        io_runtime io;
        ASSERT_TRUE(io.start());
        asio::post(io.executor(), [&] { started.set_value(); });
        started.get_future().wait();
    }  // must not hang or crash
    SUCCEED();
}

TEST(io_runtime, stop_from_an_io_handler_then_join_from_outside) {
    io_runtime io;
    ASSERT_TRUE(io.start());
    asio::post(io.executor(), [&] { io.stop(); });
    io.join();
    EXPECT_FALSE(io.running());
    EXPECT_TRUE(io.start());  // and it restarts
}

TEST(io_runtime, start_fails_with_stopped_between_stop_and_join) {
    io_runtime io;
    ASSERT_TRUE(io.start());
    io.stop();
    auto r = io.start();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), kithara::worker::errc::stopped);
    io.join();
    EXPECT_TRUE(io.start());
}

TEST(io_runtime, a_throwing_handler_is_logged_and_the_thread_keeps_running) {
    kithara::set_log_level(kithara::log_level::off);
    io_runtime io;
    ASSERT_TRUE(io.start());
    asio::post(io.executor(), [] { throw std::runtime_error("boom"); });
    std::promise<void> after;
    asio::post(io.executor(), [&] { after.set_value(); });
    after.get_future().wait();
    kithara::set_log_level(kithara::log_level::warn);
}

}  // namespace
