// kill -9 while the index is being flushed: the store still opens and keeps all pinned data.
#include <kithara/assets/asset_store.hpp>

#include "assets_support.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <csignal>
#include <thread>

namespace kithara::assets {
namespace {

std::string url(int i) {
    return "https://k.example/book" + std::to_string(i) + "/a.mp3";
}

[[noreturn]] void child_main(const std::filesystem::path& dir, int ready_fd) {
    auto store = asset_store::open(dir, test::budget(1 << 20));
    if (!store) ::_exit(2);
    for (int i = 0; i < 8; ++i) {
        auto a = store->open_asset(url(i));
        auto s = a->open_streaming(url(i));
        if (!s || !s->resource().write_at(0, test::pattern(20'000, static_cast<unsigned>(i))) ||
            !s->resource().commit(20'000))
            ::_exit(3);
        if (i % 2 == 0 && !a->pin()) ::_exit(4);
    }
    if (!store->flush()) ::_exit(5);
    const char c = 'r';
    if (::write(ready_fd, &c, 1) != 1) ::_exit(6);
    // Churn: new assets, touches and index writes until killed.
    for (int n = 0;; ++n) {
        auto a = store->open_asset(url(100 + n % 50));
        if (a) {
            auto s = a->open_streaming(url(100 + n % 50));
            if (s) (void)s->resource().write_at(0, test::pattern(1000, 1));
        }
        (void)store->flush();
    }
}

TEST(crash, kill_during_index_flush_keeps_pinned_data) {
    test::temp_dir dir("crash");
    for (int round = 0; round < 6; ++round) {
        std::filesystem::remove_all(dir.path);
        int fds[2];
        ASSERT_EQ(::pipe(fds), 0);
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            ::close(fds[0]);
            child_main(dir.path, fds[1]);
        }
        ::close(fds[1]);
        char c = 0;
        ASSERT_EQ(::read(fds[0], &c, 1), 1) << "child failed before ready";
        ::close(fds[0]);
        // Picks the moment of the kill (3..38 ms into the child's flush loop, one per round):
        // failure injection, not a wait for a condition; nothing polls.
        std::this_thread::sleep_for(std::chrono::milliseconds(3 + round * 7));
        ASSERT_EQ(::kill(child, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round;

        auto store = asset_store::open(dir.path, test::budget(1 << 20));
        ASSERT_TRUE(store) << store.error().message();
        for (int i = 0; i < 8; i += 2) {
            ASSERT_TRUE(*store->is_pinned(url(i))) << "round " << round << " asset " << i;
            auto a = store->open_asset(url(i));
            auto s = a->open_streaming(url(i));
            ASSERT_TRUE(s);
            ASSERT_TRUE(s->resource().complete());
            std::vector<std::byte> buf(20'000);
            auto n = s->resource().read_at(0, buf);
            ASSERT_TRUE(n);
            ASSERT_EQ(*n, buf.size());
            EXPECT_EQ(buf, test::pattern(20'000, static_cast<unsigned>(i)));
        }
        // Accounting matches what is on disk (nothing leaked, nothing double counted).
        const auto st = store->stats();
        EXPECT_GE(st.bytes_used, 4u * 20'000);
        EXPECT_LE(st.bytes_used, 1u << 20);
    }
}

}  // namespace
}  // namespace kithara::assets
