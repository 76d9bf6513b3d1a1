// Per-resource options (flush policy) and per-resource removal.
#include <kithara/assets/asset_store.hpp>
#include <kithara/assets/error.hpp>

#include "assets_support.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>
#include <functional>

namespace kithara::assets {
namespace {

namespace fs = std::filesystem;
using test::pattern;

const std::string asset_url = "https://r.example/show/master.m3u8";
std::string res_url(int r) {
    return "https://r.example/show/data/" + std::to_string(r);
}

fs::path data_path(const asset_handle& a, const streaming_handle& s) {
    return a.directory() / s.id().hex();
}
fs::path map_path(const fs::path& data) {
    return storage::streaming_resource::range_map_path(data);
}

void write_chunks(streaming_handle& s, std::size_t total, std::size_t chunk) {
    for (std::size_t pos = 0; pos < total; pos += chunk) {
        ASSERT_TRUE(s->write_at(pos, pattern(chunk, static_cast<unsigned>(pos))));
    }
}

store_options small_flush_interval() {
    store_options o;
    o.streaming_flush_every_bytes = 1024;
    return o;
}

TEST(resource_options, flush_every_zero_writes_no_range_map_until_flush) {
    test::temp_dir dir("flush0", true);
    auto store = asset_store::open(dir.path, small_flush_interval());
    ASSERT_TRUE(store);
    auto a = store->open_asset(asset_url);
    ASSERT_TRUE(a);
    auto s = a->open_streaming(res_url(1), {.flush_every_bytes = std::uint64_t{0}});
    ASSERT_TRUE(s) << s.error().message();
    write_chunks(*s, 64 * 1024, 4096);
    const fs::path data = data_path(*a, *s);
    EXPECT_EQ((*s)->available_bytes(), 64u * 1024);
    EXPECT_FALSE(fs::exists(map_path(data)));
    ASSERT_TRUE((*s)->flush());
    EXPECT_TRUE(fs::exists(map_path(data)));
}

TEST(resource_options, default_options_use_the_store_interval) {
    test::temp_dir dir("flushdef", true);
    auto store = asset_store::open(dir.path, small_flush_interval());
    ASSERT_TRUE(store);
    auto a = store->open_asset(asset_url);
    ASSERT_TRUE(a);
    auto s = a->open_streaming(res_url(1));  // the one-argument call
    ASSERT_TRUE(s);
    write_chunks(*s, 8 * 1024, 4096);
    EXPECT_TRUE(fs::exists(map_path(data_path(*a, *s))));
}

TEST(resource_options, handles_joining_an_open_resource_keep_the_creators_policy) {
    test::temp_dir dir("flushshare", true);
    auto store = asset_store::open(dir.path, small_flush_interval());
    ASSERT_TRUE(store);
    auto a = store->open_asset(asset_url);
    ASSERT_TRUE(a);
    auto first = a->open_streaming(res_url(1), {.flush_every_bytes = std::uint64_t{0}});
    ASSERT_TRUE(first);
    auto second = a->open_streaming(res_url(1), {.flush_every_bytes = std::uint64_t{512}});
    ASSERT_TRUE(second);
    EXPECT_EQ(&first->resource(), &second->resource());
    write_chunks(*second, 16 * 1024, 4096);
    EXPECT_FALSE(fs::exists(map_path(data_path(*a, *second))));
}

TEST(remove_resource, drops_its_bytes_files_and_index_entry) {
    test::temp_dir dir("rm", true);
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    auto a = store->open_asset(asset_url);
    ASSERT_TRUE(a);
    fs::path gone, kept;
    {
        auto s1 = a->open_streaming(res_url(1));
        auto s2 = a->open_streaming(res_url(2));
        ASSERT_TRUE(s1 && s2);
        ASSERT_TRUE((*s1)->write_at(0, pattern(3000, 1)));
        ASSERT_TRUE((*s1)->commit(3000));
        ASSERT_TRUE((*s2)->write_at(0, pattern(2000, 2)));
        ASSERT_TRUE((*s2)->commit(2000));
        gone = data_path(*a, *s1);
        kept = data_path(*a, *s2);
    }
    auto k = a->open_atomic(res_url(3));
    ASSERT_TRUE(k);
    ASSERT_TRUE(k->replace(pattern(100, 3)));
    const fs::path key_path = k->path();
    k = atomic_handle{};
    ASSERT_TRUE(fs::exists(map_path(gone)));
    EXPECT_EQ(store->stats().bytes_used, 5100u);

    ASSERT_TRUE(a->remove_resource(res_url(1)));
    EXPECT_EQ(store->stats().bytes_used, 2100u);
    EXPECT_FALSE(fs::exists(gone));
    EXPECT_FALSE(fs::exists(map_path(gone)));
    EXPECT_TRUE(fs::exists(kept));

    ASSERT_TRUE(a->remove_resource(res_url(3)));  // atomic
    EXPECT_FALSE(fs::exists(key_path));
    EXPECT_EQ(store->stats().bytes_used, 2000u);

    EXPECT_TRUE(a->remove_resource(res_url(1)));   // already gone: ok
    EXPECT_TRUE(a->remove_resource(res_url(99)));  // never existed: ok

    const auto misses = store->stats().misses;
    auto again = a->open_streaming(res_url(1));
    ASSERT_TRUE(again);
    EXPECT_EQ((*again)->available_bytes(), 0u);
    EXPECT_EQ(store->stats().misses, misses + 1);  // a new resource, not the removed one
}

TEST(remove_resource, with_an_open_handle_is_deferred_until_the_last_handle_closes) {
    test::temp_dir dir("rmdefer", true);
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    auto a = store->open_asset(asset_url);
    ASSERT_TRUE(a);
    auto s = a->open_streaming(res_url(1));
    ASSERT_TRUE(s);
    auto s2 = a->open_streaming(res_url(1));
    ASSERT_TRUE(s2);
    ASSERT_TRUE((*s)->write_at(0, pattern(1000, 7)));
    const fs::path data = data_path(*a, *s);

    ASSERT_TRUE(a->remove_resource(res_url(1)));
    EXPECT_TRUE(fs::exists(data));
    EXPECT_EQ(store->stats().bytes_used, 1000u);
    ASSERT_TRUE((*s)->write_at(1000, pattern(500, 8)));  // still usable and counted
    EXPECT_EQ(store->stats().bytes_used, 1500u);
    std::vector<std::byte> buf(1000);
    ASSERT_TRUE((*s2)->read_at(0, buf));
    EXPECT_EQ(buf, pattern(1000, 7));

    auto blocked = a->open_streaming(res_url(1));
    ASSERT_FALSE(blocked);
    EXPECT_EQ(blocked.error(), errc::removal_pending);
    auto blocked_atomic = a->open_atomic(res_url(1));
    ASSERT_FALSE(blocked_atomic);
    EXPECT_EQ(blocked_atomic.error(), errc::removal_pending);

    *s = streaming_handle{};
    EXPECT_TRUE(fs::exists(data));  // one handle is still open
    *s2 = streaming_handle{};
    EXPECT_FALSE(fs::exists(data));
    EXPECT_FALSE(fs::exists(map_path(data)));
    EXPECT_EQ(store->stats().bytes_used, 0u);

    auto fresh = a->open_streaming(res_url(1));
    ASSERT_TRUE(fresh);
    EXPECT_EQ((*fresh)->available_bytes(), 0u);
}

TEST(remove_resource, stays_gone_after_a_restart) {
    test::temp_dir dir("rmrestart", true);
    {
        auto store = asset_store::open(dir.path, {});
        ASSERT_TRUE(store);
        auto a = store->open_asset(asset_url);
        for (int r = 1; r <= 2; ++r) {
            auto s = a->open_streaming(res_url(r));
            ASSERT_TRUE(s);
            ASSERT_TRUE((*s)->write_at(0, pattern(1000u * static_cast<unsigned>(r), 1)));
        }
        ASSERT_TRUE(store->flush());
        ASSERT_TRUE(a->remove_resource(res_url(2)));
        EXPECT_EQ(store->stats().bytes_used, 1000u);
    }
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->stats().index_rebuilt);
    EXPECT_EQ(store->stats().bytes_used, 1000u);
    auto a = store->open_asset(asset_url);
    auto s = a->open_streaming(res_url(2));
    ASSERT_TRUE(s);
    EXPECT_EQ(store->stats().misses, 1u);  // not in the index
    EXPECT_EQ((*s)->available_bytes(), 0u);
}

TEST(remove_resource, is_not_counted_after_a_crash_before_the_next_index_write) {
    test::temp_dir dir("rmcrash");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto store = asset_store::open(dir.path, {});
        if (!store) ::_exit(2);
        {
            auto a = store->open_asset(asset_url);
            for (int r = 1; r <= 2; ++r) {
                auto s = a->open_streaming(res_url(r));
                if (!s || !(*s)->write_at(0, pattern(1000u * static_cast<unsigned>(r), 1))) {
                    ::_exit(3);
                }
            }
        }
        if (!store->flush()) ::_exit(4);
        auto a = store->open_asset(asset_url);
        if (!a || !a->remove_resource(res_url(2))) ::_exit(5);
        ::_exit(0);  // no index write after the removal
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    EXPECT_EQ(store->stats().bytes_used, 1000u);
    EXPECT_EQ(store->stats().entries, 1u);
}

std::size_t removed_leftovers(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename().string().find(".removed.") != std::string::npos) ++n;
    }
    return n;
}

