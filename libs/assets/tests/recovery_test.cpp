// Crash recovery of the store: after kill -9 the disk holds no byte the store does not count
// (the budget holds on disk, in allocated blocks), orphans are removed at open (a live process's
// temp files are kept and counted), and the non-creating lookup and the enumerations.
#include <kithara/assets/asset_store.hpp>

#include "assets_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <fstream>
#include <random>

namespace kithara::assets {
namespace {

namespace fs = std::filesystem;

std::string url(int i) {
    return "https://k.example/show" + std::to_string(i) + "/a.flac";
}

struct disk_usage {
    std::uint64_t data = 0;  // allocated bytes of resource data files (32-hex names)
    std::uint64_t files = 0;
    std::uint64_t other = 0;  // everything else under the root (maps, logs, index, journals)
};

disk_usage usage(const fs::path& root) {
    disk_usage u;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) continue;
        struct ::stat st {};
        if (::stat(e.path().c_str(), &st) != 0) continue;
        const auto bytes = static_cast<std::uint64_t>(st.st_blocks) * 512;
        key k;
        if (key::from_hex(e.path().filename().string(), k) && e.path().parent_path() != root) {
            u.data += bytes;
            ++u.files;
        } else {
            u.other += bytes;
        }
    }
    return u;
}

store_options crash_options(std::uint64_t max_bytes) {
    auto o = test::budget(max_bytes);
    o.streaming_flush_every_bytes = 64ull << 20;  // nothing reaches the map before a close
    return o;
}

// Writes 256 KiB resources of new assets in 16 KiB writes, reporting each write; never returns.
[[noreturn]] void churn(const fs::path& root, std::uint64_t max_bytes, int first, int report_fd) {
    auto store = asset_store::open(root, crash_options(max_bytes));
    if (!store) ::_exit(2);
    const auto chunk = test::pattern(16 * 1024, 1);
    for (int i = first;; ++i) {
        auto a = store->open_asset(url(i));
        if (!a) ::_exit(3);
        auto s = a->open_streaming(url(i));
        if (!s) ::_exit(4);
        for (std::uint64_t off = 0; off < 256 * 1024; off += chunk.size()) {
            if (!s->resource().write_at(off, chunk)) ::_exit(5);
            const char c = 'w';
            if (::write(report_fd, &c, 1) != 1) ::_exit(6);
        }
    }
}

// Forks churn() and kills it with SIGKILL after `writes` reported writes.
void run_and_kill(const fs::path& root, std::uint64_t max_bytes, int first, int writes) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        churn(root, max_bytes, first, fds[1]);
    }
    ::close(fds[1]);
    char c = 0;
    for (int n = 0; n < writes && ::read(fds[0], &c, 1) == 1; ++n) {
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
}

TEST(crash_recovery, kill_9_rounds_keep_the_byte_budget_on_disk) {
    test::temp_dir dir("budget", /*in_memory=*/true);
    constexpr std::uint64_t max_bytes = 2 << 20;
    std::mt19937 rng(2026);
    int next = 0;
    for (int round = 0; round < 8; ++round) {
        run_and_kill(dir.path, max_bytes, next, 20 + static_cast<int>(rng() % 200));
        auto store = asset_store::open(dir.path, crash_options(max_bytes));
        ASSERT_TRUE(store) << store.error().message();
        // Reopen the crashed writer's resources (a player resuming them), then close them.
        for (int i = next; i < next + 20; ++i) {
            if (!store->contains(url(i))) continue;
            auto a = store->find_asset(url(i));
            ASSERT_TRUE(a);
            ASSERT_TRUE(a->open_streaming(url(i)));
        }
        next += 1000;
        // After recovery the disk holds what is counted (block rounding aside).
        auto st = store->stats();
        auto u = usage(dir.path);
        EXPECT_LE(u.data, st.bytes_used + u.files * 4096) << "round " << round;
        EXPECT_LE(st.bytes_used, u.data) << "round " << round;
        EXPECT_LE(st.bytes_counted, max_bytes) << "round " << round;
        // Refill to the budget: the budget still holds on disk.
        const auto chunk = test::pattern(64 * 1024, 2);
        for (int i = 0; i < 40; ++i) {
            auto a = store->open_asset(url(next + 500 + i));
            auto s = a->open_streaming(url(next + 500 + i));
            ASSERT_TRUE(s);
            ASSERT_TRUE(s->resource().write_at(0, chunk));
        }
        st = store->stats();
        u = usage(dir.path);
        EXPECT_LE(st.bytes_counted, max_bytes);
        EXPECT_LE(u.data, max_bytes + u.files * 4096) << "round " << round;
    }
}

