// Crash recovery of streaming_resource: the unsynced range log (kill -9 resumes from every byte
// written in the same boot; a power loss falls back to the synced map) and the release of bytes
// on disk that nothing claims.
#include <kithara/storage/streaming_resource.hpp>

#include "storage_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>

namespace kithara::storage::test {
namespace {

constexpr std::uint64_t block = 16 * 1024;

std::unique_ptr<streaming_resource> open_ok(const std::filesystem::path& p,
                                            streaming_options o = {}) {
    auto r = streaming_resource::open(p, std::move(o));
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    return r ? std::move(*r) : nullptr;
}

std::uint64_t allocated(const std::filesystem::path& p) {
    struct ::stat st {};
    if (::stat(p.c_str(), &st) != 0) return 0;
    return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

// Every available byte is the byte written there.
void expect_content(streaming_resource& res, std::uint32_t seed) {
    for (const auto& r : res.available().ranges()) {
        std::vector<std::byte> buf(static_cast<std::size_t>(r.size()));
        ASSERT_EQ(res.read_at(r.begin, buf).value(), buf.size());
        ASSERT_EQ(buf, pattern(r.begin, buf.size(), seed)) << "range at " << r.begin;
    }
}

struct killed_writer {
    std::uint64_t synced = 0;    // bytes flushed to the map before the kill
    std::uint64_t reported = 0;  // bytes whose write_at had returned, as the child reported
};

// A child writes `block`-sized chunks sequentially, flushes once after `flush_at` bytes, reports
// each completed write through a pipe and waits for the parent's go before the next one; it is
// killed with SIGKILL once `kill_at` bytes are reported (so it wrote exactly what it reported).
// The storage auto-flush is off, so only the flush at `flush_at` reaches the map.
killed_writer write_and_kill(const std::filesystem::path& path, std::uint64_t flush_at,
                             std::uint64_t kill_at, std::uint32_t seed) {
    int fds[2];
    int go[2];
    EXPECT_EQ(::pipe(fds), 0);
    EXPECT_EQ(::pipe(go), 0);
    const pid_t pid = ::fork();
    EXPECT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        ::close(go[1]);
        streaming_options o;
        o.flush_every_bytes = 0;
        auto res = streaming_resource::open(path, o);
        if (!res) ::_exit(2);
        for (std::uint64_t off = 0;; off += block) {
            if (!(*res)->write_at(off, pattern(off, block, seed))) ::_exit(3);
            if (off + block == flush_at && !(*res)->flush()) ::_exit(4);
            const std::uint64_t done = off + block;
            if (::write(fds[1], &done, sizeof done) != sizeof done) ::_exit(5);
            char c = 0;
            if (::read(go[0], &c, 1) != 1) ::_exit(6);
        }
    }
    ::close(fds[1]);
    ::close(go[0]);
    killed_writer out;
    std::uint64_t done = 0;
    while (::read(fds[0], &done, sizeof done) == sizeof done) {
        out.reported = done;
        if (done >= kill_at) break;
        const char c = 'g';
        if (::write(go[1], &c, 1) != 1) break;
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(fds[0]);
    ::close(go[1]);
    EXPECT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    out.synced = flush_at;
    return out;
}

class recovery : public ::testing::Test {
protected:
    scratch_dir dir_;
};

TEST_F(recovery, kill_9_resumes_from_every_byte_the_range_log_recorded) {
    std::mt19937 rng(13);
    for (int round = 0; round < 6; ++round) {
        const auto path = dir_ / ("k" + std::to_string(round));
        const auto seed = static_cast<std::uint32_t>(rng());
        const std::uint64_t kill_at = block * (8 + rng() % 120);
        const auto w = write_and_kill(path, 4 * block, kill_at, seed);
        auto res = open_ok(path);
        ASSERT_TRUE(res);
        // Everything the child wrote is available again: nothing is re-downloaded.
        EXPECT_EQ(res->available_bytes(), w.reported) << "round " << round;
        EXPECT_EQ(res->available().size(), 1u);
        EXPECT_EQ(res->log_claimed_at_open(), res->available_bytes() - w.synced);
        expect_content(*res, seed);
        // The data file holds no more than what is claimed (plus the last block's rounding).
        EXPECT_LE(allocated(path), res->available_bytes() + 4096) << "round " << round;
    }
}

TEST_F(recovery, the_log_claims_survive_a_second_crash_before_any_flush) {
    const auto path = dir_ / "twice";
    const auto w = write_and_kill(path, 2 * block, 40 * block, 7);
    {
        // Reopen in a child that writes nothing more and is killed before closing.
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            auto res = streaming_resource::open(path, {});
            if (!res || (*res)->available_bytes() < w.reported) ::_exit(2);
            if (!(*res)->write_at(0, pattern(0, 10, 7))) ::_exit(3);  // rewrite: creates the log
            ::raise(SIGKILL);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    }
    auto res = open_ok(path);
    EXPECT_GE(res->available_bytes(), w.reported);
    expect_content(*res, 7);
}

// A power loss: the page cache (and with it the unsynced log) is gone, or the log names another
// boot. Only the synced map counts, and the unclaimed bytes are released.
TEST_F(recovery, a_log_from_another_boot_is_ignored_and_only_the_synced_map_counts) {
    const auto path = dir_ / "boot";
    const auto w = write_and_kill(path, 8 * block, 64 * block, 3);
    ASSERT_GE(w.reported, 64 * block);
    {
        // Another boot id in the header (offset 8..24).
        std::fstream f(streaming_resource::range_log_path(path),
                       std::ios::in | std::ios::out | std::ios::binary);
        ASSERT_TRUE(f);
        f.seekp(8);
        const char other[16] = {'a', 'n', 'o', 't', 'h', 'e', 'r', ' ', 'b', 'o', 'o', 't'};
        f.write(other, sizeof other);
    }
    // What a power loss does to unsynced data: it may be lost. Zero it to prove none is served.
    {
        const int fd = ::open(path.c_str(), O_RDWR);
        ASSERT_GE(fd, 0);
        const std::vector<char> zeros(static_cast<std::size_t>(w.reported - w.synced), 0);
        ASSERT_EQ(::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(w.synced)),
                  static_cast<ssize_t>(zeros.size()));
        ::close(fd);
    }
    auto res = open_ok(path);
    EXPECT_EQ(res->status_at_open(), open_status::loaded);
    EXPECT_EQ(res->available_bytes(), w.synced);
    EXPECT_EQ(res->log_claimed_at_open(), 0u);
    expect_content(*res, 3);
    EXPECT_EQ(std::filesystem::file_size(path), w.synced);  // the unclaimed tail is cut off
    EXPECT_LE(allocated(path), w.synced + 4096);
}

TEST_F(recovery, a_lost_log_falls_back_to_the_synced_map) {
    const auto path = dir_ / "lost";
    const auto w = write_and_kill(path, 4 * block, 32 * block, 5);
    std::filesystem::remove(streaming_resource::range_log_path(path));
    auto res = open_ok(path);
    EXPECT_EQ(res->available_bytes(), w.synced);
    expect_content(*res, 5);
    EXPECT_LE(allocated(path), w.synced + 4096);
}

TEST_F(recovery, a_log_of_another_data_file_is_ignored) {
    const auto path = dir_ / "inode";
    const auto w = write_and_kill(path, 2 * block, 20 * block, 9);
    // The data file is replaced by a copy (a new inode) holding the same bytes.
    const auto copy = dir_ / "copy";
    std::filesystem::copy_file(path, copy);
    std::filesystem::rename(copy, path);
    auto res = open_ok(path);
    EXPECT_EQ(res->available_bytes(), w.synced);
}

TEST_F(recovery, unclaimed_bytes_in_gaps_and_tail_are_released_at_open) {
    const auto path = dir_ / "gaps";
    {
        streaming_options o;
        o.range_log = false;
        auto res = open_ok(path, o);
        ASSERT_TRUE(res->write_at(0, pattern(0, 64 * 1024)));
        ASSERT_TRUE(res->write_at(512 * 1024, pattern(512 * 1024, 64 * 1024)));
    }
    // Bytes written after the last flush that nothing claims (what a crash leaves behind).
    {
        const int fd = ::open(path.c_str(), O_RDWR);
        ASSERT_GE(fd, 0);
        const std::vector<char> junk(256 * 1024, 'j');
        ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), 128 * 1024), 256 * 1024);
        ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), 1024 * 1024), 256 * 1024);
        ::fsync(fd);
        ::close(fd);
    }
    ASSERT_GE(allocated(path), 600u * 1024);
    auto res = open_ok(path);
    EXPECT_EQ(res->available_bytes(), 128u * 1024);
    expect_content(*res, 0);
    EXPECT_EQ(std::filesystem::file_size(path), 576u * 1024);
    EXPECT_LE(allocated(path), 128u * 1024 + 8192);
}

