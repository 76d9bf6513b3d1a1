// Thread tests (label `concurrency`, also run under TSan): readers waiting on a writer, lost
// wake-ups, cancellation and failure wake-ups, async waits, atomic replace under readers.
#include "storage_support.hpp"

#include <kithara/storage/atomic_resource.hpp>
#include <kithara/storage/error.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <latch>
#include <random>
#include <thread>

namespace kithara::storage::test {
namespace {

using namespace std::chrono_literals;

// Generous: a lost wake-up shows up as timed_out, a healthy run never gets near it.
constexpr auto patience = 20s;

// The wake-up tests below start their waiters, wait until each has announced it is about to
// wait (a latch), then wake them. Whether the wake-up lands before or while a waiter blocks, the
// outcome must be the same (the check and the wait are one step under the resource's lock), so
// no sleep guesses how long a thread takes to block; each test runs `wake_rounds` rounds on fresh
// resources so that both orders occur. Waits carry a deadline: a lost wake-up fails as timed_out.
constexpr int wake_rounds = 20;

deadline within_patience() {
    return std::chrono::steady_clock::now() + patience;
}

template <class Backing>
class concurrent : public ::testing::Test {
protected:
    Backing backing_;
};
TYPED_TEST_SUITE(concurrent, backings, backing_names);

// One writer fills the resource in random order while readers wait for random ranges and read
// them; every byte read must be the byte written.
TYPED_TEST(concurrent, readers_see_exactly_what_a_random_order_writer_wrote) {
    constexpr std::uint64_t size = 1024 * 1024;
    constexpr std::uint64_t block = 4096;
    auto res = this->backing_.make();
    std::vector<std::uint64_t> blocks(size / block);
    for (std::size_t i = 0; i < blocks.size(); ++i) blocks[i] = i * block;
    std::shuffle(blocks.begin(), blocks.end(), std::mt19937(1));

    std::atomic<int> bad{0};
    std::vector<std::jthread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&, t] {
            std::mt19937_64 rng(100 + static_cast<unsigned>(t));
            std::vector<std::byte> out;
            for (int i = 0; i < 150; ++i) {
                const std::uint64_t begin = rng() % size;
                const std::uint64_t len = 1 + rng() % 20000;  // may straddle the end
                const byte_range want{begin, begin + len};
                auto o = res->wait_range(want, std::chrono::steady_clock::now() + patience);
                if (!o || *o != wait_outcome::ready) {
                    ++bad;
                    return;
                }
                const std::uint64_t end = std::min(want.end, size);
                out.assign(static_cast<std::size_t>(end - begin), std::byte{0});
                std::size_t got = 0;
                while (got < out.size()) {
                    auto n = res->read_at(begin + got, std::span(out).subspan(got));
                    if (!n || *n == 0) {
                        ++bad;
                        return;
                    }
                    got += *n;
                }
                if (out != pattern(begin, out.size())) ++bad;
            }
        });
    }
    std::jthread writer([&] {
        for (const auto off : blocks) {
            const auto data = pattern(off, block);
            if (!res->write_at(off, data)) ++bad;
        }
        if (!res->commit(size)) ++bad;
    });
    writer.join();
    readers.clear();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_TRUE(res->complete());
}

// Disjoint concurrent writers and a reader of the whole.
TYPED_TEST(concurrent, disjoint_writers_fill_the_resource_together) {
    constexpr std::uint64_t size = 512 * 1024;
    auto res = this->backing_.make();
    std::atomic<std::uint64_t> grown{0};
    res = this->backing_.make([&](std::uint64_t n) { grown += n; });
    std::vector<std::jthread> writers;
    for (std::uint64_t w = 0; w < 4; ++w) {
        writers.emplace_back([&, w] {
            for (std::uint64_t off = w * 1024; off < size; off += 4 * 1024) {
                const auto data = pattern(off, 1024);
                ASSERT_TRUE(res->write_at(off, data));
            }
        });
    }
    std::jthread reader([&] {
        ASSERT_EQ(res->wait_range({0, size}, std::chrono::steady_clock::now() + patience).value(),
                  wait_outcome::ready);
    });
    writers.clear();
    reader.join();
    EXPECT_EQ(grown.load(), size);
    std::vector<std::byte> out(size);
    EXPECT_EQ(res->read_at(0, out).value(), size);
    EXPECT_EQ(out, pattern(0, size));
}

// The write races the wait thousands of times; a lost wake-up would show up as timed_out.
TYPED_TEST(concurrent, a_write_racing_the_wait_always_wakes_the_waiter) {
    constexpr int rounds = 1500;
    auto res = this->backing_.make();
    std::barrier sync(2);
    std::atomic<int> bad{0};
    std::jthread waiter([&] {
        for (int i = 0; i < rounds; ++i) {
            sync.arrive_and_wait();
            const auto at = static_cast<std::uint64_t>(i);
            auto o = res->wait_range({at, at + 1}, std::chrono::steady_clock::now() + patience);
            if (!o || *o != wait_outcome::ready) ++bad;
        }
    });
    for (int i = 0; i < rounds; ++i) {
        sync.arrive_and_wait();
        const auto data = pattern(static_cast<std::uint64_t>(i), 1);
        ASSERT_TRUE(res->write_at(static_cast<std::uint64_t>(i), data));
    }
    waiter.join();
    EXPECT_EQ(bad.load(), 0);
}

