#include <kithara/worker/channel.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <asio/use_future.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using kithara::worker::channel;
using kithara::worker::channel_options;
using kithara::worker::deadline_after;
using kithara::worker::errc;
namespace bufpool = kithara::bufpool;

bufpool::byte_pool& test_pool() {
    static bufpool::byte_pool pool;
    return pool;
}

// A started io runtime for async tests.
struct io_fixture : ::testing::Test {
    void SetUp() override { ASSERT_TRUE(io.start()); }
    kithara::worker::io_runtime io;
};

TEST(channel, delivers_items_in_fifo_order) {
    channel<int> ch({.max_items = 8});
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(ch.try_send(int{i}));
    for (int i = 0; i < 8; ++i) {
        auto r = ch.try_receive();
        ASSERT_TRUE(r);
        EXPECT_EQ(*r, i);
    }
}

TEST(channel, fifo_order_survives_ring_wraparound) {
    channel<int> ch({.max_items = 3});
    int next_in = 0;
    int next_out = 0;
    for (int round = 0; round < 10; ++round) {
        ASSERT_TRUE(ch.try_send(int{next_in++}));
        ASSERT_TRUE(ch.try_send(int{next_in++}));
        EXPECT_EQ(*ch.try_receive(), next_out++);
        EXPECT_EQ(*ch.try_receive(), next_out++);
    }
}

TEST(channel, lvalues_of_copyable_types_are_sent_as_copies) {
    channel<std::string> ch;
    const std::string hello = "hello";
    ASSERT_TRUE(ch.send(hello));
    ASSERT_TRUE(ch.try_send(hello));
    EXPECT_EQ(hello, "hello");
    EXPECT_EQ(*ch.try_receive(), "hello");
    EXPECT_EQ(*ch.try_receive(), "hello");
}

TEST(channel, try_send_fails_with_full_at_count_bound_and_keeps_the_item) {
    channel<std::unique_ptr<int>> ch({.max_items = 2});
    ASSERT_TRUE(ch.try_send(std::make_unique<int>(1)));
    ASSERT_TRUE(ch.try_send(std::make_unique<int>(2)));
    auto extra = std::make_unique<int>(3);
    auto r = ch.try_send(std::move(extra));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::full);
    ASSERT_NE(extra, nullptr);  // untouched on failure
    EXPECT_EQ(*extra, 3);
    EXPECT_EQ(ch.stats().items, 2U);
}

TEST(channel, try_receive_on_empty_fails_with_empty) {
    channel<int> ch;
    auto r = ch.try_receive();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::empty);
}

TEST(channel, blocked_sender_proceeds_only_after_a_receive_makes_room) {
    channel<int> ch({.max_items = 2});
    ASSERT_TRUE(ch.try_send(1));
    ASSERT_TRUE(ch.try_send(2));
    std::latch started(1);
    std::atomic<bool> sent{false};
    std::thread sender([&] {
        started.count_down();
        EXPECT_TRUE(ch.send(3));
        sent = true;
    });
    started.wait();
    EXPECT_FALSE(sent.load());  // the channel is full, whatever the scheduling
    EXPECT_EQ(*ch.receive(), 1);
    sender.join();
    EXPECT_TRUE(sent.load());
    EXPECT_EQ(*ch.receive(), 2);
    EXPECT_EQ(*ch.receive(), 3);
    EXPECT_EQ(ch.stats().high_water_items, 2U);
}

TEST(channel, byte_bound_limits_pooled_buffers_before_the_count_bound) {
    channel<bufpool::byte_buffer> ch({.max_items = 16, .max_bytes = 8192});
    ASSERT_TRUE(ch.try_send(test_pool().get(4096)));
    ASSERT_TRUE(ch.try_send(test_pool().get(4096)));
    auto third = test_pool().get(4096);
    auto r = ch.try_send(std::move(third));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::full);
    EXPECT_TRUE(third);  // still ours
    EXPECT_EQ(ch.stats().bytes, 8192U);
    EXPECT_EQ(ch.stats().items, 2U);
}