TEST_F(recovery, a_clean_close_leaves_no_range_log) {
    const auto path = dir_ / "clean";
    {
        auto res = open_ok(path);
        ASSERT_TRUE(res->write_at(0, pattern(0, 1000)));
        EXPECT_TRUE(std::filesystem::exists(streaming_resource::range_log_path(path)));
    }
    EXPECT_FALSE(std::filesystem::exists(streaming_resource::range_log_path(path)));
    auto res = open_ok(path);
    EXPECT_EQ(res->available_bytes(), 1000u);
    EXPECT_EQ(res->log_claimed_at_open(), 0u);
}

TEST_F(recovery, a_full_log_page_is_rewritten_with_the_unflushed_ranges) {
    const auto path = dir_ / "full";
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        streaming_options o;
        o.flush_every_bytes = 0;
        auto res = streaming_resource::open(path, o);
        if (!res) ::_exit(2);
        // 1000 disjoint writes (every other 100-byte slot): far more records than one page.
        for (std::uint64_t i = 0; i < 1000; ++i) {
            if (!(*res)->write_at(i * 200, pattern(i * 200, 100))) ::_exit(3);
        }
        // Then fill every gap: the unflushed set collapses to one range.
        for (std::uint64_t i = 0; i < 1000; ++i) {
            if (!(*res)->write_at(i * 200 + 100, pattern(i * 200 + 100, 100))) ::_exit(3);
        }
        ::raise(SIGKILL);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    auto res = open_ok(path);
    // The ranges past the page's capacity may be lost, never wrong ones served.
    expect_content(*res, 0);
    EXPECT_GT(res->available_bytes(), 0u);
}

