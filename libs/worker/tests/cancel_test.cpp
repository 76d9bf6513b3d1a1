#include <kithara/worker/cancel.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <thread>

namespace {

using namespace std::chrono_literals;
using kithara::worker::deadline_after;
using kithara::worker::linked_stop_source;
using kithara::worker::no_deadline;
using kithara::worker::wait_status;
using kithara::worker::wait_until;

TEST(cancel, deadline_after_saturates_instead_of_wrapping) {
    EXPECT_EQ(deadline_after(std::chrono::hours::max()), no_deadline);
    EXPECT_GT(deadline_after(1s), std::chrono::steady_clock::now());
}

TEST(cancel, wait_until_returns_ready_when_the_predicate_holds) {
    std::mutex m;
    std::condition_variable_any cv;
    bool flag = false;
    std::thread t([&] {
        std::lock_guard lk(m);
        flag = true;
        cv.notify_all();
    });
    std::unique_lock lk(m);
    EXPECT_EQ(wait_until(cv, lk, {}, no_deadline, [&] { return flag; }), wait_status::ready);
    lk.unlock();
    t.join();
}

TEST(cancel, wait_until_returns_timed_out_at_the_deadline) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lk(m);
    EXPECT_EQ(wait_until(cv, lk, {}, deadline_after(10ms), [] { return false; }),
              wait_status::timed_out);
}

TEST(cancel, wait_until_returns_cancelled_on_a_stop_request) {
    std::mutex m;
    std::condition_variable_any cv;
    std::stop_source stop;
    std::latch started(1);
    std::thread t([&] {
        started.wait();
        stop.request_stop();
    });
    std::unique_lock lk(m);
    started.count_down();
    EXPECT_EQ(wait_until(cv, lk, stop.get_token(), no_deadline, [] { return false; }),
              wait_status::cancelled);
    lk.unlock();
    t.join();
}

TEST(cancel, wait_error_names_the_outcome) {
    auto e = kithara::worker::wait_error(wait_status::timed_out, "receive");
    EXPECT_EQ(e, kithara::worker::errc::timed_out);
    EXPECT_EQ(e.message(), "worker: timed out (receive)");
}

TEST(cancel, linked_stop_source_stops_when_either_parent_stops) {
    std::stop_source a;
    std::stop_source b;
    linked_stop_source linked(a.get_token(), b.get_token());
    EXPECT_FALSE(linked.stop_requested());
    b.request_stop();
    EXPECT_TRUE(linked.get_token().stop_requested());
    EXPECT_FALSE(a.stop_requested());
}

TEST(cancel, linked_stop_source_can_stop_on_its_own) {
    std::stop_source a;
    linked_stop_source linked(a.get_token());
    linked.request_stop();
    EXPECT_TRUE(linked.stop_requested());
    EXPECT_FALSE(a.stop_requested());
}

}  // namespace
