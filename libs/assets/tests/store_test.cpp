#include <kithara/assets/asset_store.hpp>
#include <kithara/assets/error.hpp>

#include "assets_support.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

namespace kithara::assets {
namespace {

using test::bytes_of;
using test::pattern;

std::string asset_url(int i) {
    return "https://cdn.example/a" + std::to_string(i) + "/master.m3u8";
}
std::string res_url(int i, int r = 0) {
    return "https://cdn.example/a" + std::to_string(i) + "/seg-" + std::to_string(r) + ".ts";
}

// Writes n bytes into resource r of asset i and commits it.
void fill(asset_store& store, int i, std::size_t n, int r = 0) {
    auto a = store.open_asset(asset_url(i));
    ASSERT_TRUE(a) << a.error().message();
    auto s = a->open_streaming(res_url(i, r));
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_TRUE(s->resource().write_at(0, pattern(n, static_cast<unsigned>(i * 100 + r))));
    ASSERT_TRUE(s->resource().commit(n));
}

std::vector<std::byte> read_all(asset_store& store, int i, int r = 0) {
    auto a = store.open_asset(asset_url(i));
    EXPECT_TRUE(a);
    auto s = a->open_streaming(res_url(i, r));
    EXPECT_TRUE(s);
    std::vector<std::byte> out(s->resource().available_bytes());
    std::size_t pos = 0;
    while (pos < out.size()) {
        auto n = s->resource().read_at(pos, std::span(out).subspan(pos));
        if (!n || *n == 0) break;
        pos += *n;
    }
    out.resize(pos);
    return out;
}

TEST(asset_store, opens_empty_directory_and_counts_bytes_as_resources_grow) {
    test::temp_dir dir;
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store) << store.error().message();
    EXPECT_EQ(store->stats().entries, 0u);
    auto a = store->open_asset(asset_url(1));
    ASSERT_TRUE(a);
    auto s = a->open_streaming(res_url(1));
    ASSERT_TRUE(s);
    EXPECT_EQ(store->stats().bytes_used, 0u);
    ASSERT_TRUE(s->resource().write_at(1000, pattern(500, 1)));
    EXPECT_EQ(store->stats().bytes_used, 500u);
    ASSERT_TRUE(s->resource().write_at(0, pattern(1000, 2)));
    EXPECT_EQ(store->stats().bytes_used, 1500u);
    auto k = a->open_atomic("https://cdn.example/a1/key.bin");
    ASSERT_TRUE(k);
    ASSERT_TRUE(k->replace(pattern(16, 3)));
    EXPECT_EQ(store->stats().bytes_used, 1516u);
    ASSERT_TRUE(k->replace(pattern(8, 3)));
    EXPECT_EQ(store->stats().bytes_used, 1508u);
    EXPECT_EQ(store->stats().entries, 1u);
    EXPECT_EQ(store->stats().leased, 1u);
}

TEST(asset_store, counts_hits_and_misses_per_resource_open) {
    test::temp_dir dir;
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    auto a = store->open_asset(asset_url(1));
    ASSERT_TRUE(a);
    { auto s = a->open_streaming(res_url(1)); }  // new: miss
    { auto s = a->open_streaming(res_url(1)); }  // known: hit
    { auto k = a->open_atomic(res_url(1, 9)); }  // new: miss
    auto s1 = a->open_streaming(res_url(1, 2));  // new: miss
    auto s2 = a->open_streaming(res_url(1, 2));  // shared while open: hit
    const auto st = store->stats();
    EXPECT_EQ(st.misses, 3u);
    EXPECT_EQ(st.hits, 2u);
}

TEST(asset_store, evicts_least_recently_used_assets_by_bytes) {
    test::temp_dir dir;
    auto store = asset_store::open(dir.path, test::budget(10'000));
    ASSERT_TRUE(store);
    for (int i = 0; i < 3; ++i) fill(*store, i, 3000);
    EXPECT_EQ(store->stats().evictions, 0u);
    (void)store->open_asset(asset_url(0));  // 0 becomes most recent; 1 is now least recent
    fill(*store, 3, 3000);                  // 12000 > 10000: evicts asset 1
    const auto st = store->stats();
    EXPECT_EQ(st.evictions, 1u);
    EXPECT_EQ(st.bytes_used, 9000u);
    EXPECT_FALSE(store->contains(asset_url(1)));
    EXPECT_TRUE(store->contains(asset_url(0)));
    EXPECT_FALSE(std::filesystem::exists(*store->asset_directory(asset_url(1))));
    EXPECT_EQ(read_all(*store, 0), pattern(3000, 0));
}

TEST(asset_store, evicts_by_entry_budget) {
    test::temp_dir dir;
    auto store = asset_store::open(dir.path, test::budget(1 << 30, 2));
    ASSERT_TRUE(store);
    for (int i = 0; i < 4; ++i) fill(*store, i, 10);
    EXPECT_EQ(store->stats().entries, 2u);
    EXPECT_TRUE(store->contains(asset_url(2)));
    EXPECT_TRUE(store->contains(asset_url(3)));
}

TEST(asset_store, leased_asset_is_never_evicted_and_over_budget_is_reported) {
    test::temp_dir dir;
    test::log_capture logs;
    auto store = asset_store::open(dir.path, test::budget(1000));
    ASSERT_TRUE(store);
    auto a = store->open_asset(asset_url(1));
    ASSERT_TRUE(a);
    auto s = a->open_streaming(res_url(1));
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->resource().write_at(0, pattern(5000, 1)));
    auto st = store->stats();
    EXPECT_TRUE(st.over_budget);
    EXPECT_EQ(st.entries, 1u);
    EXPECT_TRUE(logs.contains("over budget"));
    s = {};
    a = {};  // the last lease ends: now it is evictable and goes
    st = store->stats();
    EXPECT_FALSE(st.over_budget);
    EXPECT_EQ(st.entries, 0u);
    EXPECT_EQ(st.evictions, 1u);
}

TEST(asset_store, lease_ends_only_when_the_last_handle_closes) {
    test::temp_dir dir;
    auto store = asset_store::open(dir.path, test::budget(1000));
    ASSERT_TRUE(store);
    auto a = store->open_asset(asset_url(1));
    ASSERT_TRUE(a);
    auto b = a->share();
    auto s = a->open_streaming(res_url(1));
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->resource().write_at(0, pattern(2000, 1)));
    a->reset();  // first close: still leased by b and s
    s = {};
    EXPECT_TRUE(store->contains(asset_url(1)));
    EXPECT_EQ(store->stats().leased, 1u);
    asset_handle moved = std::move(b);
    EXPECT_TRUE(store->contains(asset_url(1)));
    moved.reset();
    EXPECT_FALSE(store->contains(asset_url(1)));
}

TEST(asset_store, pinned_asset_is_never_evicted_and_pins_survive_restart) {
    test::temp_dir dir;
    {
        auto store = asset_store::open(dir.path, test::budget(5000));
        ASSERT_TRUE(store);
        fill(*store, 1, 4000);
        ASSERT_TRUE(store->pin(asset_url(1)));
        for (int i = 2; i < 6; ++i) fill(*store, i, 4000);
        EXPECT_TRUE(store->contains(asset_url(1)));
        EXPECT_EQ(store->stats().bytes_pinned, 4000u);
        EXPECT_EQ(store->stats().bytes_counted, 4000u);  // excluded policy: only asset 5 counts
    }
    auto store = asset_store::open(dir.path, test::budget(5000));
    ASSERT_TRUE(store);
    EXPECT_TRUE(*store->is_pinned(asset_url(1)));
    EXPECT_EQ(read_all(*store, 1), pattern(4000, 100));
    EXPECT_FALSE(store->stats().index_rebuilt);
    ASSERT_TRUE(store->unpin(asset_url(1)));
    EXPECT_FALSE(*store->is_pinned(asset_url(1)));
}

TEST(asset_store, counted_pin_policy_shrinks_room_for_others) {
    test::temp_dir dir;
    auto store = asset_store::open(dir.path, test::budget(5000, 10'000, pin_accounting::counted));
    ASSERT_TRUE(store);
    fill(*store, 1, 4000);
    ASSERT_TRUE(store->pin(asset_url(1)));
    fill(*store, 2, 2000);  // 6000 > 5000: asset 2 goes, asset 1 stays
    EXPECT_FALSE(store->contains(asset_url(2)));
    EXPECT_TRUE(store->contains(asset_url(1)));
    EXPECT_EQ(store->stats().bytes_counted, 4000u);
    fill(*store, 3, 100);
    EXPECT_TRUE(store->contains(asset_url(3)));
    EXPECT_FALSE(store->stats().over_budget);
}

TEST(asset_store, restart_keeps_everything_written_without_duplicates) {
    test::temp_dir dir;
    {
        auto store = asset_store::open(dir.path, {});
        ASSERT_TRUE(store);
        for (int i = 0; i < 5; ++i) {
            fill(*store, i, 1000 + static_cast<std::size_t>(i), 0);
            fill(*store, i, 77, 1);
        }
        auto a = store->open_asset(asset_url(0));
        auto k = a->open_atomic("https://cdn.example/a0/key");
        ASSERT_TRUE(k->replace(bytes_of("0123456789abcdef")));
    }
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    const auto st = store->stats();
    EXPECT_EQ(st.entries, 5u);
    EXPECT_EQ(st.bytes_used, 5u * 1000 + 10 + 5u * 77 + 16);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(read_all(*store, i, 0),
                  pattern(1000 + static_cast<std::size_t>(i), static_cast<unsigned>(i * 100)));
    }
    EXPECT_EQ(store->stats().bytes_used, st.bytes_used);  // reopening does not double count
    auto a = store->open_asset(asset_url(0));
    auto k = a->open_atomic("https://cdn.example/a0/key");
    auto content = k->read();
    ASSERT_TRUE(content);
    EXPECT_EQ(content->size(), 16u);
    EXPECT_GT(store->stats().hits, 0u);
}

TEST(asset_store, second_opener_gets_store_locked_naming_the_directory) {
    test::temp_dir dir;
    auto first = asset_store::open(dir.path, {});
    ASSERT_TRUE(first);
    auto second = asset_store::open(dir.path, {});
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), errc::store_locked);
    EXPECT_NE(second.error().message().find(dir.path.string()), std::string::npos);
    first = fail(errc::ok_);  // close the first
    auto third = asset_store::open(dir.path, {});
    EXPECT_TRUE(third);
}

