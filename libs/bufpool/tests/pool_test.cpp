#include <kithara/bufpool/pool.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace kithara::bufpool {
namespace {

TEST(buffer_pool, get_rounds_up_to_size_class_and_keeps_requested_size) {
    byte_pool pool;
    auto b = pool.get(1000);
    EXPECT_EQ(b.size(), 1000U);
    EXPECT_EQ(b.capacity(), 1024U);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.data()) % 64, 0U);
    std::span<std::byte> s = b;
    EXPECT_EQ(s.size(), 1000U);
}

TEST(buffer_pool, small_requests_get_the_smallest_class) {
    byte_pool pool;
    EXPECT_EQ(pool.get(0).capacity(), 256U);
    EXPECT_EQ(pool.get(1).capacity(), 256U);
    EXPECT_EQ(pool.get(257).capacity(), 512U);
}

TEST(buffer_pool, get_after_put_hits_and_reuses_the_block) {
    byte_pool pool;
    std::byte* first = nullptr;
    {
        auto b = pool.get(4096);
        first = b.data();
    }
    auto b = pool.get(4000);
    EXPECT_EQ(b.data(), first);
    const auto st = pool.stats();
    EXPECT_EQ(st.misses, 1U);
    EXPECT_EQ(st.hits, 1U);
    EXPECT_EQ(st.allocations, 1U);
    EXPECT_EQ(st.live_blocks, 1U);
    EXPECT_EQ(st.live_bytes, 4096U);
}

TEST(buffer_pool, resize_within_capacity_keeps_the_block) {
    sample_pool pool;
    auto b = pool.get(100);
    float* p = b.data();
    b.resize(b.capacity());
    EXPECT_EQ(b.size(), b.capacity());
    EXPECT_EQ(b.data(), p);
    b.resize(3);
    EXPECT_EQ(b.size(), 3U);
    EXPECT_EQ(b.data(), p);
}

TEST(buffer_pool, move_transfers_ownership_exactly_once) {
    byte_pool pool;
    auto a = pool.get(512);
    std::memset(a.data(), 0x5a, a.size());
    auto b = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    EXPECT_EQ(a.size(), 0U);
    ASSERT_TRUE(b);
    EXPECT_EQ(b[511], std::byte{0x5a});
    byte_buffer c;
    c = std::move(b);
    EXPECT_EQ(pool.stats().live_blocks, 1U);
    c.reset();
    EXPECT_EQ(pool.stats().live_blocks, 0U);
    EXPECT_EQ(pool.stats().idle_blocks, 1U);
}

TEST(buffer_pool, oversize_requests_are_exact_and_never_retained) {
    pool_options opt;
    opt.max_block_bytes = 64 * 1024;
    byte_pool pool(opt);
    {
        auto b = pool.get(100 * 1000);
        EXPECT_GE(b.capacity(), 100U * 1000U);
        EXPECT_LT(b.capacity(), 100U * 1000U + 64U);
    }
    const auto st = pool.stats();
    EXPECT_EQ(st.oversize, 1U);
    EXPECT_EQ(st.idle_bytes, 0U);
    EXPECT_EQ(st.live_bytes, 0U);
}

TEST(buffer_pool, idle_bytes_never_exceed_the_bound) {
    pool_options opt;
    opt.max_idle_bytes = 256 * 1024;
    opt.shards = 2;
    byte_pool pool(opt);
    std::vector<byte_buffer> held;
    for (int i = 0; i < 64; ++i) held.push_back(pool.get(16 * 1024));  // 1 MiB live
    held.clear();
    const auto st = pool.stats();
    EXPECT_LE(st.idle_bytes, opt.max_idle_bytes);
    EXPECT_GT(st.idle_bytes, 0U);
    EXPECT_EQ(st.dropped + st.idle_blocks, 64U);
}

TEST(buffer_pool, idle_count_per_class_is_bounded) {
    pool_options opt;
    opt.max_idle_blocks_per_class = 4;
    opt.shards = 2;
    byte_pool pool(opt);
    std::vector<byte_buffer> held;
    for (int i = 0; i < 20; ++i) held.push_back(pool.get(256));
    held.clear();  // all returned from this thread, into one shard
    EXPECT_EQ(pool.stats().idle_blocks, 4U);
    EXPECT_EQ(pool.stats().dropped, 16U);
}

TEST(buffer_pool, trim_releases_idle_memory) {
    byte_pool pool;
    {
        std::vector<byte_buffer> held;
        for (int i = 0; i < 8; ++i) held.push_back(pool.get(64 * 1024));
    }
    EXPECT_EQ(pool.stats().idle_bytes, 8U * 64U * 1024U);
    pool.trim(0);
    EXPECT_EQ(pool.stats().idle_bytes, 0U);
    EXPECT_EQ(pool.stats().idle_blocks, 0U);
}

TEST(buffer_pool, block_returned_on_another_thread_is_still_a_hit) {
    pool_options opt;
    opt.shards = 4;
    byte_pool pool(opt);
    byte_buffer b = pool.get(8192);
    std::thread([&] { b.reset(); }).join();  // returned into another thread's shard
    auto again = pool.get(8192);
    EXPECT_EQ(pool.stats().hits, 1U);
}

TEST(buffer_pool, default_pools_are_shared) {
    EXPECT_EQ(&default_byte_pool(), &default_byte_pool());
    auto s = default_sample_pool().get(1024);
    EXPECT_EQ(s.size(), 1024U);
    EXPECT_GE(s.capacity() * sizeof(float), 4096U);
}

// N threads get, fill, verify and put random sizes; handles also cross threads through a
// shared exchange. Every buffer's content must stay the writer's, and the books must balance.
TEST(buffer_pool_stress, many_threads_get_and_put_concurrently) {
    pool_options opt;
    opt.max_idle_bytes = 2 * 1024 * 1024;
    byte_pool pool(opt);
    constexpr int threads = 6;
    constexpr int iterations = 4000;
    std::mutex exchange_mutex;
    std::vector<byte_buffer> exchange;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t) * 7919U + 1U);
            std::uniform_int_distribution<std::size_t> size(1, 200 * 1024);
            for (int i = 0; i < iterations; ++i) {
                auto b = pool.get(size(rng));
                const auto tag = static_cast<std::byte>((t * 31 + i) & 0xff);
                std::memset(b.data(), static_cast<int>(tag), b.size());
                for (std::size_t k = 0; k < b.size(); k += 997) ASSERT_EQ(b[k], tag);
                ASSERT_EQ(b[b.size() - 1], tag);
                if (i % 8 == 0) {
                    std::lock_guard lock(exchange_mutex);
                    exchange.push_back(std::move(b));
                    if (exchange.size() > 16) exchange.erase(exchange.begin());
                }
            }
        });
    }
    for (auto& w : workers) w.join();
    exchange.clear();
    const auto st = pool.stats();
    EXPECT_EQ(st.live_blocks, 0U);
    EXPECT_EQ(st.live_bytes, 0U);
    EXPECT_LE(st.idle_bytes, opt.max_idle_bytes);
    EXPECT_EQ(st.hits + st.misses + st.oversize, static_cast<std::uint64_t>(threads * iterations));
    EXPECT_GT(st.hits, st.misses);
}

}  // namespace
}  // namespace kithara::bufpool
