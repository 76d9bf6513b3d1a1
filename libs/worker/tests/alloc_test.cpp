// Steady-state channel traffic allocates nothing: a global operator new counts allocations
// while the measured section runs. Built without sanitizers only (they replace operator new).
#include <kithara/worker/channel.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <latch>
#include <memory>
#include <new>
#include <thread>

#if defined(__GNUC__) && !defined(__clang__)
// g++ flags malloc/free inside the replaced operators themselves as mismatched.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

using kithara::worker::channel;
using kithara::worker::deadline_after;

TEST(channel_allocations, the_counter_sees_allocations) {
    allocations = 0;
    counting = true;
    auto p = std::make_unique<std::atomic<int>>(1);  // observable: not elided
    counting = false;
    EXPECT_EQ(p->load(), 1);
    EXPECT_EQ(allocations.load(), 1);
}

TEST(channel_allocations, try_and_blocking_calls_allocate_nothing_in_steady_state) {
    channel<kithara::bufpool::byte_buffer> ch({.max_items = 4, .max_bytes = 1 << 20});
    kithara::bufpool::byte_pool pool;
    std::stop_source stop;
    const auto until = deadline_after(std::chrono::minutes(1));
    for (int i = 0; i < 8; ++i) {  // warm the pool's size class
        ASSERT_TRUE(ch.try_send(pool.get(4096)));
        ASSERT_TRUE(ch.try_receive());
    }
    allocations = 0;
    counting = true;
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(ch.try_send(pool.get(4096)));
        ASSERT_TRUE(ch.send(pool.get(4096), stop.get_token(), until));
        ASSERT_TRUE(ch.try_receive());
        ASSERT_TRUE(ch.receive(stop.get_token(), until));
    }
    counting = false;
    EXPECT_EQ(allocations.load(), 0);
}

TEST(channel_allocations, blocked_waits_with_stop_tokens_allocate_nothing) {
    channel<int> ping({.max_items = 1});
    channel<int> pong({.max_items = 1});
    std::stop_source stop;
    std::latch ready(2);
    std::thread echo([&] {
        ready.arrive_and_wait();
        for (int i = 0; i < 2000; ++i) {
            auto v = ping.receive(stop.get_token());
            if (!v || !pong.send(std::move(*v), stop.get_token())) return;
        }
    });
    allocations = 0;
    counting = true;
    ready.arrive_and_wait();
    for (int i = 0; i < 2000; ++i) {
        ASSERT_TRUE(ping.send(int{i}, stop.get_token()));
        auto r = pong.receive(stop.get_token());
        ASSERT_TRUE(r);
        ASSERT_EQ(*r, i);
    }
    counting = false;
    echo.join();
    EXPECT_EQ(allocations.load(), 0);
}

}  // namespace