TEST(crash_recovery, a_restarted_store_resumes_written_bytes_of_a_killed_writer) {
    test::temp_dir dir("resume");
    run_and_kill(dir.path, 64 << 20, 0, 40);  // 16 writes per asset: assets 0 and 1 written whole
    auto store = asset_store::open(dir.path, crash_options(64 << 20));
    ASSERT_TRUE(store);
    auto a = store->find_asset(url(1));
    ASSERT_TRUE(a) << a.error().message();
    auto s = a->open_streaming(url(1));
    ASSERT_TRUE(s);
    // No range map was ever written: everything comes from the range log of this boot.
    EXPECT_EQ(s->resource().available_bytes(), 256u * 1024);
    auto partial = store->find_asset(url(2));
    ASSERT_TRUE(partial);
    auto p = partial->open_streaming(url(2));
    ASSERT_TRUE(p);
    EXPECT_GE(p->resource().available_bytes(), 8u * 16 * 1024);
    std::vector<std::byte> buf(16 * 1024);
    ASSERT_EQ(s->resource().read_at(0, buf).value(), buf.size());
    EXPECT_EQ(buf, test::pattern(16 * 1024, 1));
}

// A child that stays alive until its pipe closes: a live pid that is not ours.
struct live_child {
    live_child() {
        if (::pipe(fds) != 0) std::abort();
        pid = ::fork();
        if (pid == 0) {
            ::close(fds[1]);
            char c;
            (void)!::read(fds[0], &c, 1);
            ::_exit(0);
        }
        ::close(fds[0]);
    }
    ~live_child() { stop(); }
    void stop() {
        if (pid < 0) return;
        ::close(fds[1]);
        ::waitpid(pid, nullptr, 0);
        pid = -1;
    }
    int fds[2] = {-1, -1};
    pid_t pid = -1;
};

pid_t dead_pid() {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
}

void write_file(const fs::path& p, std::size_t n) {
    std::ofstream(p, std::ios::binary) << std::string(n, 'o');
}

TEST(orphans, are_removed_at_open_and_a_live_process_temp_file_is_kept_and_counted) {
    test::temp_dir dir("orphans");
    live_child alive;
    const pid_t dead = dead_pid();
    fs::path adir;
    std::string r;
    {
        // A child leaves an asset leased (journaled) and is killed; the orphans are then made.
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto store = asset_store::open(dir.path, test::budget(64 << 20));
            if (!store) ::_exit(2);
            auto a = store->open_asset(url(1));
            auto s = a->open_streaming(url(1));
            if (!s || !s->resource().write_at(0, test::pattern(1000, 3))) ::_exit(3);
            if (!s->resource().flush()) ::_exit(4);
            ::raise(SIGKILL);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status));
        auto store = asset_store::open(dir.path, test::budget(64 << 20));
        ASSERT_TRUE(store);
        adir = *store->asset_directory(url(1));
        r = std::string(32, 'a');
    }
    ASSERT_TRUE(fs::is_directory(adir));
    // Make the asset journaled again, then plant the orphans.
    {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto store = asset_store::open(dir.path, test::budget(64 << 20));
            if (!store) ::_exit(2);
            auto a = store->open_asset(url(1));
            if (!a) ::_exit(3);
            ::raise(SIGKILL);
        }
        ::waitpid(pid, nullptr, 0);
    }
    const auto dead_tmp = adir / (r + ".tmp." + std::to_string(dead) + ".1");
    const auto live_tmp = adir / (r + ".tmp." + std::to_string(alive.pid) + ".1");
    const auto removed = adir / (r + ".removed.77");
    const auto removed_map = adir / (r + ".removed.77.ranges");
    const auto lone_map = adir / (std::string(32, 'b') + ".ranges");
    const auto lone_log = adir / (std::string(32, 'c') + ".rlog");
    const auto map_tmp = adir / (std::string(32, 'd') + ".ranges.tmp");
    for (const auto& p : {dead_tmp, removed, removed_map, lone_map, lone_log, map_tmp}) {
        write_file(p, 5000);
    }
    write_file(live_tmp, 8192);
    const pid_t live_pid = alive.pid;
    {
        auto store = asset_store::open(dir.path, test::budget(64 << 20));
        ASSERT_TRUE(store);
        for (const auto& p : {dead_tmp, removed, removed_map, lone_map, lone_log, map_tmp}) {
            EXPECT_FALSE(fs::exists(p)) << p;
        }
        EXPECT_TRUE(fs::exists(live_tmp)) << "pid " << live_pid << " is alive";
        const auto st = store->stats();
        EXPECT_EQ(st.orphans_removed, 6u);
        EXPECT_EQ(st.orphans_kept, 1u);
        EXPECT_EQ(st.bytes_used, 1000u + 8192u);  // the resource, and the kept temp file
    }
    // The asset stays journaled: once that process is gone, the next open removes its file.
    alive.stop();
    auto store = asset_store::open(dir.path, test::budget(64 << 20));
    ASSERT_TRUE(store);
    EXPECT_FALSE(fs::exists(live_tmp));
    EXPECT_EQ(store->stats().orphans_removed, 1u);
    EXPECT_EQ(store->stats().bytes_used, 1000u);
}