TEST(channel, blocked_sender_waits_for_bytes_to_be_freed) {
    channel<bufpool::byte_buffer> ch({.max_items = 16, .max_bytes = 8192});
    ASSERT_TRUE(ch.try_send(test_pool().get(4096)));
    ASSERT_TRUE(ch.try_send(test_pool().get(4096)));
    std::latch started(1);
    std::atomic<bool> sent{false};
    std::thread sender([&] {
        auto b = test_pool().get(4096);
        b[0] = std::byte{7};
        started.count_down();
        EXPECT_TRUE(ch.send(std::move(b)));
        sent = true;
    });
    started.wait();
    EXPECT_FALSE(sent.load());
    EXPECT_TRUE(ch.receive());
    sender.join();
    EXPECT_TRUE(sent.load());
    EXPECT_TRUE(ch.receive());
    auto last = ch.receive();
    ASSERT_TRUE(last);
    EXPECT_EQ((*last)[0], std::byte{7});
    EXPECT_EQ(ch.stats().high_water_bytes, 8192U);
}

TEST(channel, item_larger_than_byte_bound_is_admitted_alone) {
    channel<bufpool::byte_buffer> ch({.max_items = 4, .max_bytes = 1024});
    ASSERT_TRUE(ch.try_send(test_pool().get(4096)));
    auto r = ch.try_send(test_pool().get(256));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::full);
    EXPECT_TRUE(ch.try_receive());
    EXPECT_TRUE(ch.try_send(test_pool().get(256)));
}

TEST(channel, custom_size_function_counts_bytes) {
    auto len = [](const std::string& s) noexcept { return s.size(); };
    channel<std::string, decltype(len)> ch({.max_items = 8, .max_bytes = 10}, len);
    ASSERT_TRUE(ch.try_send(std::string(6, 'a')));
    auto r = ch.try_send(std::string(5, 'b'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::full);
    EXPECT_TRUE(ch.try_send(std::string(4, 'c')));
    EXPECT_EQ(ch.stats().bytes, 10U);
}

TEST(channel, close_lets_receivers_drain_then_reports_closed) {
    channel<int> ch({.max_items = 4});
    ASSERT_TRUE(ch.try_send(1));
    ASSERT_TRUE(ch.try_send(2));
    ch.close();
    EXPECT_EQ(*ch.receive(), 1);
    EXPECT_EQ(*ch.try_receive(), 2);
    auto r = ch.receive();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::closed);
    EXPECT_EQ(ch.try_receive().error(), errc::closed);
}

TEST(channel, send_after_close_fails_with_closed) {
    channel<int> ch;
    ch.close();
    EXPECT_EQ(ch.send(1).error(), errc::closed);
    EXPECT_EQ(ch.try_send(1).error(), errc::closed);
}

TEST(channel, close_wakes_a_blocked_receiver_with_closed) {
    channel<int> ch;
    std::latch started(1);
    std::thread receiver([&] {
        started.count_down();
        auto r = ch.receive();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), errc::closed);
    });
    started.wait();
    ch.close();
    receiver.join();
}

TEST(channel, close_wakes_a_blocked_sender_with_closed) {
    channel<int> ch({.max_items = 1});
    ASSERT_TRUE(ch.try_send(1));
    std::latch started(1);
    std::thread sender([&] {
        started.count_down();
        EXPECT_EQ(ch.send(2).error(), errc::closed);
    });
    started.wait();
    ch.close();
    sender.join();
    EXPECT_EQ(*ch.receive(), 1);  // the queued item is still delivered
}

