// Seeded randomized workload against a simple model: budget, lease, pin and LRU invariants after
// every step, content after restarts.
#include <kithara/assets/asset_store.hpp>

#include "assets_support.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <variant>

namespace kithara::assets {
namespace {

constexpr int asset_count = 30;
constexpr int resources_per_asset = 2;

std::string asset_url(int a) {
    return "https://w.example/s" + std::to_string(a) + "/index.m3u8";
}
std::string res_url(int a, int r) {
    return "https://w.example/s" + std::to_string(a) + "/v/seg" + std::to_string(r) + ".ts";
}
std::byte content_at(int a, int r, std::uint64_t off) {
    return static_cast<std::byte>(
        (static_cast<std::uint64_t>(a) * 31 + static_cast<std::uint64_t>(r) * 7 + off * 13) & 0xFF);
}

struct model_asset {
    bool present = false;
    bool pinned = false;
    int leases = 0;
    std::uint64_t order = 0;  // last acquire or last release
    std::array<std::uint64_t, resources_per_asset> length{};
};

struct model_table {
    std::array<model_asset, asset_count> v{};
    model_asset& operator[](int i) { return v[static_cast<std::size_t>(i)]; }
};

struct open_handle {
    int asset;
    int resource;  // -1: an asset handle
    std::variant<asset_handle, streaming_handle> h;
};

class workload : public ::testing::TestWithParam<pin_accounting> {};

TEST_P(workload, budget_lease_pin_and_lru_invariants_hold_after_every_step) {
    test::temp_dir dir("workload", true);
    store_options opts = test::budget(64 * 1024, 12, GetParam());
    opts.flush_after_changes = 300;
    std::mt19937 rng(20261123);
    std::optional<asset_store> store;
    {
        auto s = asset_store::open(dir.path, opts);
        ASSERT_TRUE(s);
        store.emplace(std::move(*s));
    }
    model_table m;
    std::vector<open_handle> handles;
    std::uint64_t tick = 0;
    std::uint64_t evictions_seen = 0;
    const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
    const auto counts = [&](const model_asset& a) {
        return !a.pinned || opts.pins == pin_accounting::counted;
    };

    for (int step = 0; step < 3000; ++step) {
        // Evictable set before the step, with their order.
        std::map<int, std::uint64_t> evictable_before;
        for (int a = 0; a < asset_count; ++a) {
            if (m[a].present && m[a].leases == 0 && !m[a].pinned) evictable_before[a] = m[a].order;
        }
        const int op = pick(100);
        if (op < 20) {  // open an asset handle
            const int a = pick(asset_count);
            auto h = store->open_asset(asset_url(a));
            ASSERT_TRUE(h);
            if (!m[a].present) m[a] = model_asset{};
            m[a].present = true;
            ++m[a].leases;
            m[a].order = ++tick;
            handles.push_back({a, -1, std::move(*h)});
        } else if (op < 40) {  // open a streaming resource through an open asset handle
            if (handles.empty()) continue;
            auto& oh = handles[static_cast<std::size_t>(pick(static_cast<int>(handles.size())))];
            if (oh.resource != -1) continue;
            const int a = oh.asset;
            const int r = pick(resources_per_asset);
            auto s = std::get<asset_handle>(oh.h).open_streaming(res_url(a, r));
            ASSERT_TRUE(s) << s.error().message();
            ++m[a].leases;
            m[a].order = ++tick;
            EXPECT_EQ(s->resource().available_bytes(), m[a].length[static_cast<std::size_t>(r)]);
            handles.push_back({a, r, std::move(*s)});
        } else if (op < 70) {  // append to an open streaming resource
            std::vector<std::size_t> streams;
            for (std::size_t i = 0; i < handles.size(); ++i) {
                if (handles[i].resource >= 0) streams.push_back(i);
            }
            if (streams.empty()) continue;
            auto& oh =
                handles[streams[static_cast<std::size_t>(pick(static_cast<int>(streams.size())))]];
            auto& len = m[oh.asset].length[static_cast<std::size_t>(oh.resource)];
            const std::size_t n = 256 + static_cast<std::size_t>(pick(4096));
            std::vector<std::byte> data(n);
            for (std::size_t i = 0; i < n; ++i)
                data[i] = content_at(oh.asset, oh.resource, len + i);
            ASSERT_TRUE(std::get<streaming_handle>(oh.h).resource().write_at(len, data));
            len += n;
        } else if (op < 88) {  // close a handle
            if (handles.empty()) continue;
            const auto i = static_cast<std::size_t>(pick(static_cast<int>(handles.size())));
            const int a = handles[i].asset;
            handles.erase(handles.begin() + static_cast<std::ptrdiff_t>(i));
            if (--m[a].leases == 0) m[a].order = ++tick;
        } else if (op < 92) {  // pin
            const int a = pick(asset_count);
            if (pick(3) != 0) continue;  // keep pins rare
            ASSERT_TRUE(store->pin(asset_url(a)));
            if (!m[a].present) m[a] = model_asset{};
            m[a].present = true;
            m[a].pinned = true;
            m[a].order = ++tick;
        } else if (op < 96) {  // unpin
            const int a = pick(asset_count);
            if (!m[a].pinned) continue;
            ASSERT_TRUE(store->unpin(asset_url(a)));
            m[a].pinned = false;
            m[a].order = ++tick;
        } else if (op < 98) {
            ASSERT_TRUE(store->flush());
        } else {  // restart: every handle closes, the store reopens
            std::vector<int> closing;
            for (auto& h : handles) closing.push_back(h.asset);
            // Close in order; each last close is a touch.
            while (!handles.empty()) {
                const int a = handles.back().asset;
                handles.pop_back();
                if (--m[a].leases == 0) m[a].order = ++tick;
            }
            // Model: evictions may have happened while closing; sync presence below.
            store.reset();
            auto s = asset_store::open(dir.path, opts);
            ASSERT_TRUE(s) << s.error().message();
            store.emplace(std::move(*s));
            EXPECT_FALSE(store->stats().index_rebuilt);
            evictions_seen = 0;
            for (int a = 0; a < asset_count; ++a) {
                if (!m[a].present) continue;
                if (!store->contains(asset_url(a))) {
                    ASSERT_FALSE(m[a].pinned) << "pinned asset lost across restart";
                    m[a] = model_asset{};
                    continue;
                }
                EXPECT_EQ(*store->is_pinned(asset_url(a)), m[a].pinned);
            }
            continue;
        }

        // Sync evictions into the model and check them.
        const auto st = store->stats();
        std::vector<int> evicted;
        for (int a = 0; a < asset_count; ++a) {
            if (m[a].present && !store->contains(asset_url(a))) evicted.push_back(a);
        }
        for (int a : evicted) {
            ASSERT_EQ(m[a].leases, 0) << "leased asset " << a << " evicted at step " << step;
            ASSERT_FALSE(m[a].pinned) << "pinned asset " << a << " evicted at step " << step;
            // LRU: every asset still evictable and present was used more recently.
            for (const auto& [b, order] : evictable_before) {
                if (b == a || !store->contains(asset_url(b))) continue;
                if (m[b].leases != 0 || m[b].pinned) continue;
                EXPECT_LT(m[a].order, m[b].order)
                    << "evicted " << a << " while older " << b << " stayed, step " << step;
            }
            m[a] = model_asset{};
        }
        EXPECT_EQ(st.evictions - evictions_seen, evicted.size()) << "step " << step;
        evictions_seen = st.evictions;

        // Budget invariant (exact: eviction runs synchronously on every growth).
        std::uint64_t counted_bytes = 0, total = 0;
        std::size_t counted_entries = 0, evictable = 0;
        for (int a = 0; a < asset_count; ++a) {
            if (!m[a].present) continue;
            std::uint64_t bytes = 0;
            for (auto l : m[a].length) bytes += l;
            total += bytes;
            if (counts(m[a])) {
                counted_bytes += bytes;
                ++counted_entries;
            }
            if (m[a].leases == 0 && !m[a].pinned) ++evictable;
        }
        ASSERT_EQ(st.bytes_used, total) << "step " << step;
        ASSERT_EQ(st.bytes_counted, counted_bytes) << "step " << step;
        ASSERT_EQ(st.entries_counted, counted_entries) << "step " << step;
        const bool over = counted_bytes > opts.max_bytes || counted_entries > opts.max_assets;
        ASSERT_EQ(st.over_budget, over) << "step " << step;
        if (over) {
            ASSERT_EQ(evictable, 0u) << "over budget with evictable assets, step " << step;
        }
    }

    // Finally: everything present has exactly the bytes written, after one more restart.
    handles.clear();
    store.reset();
    auto s = asset_store::open(dir.path, opts);
    ASSERT_TRUE(s);
    for (int a = 0; a < asset_count; ++a) {
        if (!m[a].present || !s->contains(asset_url(a))) {
            EXPECT_FALSE(m[a].pinned);
            continue;
        }
        auto h = s->open_asset(asset_url(a));
        for (int r = 0; r < resources_per_asset; ++r) {
            const auto len = m[a].length[static_cast<std::size_t>(r)];
            if (len == 0) continue;
            auto res = h->open_streaming(res_url(a, r));
            ASSERT_TRUE(res);
            ASSERT_EQ(res->resource().available_bytes(), len);
            std::vector<std::byte> buf(len);
            auto n = res->resource().read_at(0, buf);
            ASSERT_TRUE(n);
            ASSERT_EQ(*n, len);
            for (std::uint64_t i = 0; i < len; i += 97) ASSERT_EQ(buf[i], content_at(a, r, i));
        }
    }
}

INSTANTIATE_TEST_SUITE_P(asset_store, workload,
                         ::testing::Values(pin_accounting::excluded, pin_accounting::counted));

}  // namespace
}  // namespace kithara::assets