TEST(remove_resource, with_a_background_runner_frees_the_name_at_once_and_unlinks_there) {
    test::temp_dir dir("rmbg", true);
    std::vector<std::function<void()>> tasks;
    store_options o;
    o.background = [&](std::function<void()> t) {
        tasks.push_back(std::move(t));
        return true;
    };
    auto store = asset_store::open(dir.path, o);
    ASSERT_TRUE(store);
    auto a = store->open_asset(asset_url);
    ASSERT_TRUE(a);
    fs::path data;
    {
        auto s = a->open_streaming(res_url(1));
        ASSERT_TRUE(s);
        ASSERT_TRUE((*s)->write_at(0, pattern(3000, 1)));
        ASSERT_TRUE((*s)->flush());
        data = data_path(*a, *s);
    }
    tasks.clear();  // (an index write queued by the writes above is not under test)
    ASSERT_TRUE(a->remove_resource(res_url(1)));
    EXPECT_EQ(store->stats().bytes_used, 0u);
    EXPECT_FALSE(fs::exists(data));
    EXPECT_FALSE(fs::exists(map_path(data)));
    EXPECT_EQ(removed_leftovers(a->directory()), 2u);  // data and map, awaiting the runner
    ASSERT_EQ(tasks.size(), 1u);
    {
        auto fresh = a->open_streaming(res_url(1));  // the name is free already
        ASSERT_TRUE(fresh);
        EXPECT_EQ((*fresh)->available_bytes(), 0u);
    }
    for (auto& t : tasks) t();
    EXPECT_EQ(removed_leftovers(a->directory()), 0u);
}