TEST(channel, receive_times_out_at_the_deadline) {
    channel<int> ch;
    const auto t0 = std::chrono::steady_clock::now();
    auto r = ch.receive({}, deadline_after(20ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
}

TEST(channel, send_times_out_at_the_deadline_and_keeps_the_item) {
    channel<std::unique_ptr<int>> ch({.max_items = 1});
    ASSERT_TRUE(ch.try_send(std::make_unique<int>(1)));
    auto item = std::make_unique<int>(2);
    auto r = ch.send(std::move(item), {}, deadline_after(20ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::timed_out);
    ASSERT_NE(item, nullptr);
}

TEST(channel, stop_request_cancels_a_blocked_receive) {
    channel<int> ch;
    std::stop_source stop;
    std::latch started(1);
    std::thread receiver([&] {
        started.count_down();
        auto r = ch.receive(stop.get_token());
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), errc::cancelled);
    });
    started.wait();
    stop.request_stop();
    receiver.join();
}

TEST(channel, stop_request_cancels_a_blocked_send) {
    channel<int> ch({.max_items = 1});
    ASSERT_TRUE(ch.try_send(1));
    std::stop_source stop;
    std::latch started(1);
    std::thread sender([&] {
        started.count_down();
        EXPECT_EQ(ch.send(2, stop.get_token()).error(), errc::cancelled);
    });
    started.wait();
    stop.request_stop();
    sender.join();
    EXPECT_EQ(ch.stats().items, 1U);
}

TEST(channel, already_stopped_token_cancels_without_waiting) {
    channel<int> ch;
    std::stop_source stop;
    stop.request_stop();
    EXPECT_EQ(ch.receive(stop.get_token()).error(), errc::cancelled);
}

TEST(channel, a_cancelled_receiver_does_not_swallow_an_item_meant_for_another) {
    // Two receivers; one is cancelled. Two items are sent: whichever receiver took what, the
    // uncancelled one gets an item and nothing is lost.
    channel<int> ch;
    std::stop_source stop;
    std::latch started(2);
    std::promise<kithara::result<int>> first;
    std::thread cancelled([&] {
        started.count_down();
        first.set_value(ch.receive(stop.get_token()));  // an item if one was already queued
    });
    std::promise<int> got;
    std::thread other([&] {
        started.count_down();
        got.set_value(*ch.receive());
    });
    started.wait();
    stop.request_stop();
    ASSERT_TRUE(ch.send(42));
    ASSERT_TRUE(ch.send(43));
    const int other_value = got.get_future().get();
    auto first_result = first.get_future().get();
    cancelled.join();
    other.join();
    auto left = ch.try_receive();
    if (first_result) {
        EXPECT_EQ(*first_result + other_value, 42 + 43);
        EXPECT_FALSE(left);
    } else {
        EXPECT_EQ(first_result.error(), errc::cancelled);
        EXPECT_EQ(other_value, 42);
        ASSERT_TRUE(left);
        EXPECT_EQ(*left, 43);
    }
}

TEST_F(io_fixture, async_receive_completes_on_the_io_thread_when_an_item_arrives) {
    channel<int> ch;
    std::promise<std::pair<int, bool>> done;
    ch.async_receive(io.executor(), [&](kithara::result<int> r) {
        done.set_value({r ? *r : -1, io.running_in_this_thread()});
    });
    ASSERT_TRUE(ch.send(5));
    auto [value, on_io] = done.get_future().get();
    EXPECT_EQ(value, 5);
    EXPECT_TRUE(on_io);
}

TEST_F(io_fixture, async_receive_takes_a_queued_item_without_running_inline) {
    channel<int> ch;
    ASSERT_TRUE(ch.try_send(9));
    std::promise<std::pair<int, bool>> done;
    ch.async_receive(io.executor(), [&](kithara::result<int> r) {
        done.set_value({r ? *r : -1, io.running_in_this_thread()});
    });
    auto [value, on_io] = done.get_future().get();
    EXPECT_EQ(value, 9);
    EXPECT_TRUE(on_io);
}

TEST_F(io_fixture, async_receive_is_cancelled_by_its_stop_token) {
    channel<int> ch;
    std::stop_source stop;
    std::promise<std::error_code> done;
    ch.async_receive(io.executor(), stop.get_token(), [&](kithara::result<int> r) {
        done.set_value(r ? std::error_code{} : r.error().code());
    });
    stop.request_stop();
    EXPECT_EQ(done.get_future().get(), errc::cancelled);
    ASSERT_TRUE(ch.try_send(1));  // the cancelled op took nothing
    EXPECT_EQ(*ch.try_receive(), 1);
}

TEST_F(io_fixture, async_receive_completes_with_closed_on_close) {
    channel<int> ch;
    std::promise<std::error_code> done;
    ch.async_receive(io.executor(), [&](kithara::result<int> r) {
        done.set_value(r ? std::error_code{} : r.error().code());
    });
    ch.close();
    EXPECT_EQ(done.get_future().get(), errc::closed);
}

TEST_F(io_fixture, async_send_waits_for_room_then_completes) {
    channel<int> ch({.max_items = 1});
    ASSERT_TRUE(ch.try_send(1));
    std::promise<bool> done;
    ch.async_send(io.executor(), 2,
                  [&](kithara::result<void> r) { done.set_value(r.has_value()); });
    auto f = done.get_future();
    EXPECT_EQ(ch.stats().items, 1U);
    EXPECT_EQ(*ch.receive(), 1);
    EXPECT_TRUE(f.get());
    EXPECT_EQ(*ch.receive(), 2);
}

TEST_F(io_fixture, async_receive_works_with_use_future) {
    channel<std::string> ch;
    auto f = ch.async_receive(io.executor(), asio::use_future);
    ASSERT_TRUE(ch.send(std::string("hello")));
    auto r = f.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "hello");
}