TEST(asset_store, second_process_gets_store_locked) {
    test::temp_dir dir;
    auto first = asset_store::open(dir.path, {});
    ASSERT_TRUE(first);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto second = asset_store::open(dir.path, {});
        ::_exit(!second && second.error() == errc::store_locked ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(asset_store, remove_deletes_an_unleased_asset_and_refuses_a_leased_one) {
    test::temp_dir dir;
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    fill(*store, 1, 100);
    auto a = store->open_asset(asset_url(1));
    auto busy = store->remove(asset_url(1));
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error(), errc::invalid_argument);
    a = fail(errc::ok_);
    ASSERT_TRUE(store->remove(asset_url(1)));
    EXPECT_FALSE(store->contains(asset_url(1)));
    EXPECT_EQ(store->stats().bytes_used, 0u);
    EXPECT_FALSE(std::filesystem::exists(*store->asset_directory(asset_url(1))));
    EXPECT_EQ(store->remove(asset_url(1)).error(), errc::not_found);
}

TEST(asset_store, touches_are_batched_and_flushed_after_n_changes) {
    test::temp_dir dir;
    auto opts = test::budget(1 << 30);
    opts.flush_after_changes = 1000;
    opts.flush_after_time = std::chrono::hours(1);
    auto store = asset_store::open(dir.path, opts);
    ASSERT_TRUE(store);
    fill(*store, 1, 10);
    const auto writes = store->stats().index_writes;
    for (int i = 0; i < 100; ++i) (void)store->open_asset(asset_url(1));  // 100 touches
    EXPECT_EQ(store->stats().index_writes, writes);                       // batched in memory
    for (int i = 0; i < 500; ++i) (void)store->open_asset(asset_url(1));
    EXPECT_GT(store->stats().index_writes, writes);  // the change threshold wrote it
    ASSERT_TRUE(store->flush());
    const auto after_flush = store->stats().index_writes;
    ASSERT_TRUE(store->flush());  // nothing changed: no rewrite
    EXPECT_EQ(store->stats().index_writes, after_flush);
}

TEST(asset_store, index_is_written_when_the_flush_interval_has_passed) {
    test::temp_dir dir;
    auto opts = test::budget(1 << 30);
    opts.flush_after_changes = 1'000'000;
    opts.flush_after_time = std::chrono::milliseconds(0);
    auto store = asset_store::open(dir.path, opts);
    ASSERT_TRUE(store);
    const auto writes = store->stats().index_writes;
    (void)store->open_asset(asset_url(1));
    EXPECT_GT(store->stats().index_writes, writes);
}

// --- corrupt index recovery ---

void write_file(const std::filesystem::path& p, const std::vector<std::byte>& data) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}
std::vector<std::byte> read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(raw.size());
    if (!raw.empty()) std::memcpy(out.data(), raw.data(), raw.size());
    return out;
}