TYPED_TEST(concurrent, a_write_racing_an_async_wait_always_completes_it) {
    constexpr int rounds = 1500;
    auto res = this->backing_.make();
    asio::io_context io;
    auto guard = asio::make_work_guard(io);
    std::jthread io_thread([&] { io.run(); });
    std::atomic<int> ready{0};
    std::atomic<int> other{0};
    std::jthread writer;
    {
        std::barrier sync(2);
        writer = std::jthread([&] {
            for (int i = 0; i < rounds; ++i) {
                sync.arrive_and_wait();
                const auto data = pattern(static_cast<std::uint64_t>(i), 1);
                EXPECT_TRUE(res->write_at(static_cast<std::uint64_t>(i), data));
            }
        });
        for (int i = 0; i < rounds; ++i) {
            sync.arrive_and_wait();
            const auto at = static_cast<std::uint64_t>(i);
            res->async_wait_range({at, at + 1}, io.get_executor(), [&](result<wait_outcome> r) {
                (r && *r == wait_outcome::ready ? ready : other)++;
            });
        }
        writer.join();
    }
    guard.reset();
    io_thread.join();  // returns only when every handler ran (pending waits are work)
    EXPECT_EQ(ready.load(), rounds);
    EXPECT_EQ(other.load(), 0);
}

TYPED_TEST(concurrent, requesting_stop_wakes_a_blocked_waiter) {
    for (int round = 0; round < wake_rounds; ++round) {
        auto res = this->backing_.make();
        std::stop_source stop;
        std::latch waiting(1);
        std::jthread waiter([&] {
            waiting.count_down();
            EXPECT_EQ(res->wait_range({0, 10}, within_patience(), stop.get_token()).value(),
                      wait_outcome::cancelled);
        });
        waiting.wait();
        stop.request_stop();
        waiter.join();
    }
}

TYPED_TEST(concurrent, fail_wakes_every_waiter_with_the_error) {
    for (int round = 0; round < wake_rounds; ++round) {
        auto res = this->backing_.make();
        std::atomic<int> failed{0};
        std::latch waiting(4);
        std::vector<std::jthread> waiters;
        for (std::uint64_t i = 0; i < 4; ++i) {
            waiters.emplace_back([&, i] {
                waiting.count_down();
                auto o = res->wait_range({i * 100, i * 100 + 50}, within_patience());
                if (o && *o == wait_outcome::failed) ++failed;
            });
        }
        waiting.wait();
        res->fail(error(std::make_error_code(std::errc::network_unreachable), "GET seg-1.ts"));
        waiters.clear();
        EXPECT_EQ(failed.load(), 4);
        EXPECT_EQ(*res->failure(), std::errc::network_unreachable);
    }
}

TYPED_TEST(concurrent, commit_wakes_waiters_past_the_end_with_eof) {
    for (int round = 0; round < wake_rounds; ++round) {
        auto res = this->backing_.make();
        std::latch waiting(1);
        std::jthread waiter([&] {
            waiting.count_down();
            EXPECT_EQ(res->wait_range({100, 200}, within_patience()).value(), wait_outcome::eof);
        });
        waiting.wait();
        ASSERT_TRUE(res->commit(100));
    }
}

TYPED_TEST(concurrent, close_wakes_waiters_with_closed) {
    for (int round = 0; round < wake_rounds; ++round) {
        auto res = this->backing_.make();
        std::latch waiting(1);
        std::jthread waiter([&] {
            waiting.count_down();
            auto o = res->wait_range({0, 10}, within_patience());
            ASSERT_FALSE(o);
            EXPECT_EQ(o.error(), errc::closed);
        });
        waiting.wait();
        ASSERT_TRUE(res->close());
    }
}

TYPED_TEST(concurrent, concurrent_flushes_and_writes_keep_the_map_consistent) {
    auto res = this->backing_.make();
    std::jthread flusher([&] {
        for (int i = 0; i < 50; ++i) ASSERT_TRUE(res->flush());
    });
    for (std::uint64_t off = 0; off < 256 * 1024; off += 8192) {
        const auto data = pattern(off, 8192);
        ASSERT_TRUE(res->write_at(off, data));
    }
    flusher.join();
    ASSERT_TRUE(res->flush());
    EXPECT_EQ(res->available_bytes(), 256u * 1024);
}

// Readers of an atomic resource see one whole version or another, never a mix.
TEST(atomic_concurrent, readers_never_see_a_mix_of_versions) {
    scratch_dir dir;
    atomic_resource res(dir / "meta.bin");
    auto version = [](int v) {
        return std::vector<std::byte>(static_cast<std::size_t>(16 * 1024 + v * 97),
                                      static_cast<std::byte>(v));
    };
    ASSERT_TRUE(res.replace(version(0)));
    std::atomic<bool> done{false};
    std::atomic<int> bad{0};
    std::atomic<int> reads{0};
    std::vector<std::jthread> readers;
    for (int t = 0; t < 2; ++t) {
        readers.emplace_back([&] {
            while (!done.load()) {
                auto buf = res.read();
                if (!buf || buf->empty()) {
                    ++bad;
                    continue;
                }
                const int v = std::to_integer<int>((*buf)[0]);
                if (buf->size() != version(v).size() ||
                    !std::all_of(buf->begin(), buf->end(),
                                 [&](std::byte b) { return b == (*buf)[0]; })) {
                    ++bad;
                }
                ++reads;
            }
        });
    }
    for (int v = 1; v < 60; ++v) ASSERT_TRUE(res.replace(version(v)));
    done = true;
    readers.clear();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace kithara::storage::test