TEST(channel, mpmc_stress_delivers_every_item_exactly_once) {
    constexpr int producers = 3;
    constexpr int consumers = 3;
    constexpr int per_producer = 4000;
    channel<int> ch({.max_items = 4});
    std::vector<std::atomic<int>> seen(producers * per_producer);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (int i = 0; i < per_producer; ++i) {
                ASSERT_TRUE(ch.send(p * per_producer + i));
            }
        });
    }
    std::vector<std::vector<int>> orders(consumers);
    for (int c = 0; c < consumers; ++c) {
        threads.emplace_back([&, c] {
            for (;;) {
                auto r = (c == 0) ? ch.try_receive() : ch.receive();
                if (!r) {
                    if (r.error() == errc::closed) return;
                    continue;  // try_receive: empty
                }
                seen[static_cast<std::size_t>(*r)].fetch_add(1);
                orders[static_cast<std::size_t>(c)].push_back(*r);
            }
        });
    }
    for (int p = 0; p < producers; ++p) threads[static_cast<std::size_t>(p)].join();
    ch.close();
    for (std::size_t t = producers; t < threads.size(); ++t) threads[t].join();
    for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
    // Per consumer, each producer's items arrive in the order sent.
    for (const auto& order : orders) {
        std::vector<int> last(producers, -1);
        for (int v : order) {
            auto& l = last[static_cast<std::size_t>(v / per_producer)];
            ASSERT_LT(l, v);
            l = v;
        }
    }
    const auto s = ch.stats();
    EXPECT_EQ(s.sent, static_cast<std::uint64_t>(producers * per_producer));
    EXPECT_EQ(s.received, s.sent);
    EXPECT_LE(s.high_water_items, 4U);
}