class corrupt_index : public ::testing::TestWithParam<std::string> {};

TEST_P(corrupt_index, is_rebuilt_from_disk_with_a_warning_keeping_pins) {
    test::temp_dir dir;
    {
        auto store = asset_store::open(dir.path, {});
        ASSERT_TRUE(store);
        for (int i = 0; i < 4; ++i) fill(*store, i, 1000);
        ASSERT_TRUE(store->pin(asset_url(2)));
    }
    const auto index = dir.path / "index";
    auto data = read_file(index);
    ASSERT_GT(data.size(), 40u);
    const std::string how = GetParam();
    if (how == "truncated") {
        data.resize(data.size() / 2);
    } else if (how == "random") {
        data = pattern(data.size(), 99);
    } else if (how == "wrong_version") {
        data[8] = std::byte{99};
    } else if (how == "flipped_bit") {
        data[data.size() / 2] ^= std::byte{1};
    } else if (how == "empty") {
        data.clear();
    }
    if (how == "missing") {
        std::filesystem::remove(index);
    } else {
        write_file(index, data);
    }
    test::log_capture logs;
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store) << store.error().message();
    EXPECT_TRUE(store->stats().index_rebuilt);
    EXPECT_TRUE(logs.contains("rebuilt")) << how;
    EXPECT_EQ(store->stats().entries, 4u);
    EXPECT_TRUE(*store->is_pinned(asset_url(2)));
    EXPECT_FALSE(*store->is_pinned(asset_url(1)));
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(read_all(*store, i), pattern(1000, static_cast<unsigned>(i * 100)));
    EXPECT_EQ(store->stats().bytes_used, 4000u);
}

