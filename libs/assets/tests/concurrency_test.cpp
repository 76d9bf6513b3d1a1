// Thread tests (label concurrency: also run under TSan).
#include <kithara/assets/asset_store.hpp>
#include <kithara/assets/error.hpp>

#include "assets_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

namespace kithara::assets {
namespace {

TEST(concurrency, concurrent_first_readers_run_the_transform_exactly_once) {
    test::temp_dir dir("once");
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    const std::string seg = "https://c.example/s/seg-1.ts";
    auto a = store->open_asset("https://c.example/s/master.m3u8");
    ASSERT_TRUE(a);
    const auto input = test::pattern(200'000, 5);
    {
        auto s = a->open_streaming(seg);
        ASSERT_TRUE(s->resource().write_at(0, input));
        ASSERT_TRUE(s->resource().commit(input.size()));
    }
    std::atomic<int> calls{0};
    transform reverse{"reverse",
                      [&](std::span<const std::byte> in) -> result<std::vector<std::byte>> {
                          calls.fetch_add(1);
                          std::this_thread::yield();
                          return std::vector<std::byte>(in.rbegin(), in.rend());
                      }};
    constexpr int threads = 8;
    std::barrier start(threads);
    std::vector<std::vector<std::byte>> outputs(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            auto h = a->share();
            start.arrive_and_wait();
            auto r = h.read_processed(seg, reverse);
            if (r) outputs[static_cast<std::size_t>(t)] = std::move(*r);
        });
    }
    for (auto& th : pool) th.join();
    EXPECT_EQ(calls.load(), 1);
    const std::vector<std::byte> expected(input.rbegin(), input.rend());
    for (const auto& o : outputs) EXPECT_EQ(o, expected);
}

TEST(concurrency, writers_openers_and_closers_keep_the_budget_and_leases) {
    test::temp_dir dir("writers");
    auto store = asset_store::open(dir.path, test::budget(256 * 1024, 16));
    ASSERT_TRUE(store);
    constexpr int threads = 4;
    std::atomic<bool> leased_lost{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            for (int i = 0; i < 150; ++i) {
                const int a = static_cast<int>(rng() % 24);
                const std::string url = "https://c.example/a" + std::to_string(a) + "/x.mp3";
                auto h = store->open_asset(url);
                if (!h) continue;
                auto s = h->open_streaming(url);
                if (!s) continue;
                const auto have = s->resource().available_bytes();
                (void)s->resource().write_at(have, test::pattern(4096, static_cast<unsigned>(i)));
                if (!store->contains(url)) leased_lost = true;
            }
        });
    }
    for (auto& th : pool) th.join();
    EXPECT_FALSE(leased_lost.load());
    const auto st = store->stats();
    EXPECT_EQ(st.leased, 0u);
    EXPECT_LE(st.bytes_counted, 256u * 1024);
    EXPECT_LE(st.entries, 16u);
    EXPECT_FALSE(st.over_budget);
    EXPECT_GT(st.evictions, 0u);
}

TEST(concurrency, racing_pins_and_unpins_leave_marker_and_flag_in_agreement) {
    test::temp_dir dir("pins");
    {
        auto store = asset_store::open(dir.path, test::budget(64 * 1024, 8));
        ASSERT_TRUE(store);
        std::vector<std::thread> pool;
        for (int t = 0; t < 4; ++t) {
            pool.emplace_back([&, t] {
                std::mt19937 rng(static_cast<unsigned>(t) + 77);
                for (int i = 0; i < 60; ++i) {
                    const std::string url = "https://c.example/p" + std::to_string(rng() % 6);
                    if (rng() % 2 != 0) {
                        (void)store->pin(url);
                    } else {
                        (void)store->unpin(url);
                    }
                    auto h = store->open_asset(url);
                    if (h) {
                        auto s = h->open_streaming(url + "/data");
                        if (s)
                            (void)s->resource().write_at(s->resource().available_bytes(),
                                                         test::pattern(2048, 1));
                    }
                }
            });
        }
        for (auto& th : pool) th.join();
        for (int a = 0; a < 6; ++a) {
            const std::string url = "https://c.example/p" + std::to_string(a);
            if (!store->contains(url)) continue;
            const bool marker = std::filesystem::exists(*store->asset_directory(url) / "pin");
            EXPECT_EQ(*store->is_pinned(url), marker) << url;
        }
    }
}

TEST(concurrency, same_resource_opened_from_many_threads_shares_one_storage_object) {
    test::temp_dir dir("share");
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    auto a = store->open_asset("https://c.example/one");
    ASSERT_TRUE(a);
    constexpr int threads = 6;
    std::barrier start(threads);
    std::vector<streaming_handle> handles(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            start.arrive_and_wait();
            auto s = a->open_streaming("https://c.example/one/data");
            if (s) handles[static_cast<std::size_t>(t)] = std::move(*s);
        });
    }
    for (auto& th : pool) th.join();
    for (const auto& h : handles) {
        ASSERT_TRUE(h);
        EXPECT_EQ(&h.resource(), &handles[0].resource());
    }
    ASSERT_TRUE(handles[0]->write_at(0, test::pattern(1000, 1)));
    EXPECT_EQ(handles[3]->available_bytes(), 1000u);
    EXPECT_EQ(store->stats().bytes_used, 1000u);
}

}  // namespace
}  // namespace kithara::assets