TEST(channel, mpmc_stress_with_async_receivers_delivers_every_item_exactly_once) {
    constexpr int total = 6000;
    kithara::worker::io_runtime io({.threads = 2});
    ASSERT_TRUE(io.start());
    channel<int> ch({.max_items = 8});
    std::vector<std::atomic<int>> seen(total);
    std::atomic<int> delivered{0};
    std::promise<void> all_done;
    // Each async receiver re-arms itself until the channel is closed.
    struct rearm {
        channel<int>* ch;
        kithara::worker::io_runtime* io;
        std::vector<std::atomic<int>>* seen;
        std::atomic<int>* delivered;
        std::promise<void>* done;
        void operator()(kithara::result<int> r) const {
            if (!r) return;
            (*seen)[static_cast<std::size_t>(*r)].fetch_add(1);
            if (delivered->fetch_add(1) + 1 == total) done->set_value();
            ch->async_receive(io->executor(), *this);
        }
    };
    for (int i = 0; i < 2; ++i) {
        ch.async_receive(io.executor(), rearm{&ch, &io, &seen, &delivered, &all_done});
    }
    std::thread blocking_consumer([&] {
        while (auto r = ch.receive()) {
            seen[static_cast<std::size_t>(*r)].fetch_add(1);
            if (delivered.fetch_add(1) + 1 == total) all_done.set_value();
        }
    });
    std::vector<std::thread> producers;
    for (int p = 0; p < 2; ++p) {
        producers.emplace_back([&, p] {
            for (int i = p; i < total; i += 2) ASSERT_TRUE(ch.send(int{i}));
        });
    }
    for (auto& t : producers) t.join();
    all_done.get_future().wait();
    ch.close();
    blocking_consumer.join();
    io.shutdown();
    for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

TEST(channel, byte_bounded_mpmc_stress_delivers_every_buffer_exactly_once) {
    // Variable-size buffers under a byte bound: the wake-all path for freed bytes.
    constexpr int producers = 2;
    constexpr int per_producer = 1500;
    constexpr std::size_t max_bytes = 16 * 1024;
    channel<bufpool::byte_buffer> ch({.max_items = 32, .max_bytes = max_bytes});
    std::vector<std::atomic<int>> seen(producers * per_producer);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (int i = 0; i < per_producer; ++i) {
                const int id = p * per_producer + i;
                auto b = test_pool().get(256U << (static_cast<unsigned>(id) % 6));  // 256..8192
                std::memcpy(b.data(), &id, sizeof id);
                ASSERT_TRUE(ch.send(std::move(b)));
            }
        });
    }
    for (int c = 0; c < 2; ++c) {
        threads.emplace_back([&] {
            while (auto b = ch.receive()) {
                int id = 0;
                std::memcpy(&id, b->data(), sizeof id);
                seen[static_cast<std::size_t>(id)].fetch_add(1);
            }
        });
    }
    for (int p = 0; p < producers; ++p) threads[static_cast<std::size_t>(p)].join();
    ch.close();
    for (std::size_t t = producers; t < threads.size(); ++t) threads[t].join();
    for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
    EXPECT_LE(ch.stats().high_water_bytes, max_bytes);
}

TEST(channel, async_receive_cancellation_racing_with_sends_loses_no_item) {
    // Every async receive completes exactly once, and every item ends up either with a receiver
    // or still queued: a cancel racing a hand-off never drops or duplicates.
    constexpr int rounds = 400;
    kithara::worker::io_runtime io;
    ASSERT_TRUE(io.start());
    channel<int> ch({.max_items = rounds});
    std::vector<std::atomic<int>> seen(rounds);
    std::atomic<int> completions{0};
    std::latch all_completed(rounds);
    std::vector<std::stop_source> stops(rounds);
    for (int i = 0; i < rounds; ++i) {
        ch.async_receive(io.executor(), stops[static_cast<std::size_t>(i)].get_token(),
                         [&](kithara::result<int> r) {
                             if (r) seen[static_cast<std::size_t>(*r)].fetch_add(1);
                             ++completions;
                             all_completed.count_down();
                         });
    }
    std::thread canceller([&] {
        for (auto& s : stops) s.request_stop();
    });
    for (int i = 0; i < rounds; ++i) ASSERT_TRUE(ch.send(int{i}));
    canceller.join();
    all_completed.wait();
    while (auto r = ch.try_receive()) seen[static_cast<std::size_t>(*r)].fetch_add(1);
    io.shutdown();
    EXPECT_EQ(completions.load(), rounds);
    for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

TEST(channel, item_size_uses_size_bytes_when_the_type_has_it) {
    struct blob {
        std::size_t n;
        [[nodiscard]] std::size_t size_bytes() const noexcept { return n; }
    };
    channel<blob> ch({.max_items = 8, .max_bytes = 100});
    ASSERT_TRUE(ch.try_send(blob{60}));
    EXPECT_EQ(ch.try_send(blob{50}).error(), errc::full);
    EXPECT_EQ(ch.stats().bytes, 60U);
}

TEST(channel, stats_report_counts_and_high_water) {
    channel<int> ch({.max_items = 8});
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(ch.try_send(int{i}));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(ch.try_receive());
    const auto s = ch.stats();
    EXPECT_EQ(s.items, 2U);
    EXPECT_EQ(s.high_water_items, 5U);
    EXPECT_EQ(s.sent, 5U);
    EXPECT_EQ(s.received, 3U);
}

}  // namespace