TEST(lookup, find_asset_creates_nothing) {
    test::temp_dir dir("find");
    auto store = asset_store::open(dir.path, test::budget(1 << 20));
    ASSERT_TRUE(store);
    auto missing = store->find_asset(url(1));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), errc::not_found);
    EXPECT_FALSE(store->contains(url(1)));
    EXPECT_EQ(store->stats().entries, 0u);
    EXPECT_FALSE(fs::exists(*store->asset_directory(url(1))));
    EXPECT_TRUE(store->assets().empty());
    {
        auto a = store->open_asset(url(1));
        ASSERT_TRUE(a);
    }
    auto found = store->find_asset(url(1));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->id(), *store->asset_id(url(1)));
}

TEST(enumeration, lists_assets_and_their_resources_with_sizes_completeness_and_pins) {
    test::temp_dir dir("enum");
    auto store = asset_store::open(dir.path, test::budget(64 << 20));
    ASSERT_TRUE(store);
    const std::string done = "https://k.example/show1/done.mp3";
    const std::string part = "https://k.example/show1/part.mp3";
    const std::string list = "https://k.example/show1/list.m3u8";
    {
        auto a = store->open_asset(url(1));
        auto s = a->open_streaming(done);
        ASSERT_TRUE(s->resource().write_at(0, test::pattern(3000, 1)));
        ASSERT_TRUE(s->resource().commit(3000));
        auto p = a->open_streaming(part);
        ASSERT_TRUE(p->resource().write_at(0, test::pattern(1000, 2)));
        auto l = a->open_atomic(list);
        ASSERT_TRUE(l->replace(test::bytes_of("#EXTM3U\n")));
        ASSERT_TRUE(a->pin());
        // Live state of open resources.
        auto rs = a->resources();
        ASSERT_TRUE(rs);
        EXPECT_EQ(rs->size(), 3u);
    }
    {
        auto a = store->open_asset(url(2));
        ASSERT_TRUE(a);
    }
    auto as = store->assets();
    ASSERT_EQ(as.size(), 2u);
    std::sort(as.begin(), as.end(),
              [](const asset_info& x, const asset_info& y) { return x.bytes > y.bytes; });
    EXPECT_EQ(as[0].id, *store->asset_id(url(1)));
    EXPECT_EQ(as[0].bytes, 3000u + 1000u + 8u);
    EXPECT_EQ(as[0].resources, 3u);
    EXPECT_TRUE(as[0].pinned);
    EXPECT_FALSE(as[0].leased);
    EXPECT_EQ(as[1].bytes, 0u);
    EXPECT_FALSE(as[1].pinned);

    auto a = store->find_asset(url(1));
    ASSERT_TRUE(a);
    auto rs = a->resources();
    ASSERT_TRUE(rs) << rs.error().message();
    ASSERT_EQ(rs->size(), 3u);
    const auto by_id = [&](const std::string& u) -> const resource_info& {
        const key k = resource_key(*canonicalize_url(u, {}));
        for (const auto& r : *rs) {
            if (r.id == k) return r;
        }
        ADD_FAILURE() << "no resource for " << u;
        return rs->front();
    };
    EXPECT_EQ(by_id(done).kind, resource_kind::streaming);
    EXPECT_TRUE(by_id(done).complete);
    EXPECT_EQ(by_id(done).length, 3000u);
    EXPECT_EQ(by_id(done).bytes, 3000u);
    EXPECT_FALSE(by_id(part).complete);
    EXPECT_EQ(by_id(part).bytes, 1000u);
    EXPECT_FALSE(by_id(part).length);
    EXPECT_EQ(by_id(list).kind, resource_kind::atomic);
    EXPECT_TRUE(by_id(list).complete);
    EXPECT_EQ(by_id(list).length, 8u);
    for (const auto& r : *rs) EXPECT_TRUE(r.pinned);
}

}  // namespace
}  // namespace kithara::assets