INSTANTIATE_TEST_SUITE_P(asset_store, corrupt_index,
                         ::testing::Values("truncated", "random", "wrong_version", "flipped_bit",
                                           "empty", "missing"));

TEST(asset_store, assets_created_after_the_last_index_write_are_found_via_the_journal) {
    test::temp_dir dir;
    {
        auto store = asset_store::open(dir.path, {});
        ASSERT_TRUE(store);
        fill(*store, 1, 100);
        ASSERT_TRUE(store->flush());
        fill(*store, 2, 200);
        ASSERT_TRUE(store->pin(asset_url(2)));
        // Simulate a crash: keep the old index by copying it back after the final write.
        const auto saved = read_file(dir.path / "index");
        const auto j0 = read_file(dir.path / "journal-0");
        const auto j1 = read_file(dir.path / "journal-1");
        store = fail(errc::ok_);
        write_file(dir.path / "index", saved);
        write_file(dir.path / "journal-0", j0);
        write_file(dir.path / "journal-1", j1);
    }
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->stats().index_rebuilt);
    EXPECT_EQ(store->stats().entries, 2u);
    EXPECT_TRUE(*store->is_pinned(asset_url(2)));
    EXPECT_EQ(store->stats().bytes_used, 300u);
}

// --- processed resources ---

TEST(asset_store, processed_resource_is_computed_once_and_cached_across_restart) {
    // Any deterministic transform will do (AES-128 decryption, its main use, lives in hls):
    // here the stored bytes are the payload reversed, and the transform reverses them back.
    test::temp_dir dir;
    const auto payload = bytes_of("kithara wrong-key test payload!");
    const std::vector<std::byte> ct(payload.rbegin(), payload.rend());
    int calls = 0;
    transform counted{
        "test-reverse/1", [&](std::span<const std::byte> in) {
            ++calls;
            return result<std::vector<std::byte>>(std::vector<std::byte>(in.rbegin(), in.rend()));
        }};
    const std::string seg = "https://cdn.example/a1/enc/seg-0.ts";
    {
        auto store = asset_store::open(dir.path, {});
        ASSERT_TRUE(store);
        auto a = store->open_asset(asset_url(1));
        auto s = a->open_streaming(seg);
        ASSERT_TRUE(s->resource().write_at(0, std::span(ct).first(10)));
        auto early = a->read_processed(seg, counted);
        ASSERT_FALSE(early);
        EXPECT_EQ(early.error(), errc::incomplete);
        ASSERT_TRUE(s->resource().write_at(10, std::span(ct).subspan(10)));
        ASSERT_TRUE(s->resource().commit(ct.size()));
        for (int i = 0; i < 3; ++i) {
            auto clear = a->read_processed(seg, counted);
            ASSERT_TRUE(clear) << clear.error().message();
            EXPECT_EQ(*clear, payload);
        }
        EXPECT_EQ(calls, 1);
    }
    auto store = asset_store::open(dir.path, {});
    auto a = store->open_asset(asset_url(1));
    auto clear = a->read_processed(seg, counted);
    ASSERT_TRUE(clear);
    EXPECT_EQ(*clear, payload);
    EXPECT_EQ(calls, 1);
    // A failing transform (a wrong key) is a clear error and caches nothing.
    transform failing{
        "test-fail/1", [](std::span<const std::byte>) {
            return result<std::vector<std::byte>>(fail(errc::decrypt_failed, "bad padding"));
        }};
    auto bad = a->read_processed(seg, failing);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), errc::decrypt_failed);
}

}  // namespace
}  // namespace kithara::assets