TEST(remove_resource, leftovers_of_a_crash_are_deleted_at_the_next_open) {
    test::temp_dir dir("rmbgcrash");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::vector<std::function<void()>> never_run;
        store_options o;
        o.background = [&](std::function<void()> t) {
            never_run.push_back(std::move(t));
            return true;
        };
        auto store = asset_store::open(dir.path, o);
        if (!store) ::_exit(2);
        auto a = store->open_asset(asset_url);
        {
            auto s = a->open_streaming(res_url(1));
            if (!s || !(*s)->write_at(0, pattern(3000, 1))) ::_exit(3);
        }
        if (!store->flush() || !a->remove_resource(res_url(1))) ::_exit(4);
        if (removed_leftovers(a->directory()) == 0) ::_exit(5);
        ::_exit(0);  // crash: the unlinks never ran
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    EXPECT_EQ(store->stats().bytes_used, 0u);
    EXPECT_EQ(removed_leftovers(*store->asset_directory(asset_url)), 0u);
}

TEST(background_crash, tombstone_of_an_eviction_that_never_ran_is_dropped_at_the_next_open) {
    test::temp_dir dir("bgtomb");
    const auto fill = [](asset_store& store, int i) {
        auto a = store.open_asset("https://t.example/a" + std::to_string(i));
        auto s = a->open_streaming("https://t.example/a" + std::to_string(i) + "/d");
        return s && (*s)->write_at(0, pattern(4000, static_cast<unsigned>(i)));
    };
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::vector<std::function<void()>> never_run;
        auto o = test::budget(10'000);
        o.background = [&](std::function<void()> t) {
            never_run.push_back(std::move(t));
            return true;
        };
        auto store = asset_store::open(dir.path, o);
        if (!store || !fill(*store, 0) || !fill(*store, 1) || !store->flush()) ::_exit(2);
        if (!fill(*store, 2)) ::_exit(3);  // evicts asset 0: renamed, journal + delete queued
        if (store->contains("https://t.example/a0")) ::_exit(4);
        ::_exit(0);  // crash before the runner ran anything
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 0);
    ASSERT_FALSE(fs::is_empty(dir.path / "evicted"));
    auto store = asset_store::open(dir.path, test::budget(1 << 20));  // no eviction at open
    ASSERT_TRUE(store);
    EXPECT_FALSE(store->contains("https://t.example/a0"));
    EXPECT_EQ(store->stats().entries, 2u);
    EXPECT_EQ(store->stats().bytes_used, 8000u);
    EXPECT_TRUE(fs::is_empty(dir.path / "evicted"));
}

}  // namespace
}  // namespace kithara::assets