// streaming_options::defer_sync: jobs recorded here and run (or never run) by the test.
struct recorded_jobs {
    std::vector<std::function<void()>> jobs;
    sync_runner runner() {
        return [this](std::function<void()> j) {
            jobs.push_back(std::move(j));
            return true;
        };
    }
    void run_all() {
        auto mine = std::move(jobs);
        jobs.clear();
        for (auto& j : mine) j();
    }
};

TEST_F(recovery, deferred_commit_publishes_at_once_and_its_job_makes_it_durable) {
    const auto path = dir_ / "deferred";
    recorded_jobs rec;
    streaming_options o;
    o.flush_every_bytes = 0;
    o.defer_sync = rec.runner();
    auto res = open_ok(path, o);
    ASSERT_TRUE(res);
    EXPECT_EQ(rec.jobs.size(), 1u);  // the new directory entry's sync
    ASSERT_TRUE(res->write_at(0, pattern(0, 5 * block, 3)));
    ASSERT_TRUE(res->commit(5 * block));
    EXPECT_TRUE(res->complete());  // readers see the final length before any sync
    EXPECT_EQ(res->final_length(), 5 * block);
    EXPECT_EQ(rec.jobs.size(), 2u);
    EXPECT_EQ(streaming_resource::inspect(path).error(), std::errc::no_such_file_or_directory);
    rec.run_all();
    auto m = streaming_resource::inspect(path);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_TRUE(m->complete);
    EXPECT_EQ(m->final_length, 5 * block);
    res.reset();
    EXPECT_FALSE(std::filesystem::exists(streaming_resource::range_log_path(path)));
    auto again = open_ok(path);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status_at_open(), open_status::loaded);
    EXPECT_TRUE(again->complete());
    expect_content(*again, 3);
}

TEST_F(recovery,
       closing_before_the_deferred_flush_ran_flushes_inline_and_the_late_job_is_harmless) {
    const auto path = dir_ / "late";
    recorded_jobs rec;
    streaming_options o;
    o.flush_every_bytes = 0;
    o.defer_sync = rec.runner();
    auto res = open_ok(path, o);
    ASSERT_TRUE(res);
    ASSERT_TRUE(res->write_at(0, pattern(0, 3 * block, 4)));
    ASSERT_TRUE(res->commit(3 * block));
    res.reset();  // the close flushes itself; the queued job keeps the descriptors alive
    auto m = streaming_resource::inspect(path);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_TRUE(m->complete);
    EXPECT_FALSE(std::filesystem::exists(streaming_resource::range_log_path(path)));
    rec.run_all();  // nothing left to flush: changes nothing
    auto again = open_ok(path);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status_at_open(), open_status::loaded);
    EXPECT_EQ(again->final_length(), 3 * block);
    expect_content(*again, 4);
}

// A kill -9 after commit() returned but before its deferred flush ran keeps what a kill before
// the commit would: the bytes the range log claims (same boot), no final length, nothing more.
TEST_F(recovery, kill_9_before_the_deferred_commit_flush_keeps_only_the_logged_bytes) {
    const auto path = dir_ / "killdeferred";
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        recorded_jobs rec;  // never run: the process dies first
        streaming_options o;
        o.flush_every_bytes = 0;
        o.defer_sync = rec.runner();
        auto res = streaming_resource::open(path, o);
        if (!res) ::_exit(2);
        if (!(*res)->write_at(0, pattern(0, 7 * block, 5))) ::_exit(3);
        if (!(*res)->commit(7 * block) || !(*res)->complete()) ::_exit(4);
        if (rec.jobs.size() != 2) ::_exit(5);
        ::raise(SIGKILL);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    auto res = open_ok(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status_at_open(), open_status::no_map);
    EXPECT_FALSE(res->final_length());
    EXPECT_FALSE(res->complete());
    EXPECT_EQ(res->available_bytes(), res->log_claimed_at_open());
    EXPECT_LE(res->available_bytes(), 7 * block);
    if (std::filesystem::exists("/proc/sys/kernel/random/boot_id")) {
        EXPECT_EQ(res->available_bytes(), 7 * block);  // the log's claims, this boot
    }
    expect_content(*res, 5);
}

}  // namespace
}  // namespace kithara::storage::test
