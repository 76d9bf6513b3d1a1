// streaming_resource specifics: persistence, resume, corrupt range maps, crash safety, bad paths.
#include "storage_support.hpp"

#include <kithara/core/log.hpp>
#include <kithara/storage/error.hpp>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace kithara::storage::test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<streaming_resource> open_ok(const std::filesystem::path& p,
                                            streaming_options o = {}) {
    auto r = streaming_resource::open(p, std::move(o));
    if (!r) {
        ADD_FAILURE() << r.error().message();
        return nullptr;
    }
    return std::move(*r);
}

void write_ok(resource& res, std::uint64_t offset, std::size_t length, std::uint32_t seed = 0) {
    const auto data = pattern(offset, length, seed);
    auto r = res.write_at(offset, data);
    ASSERT_TRUE(r) << r.error().message();
}

// Every available byte equals the pattern.
void expect_available_bytes_match(resource& res, std::uint32_t seed = 0) {
    for (const auto& r : res.available().ranges()) {
        std::vector<std::byte> out(static_cast<std::size_t>(r.size()));
        auto n = res.read_at(r.begin, out);
        ASSERT_TRUE(n) << n.error().message();
        ASSERT_EQ(*n, out.size());
        ASSERT_EQ(out, pattern(r.begin, out.size(), seed)) << "range " << r.begin << ".." << r.end;
    }
}

std::vector<char> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write_file(const std::filesystem::path& p, const std::vector<char>& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class streaming : public ::testing::Test {
protected:
    scratch_dir dir_;
    std::filesystem::path path_ = dir_ / "seg.ts";

    // A resource with two ranges, flushed and closed.
    void make_partial() {
        auto res = open_ok(path_);
        ASSERT_TRUE(res);
        write_ok(*res, 0, 1000);
        write_ok(*res, 5000, 3000);
    }

    // Reopens after corrupting the map with `mutate`; expects a recovered, empty resource.
    void expect_recovers_from(const std::function<void(std::vector<char>&)>& mutate) {
        make_partial();
        auto map = read_file(streaming_resource::range_map_path(path_));
        ASSERT_FALSE(map.empty());
        mutate(map);
        write_file(streaming_resource::range_map_path(path_), map);

        std::vector<std::string> warnings;
        set_log_handler([&](log_level l, std::string_view line) {
            if (l == log_level::warn) warnings.emplace_back(line);
        });
        auto res = open_ok(path_);
        set_log_handler({});
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status_at_open(), open_status::recovered);
        EXPECT_EQ(res->available_bytes(), 0u);
        ASSERT_EQ(warnings.size(), 1u);
        EXPECT_NE(warnings[0].find("range map"), std::string::npos) << warnings[0];
        // Still usable: writes land and persist again.
        write_ok(*res, 0, 10);
        res.reset();
        auto again = open_ok(path_);
        EXPECT_EQ(again->status_at_open(), open_status::loaded);
        EXPECT_EQ(again->available_bytes(), 10u);
    }
};

TEST_F(streaming, a_new_file_opens_as_created_and_empty) {
    auto res = open_ok(path_);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status_at_open(), open_status::created);
    EXPECT_EQ(res->available_bytes(), 0u);
    EXPECT_EQ(res->path(), path_);
}

TEST_F(streaming, reopening_resumes_with_the_ranges_written_before) {
    make_partial();
    auto res = open_ok(path_);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status_at_open(), open_status::loaded);
    EXPECT_EQ(res->available().ranges(), (std::vector<byte_range>{{0, 1000}, {5000, 8000}}));
    expect_available_bytes_match(*res);
    // The download resumes: fill the gaps, commit, and it is complete after another restart.
    for (const auto& g : res->available().gaps({0, 8000})) {
        write_ok(*res, g.begin, static_cast<std::size_t>(g.size()));
    }
    ASSERT_TRUE(res->commit(8000));
    res.reset();
    auto done = open_ok(path_);
    EXPECT_TRUE(done->complete());
    EXPECT_EQ(done->final_length(), 8000u);
    expect_available_bytes_match(*done);
}

TEST_F(streaming, data_without_a_range_map_counts_as_empty) {
    write_file(path_, std::vector<char>(4096, 'x'));
    auto res = open_ok(path_);
    EXPECT_EQ(res->status_at_open(), open_status::no_map);
    EXPECT_EQ(res->available_bytes(), 0u);
}

TEST_F(streaming, the_map_is_written_automatically_after_the_flush_threshold) {
    streaming_options o;
    o.flush_every_bytes = 64 * 1024;
    auto res = open_ok(path_, o);
    const auto map = streaming_resource::range_map_path(path_);
    write_ok(*res, 0, 32 * 1024);
    EXPECT_FALSE(std::filesystem::exists(map));  // never per write
    write_ok(*res, 32 * 1024, 32 * 1024);
    EXPECT_TRUE(std::filesystem::exists(map));
    EXPECT_EQ(std::filesystem::file_size(map), 24u + 16u + 4u);
}

TEST_F(streaming, flush_writes_the_map_on_demand) {
    streaming_options o;
    o.flush_every_bytes = 0;
    auto res = open_ok(path_, o);
    write_ok(*res, 0, 100);
    EXPECT_FALSE(std::filesystem::exists(streaming_resource::range_map_path(path_)));
    ASSERT_TRUE(res->flush());
    EXPECT_TRUE(std::filesystem::exists(streaming_resource::range_map_path(path_)));
}

TEST_F(streaming, a_failing_map_write_is_reported_by_flush_and_logged_by_auto_flush) {
    std::filesystem::create_directory(path_.string() + ".ranges.tmp");  // blocks the temp file
    streaming_options o;
    o.flush_every_bytes = 1024;
    auto res = open_ok(path_, o);
    std::vector<std::string> warnings;
    set_log_handler([&](log_level l, std::string_view line) {
        if (l == log_level::warn) warnings.emplace_back(line);
    });
    write_ok(*res, 0, 2048);  // stored and published although the map could not be written
    set_log_handler({});
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find(".ranges.tmp"), std::string::npos) << warnings[0];
    auto f = res->flush();
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error(), std::errc::is_a_directory);
    EXPECT_FALSE(res->failure());
    std::vector<std::byte> out(2048);
    EXPECT_EQ(res->read_at(0, out).value(), 2048u);
    std::filesystem::remove(path_.string() + ".ranges.tmp");
}

TEST_F(streaming, truncated_range_map_is_discarded) {
    expect_recovers_from([](std::vector<char>& m) { m.resize(m.size() - 7); });
}

TEST_F(streaming, range_map_with_a_flipped_bit_is_discarded) {
    expect_recovers_from([](std::vector<char>& m) { m[30] = static_cast<char>(m[30] ^ 0x10); });
}

TEST_F(streaming, garbage_range_map_is_discarded) {
    expect_recovers_from([](std::vector<char>& m) {
        std::mt19937 rng(7);
        for (auto& c : m) c = static_cast<char>(rng());
    });
}

TEST_F(streaming, empty_range_map_is_discarded) {
    expect_recovers_from([](std::vector<char>& m) { m.clear(); });
}

TEST_F(streaming, range_map_of_an_unknown_version_is_discarded) {
    expect_recovers_from([](std::vector<char>& m) { m[4] = 9; });
}

TEST_F(streaming, range_map_claiming_bytes_past_the_data_file_is_discarded) {
    make_partial();
    ::truncate(path_.c_str(), 2000);  // the data lost its tail behind our back
    auto res = open_ok(path_);
    EXPECT_EQ(res->status_at_open(), open_status::recovered);
    EXPECT_EQ(res->available_bytes(), 0u);
}

TEST_F(streaming, corrupt_range_map_is_an_error_when_recovery_is_off) {
    make_partial();
    write_file(streaming_resource::range_map_path(path_), {'n', 'o', 'p', 'e'});
    streaming_options o;
    o.recover_corrupt_map = false;
    auto res = streaming_resource::open(path_, o);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), errc::corrupt_range_map);
    EXPECT_NE(res.error().message().find("seg.ts.ranges"), std::string::npos)
        << res.error().message();
}

TEST_F(streaming, a_missing_directory_is_a_clear_error) {
    auto res = streaming_resource::open(dir_ / "no" / "such" / "dir" / "x.ts");
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), std::errc::no_such_file_or_directory);
    EXPECT_NE(res.error().message().find("no/such/dir"), std::string::npos)
        << res.error().message();
}

TEST_F(streaming, a_missing_file_without_create_is_an_error) {
    streaming_options o;
    o.create = false;
    auto res = streaming_resource::open(path_, o);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), std::errc::no_such_file_or_directory);
}

TEST_F(streaming, a_directory_is_not_a_resource) {
    std::filesystem::create_directory(dir_ / "d");
    auto res = streaming_resource::open(dir_ / "d");
    ASSERT_FALSE(res);
}

TEST_F(streaming, commit_persists_the_final_length_and_truncates) {
    {
        auto res = open_ok(path_);
        write_ok(*res, 0, 100);
        ASSERT_TRUE(res->commit(100));
    }
    EXPECT_EQ(std::filesystem::file_size(path_), 100u);
    auto res = open_ok(path_);
    EXPECT_EQ(res->final_length(), 100u);
    EXPECT_TRUE(res->complete());
    const auto more = pattern(100, 1);
    EXPECT_EQ(res->write_at(100, more).error(), errc::past_final_length);
}

TEST_F(streaming, remove_deletes_the_data_and_its_map) {
    make_partial();
    ASSERT_TRUE(streaming_resource::remove(path_));
    EXPECT_FALSE(std::filesystem::exists(path_));
    EXPECT_FALSE(std::filesystem::exists(streaming_resource::range_map_path(path_)));
    EXPECT_TRUE(streaming_resource::remove(path_));  // already gone: fine
}

TEST_F(streaming, a_stale_map_beside_a_recreated_file_is_ignored) {
    make_partial();
    std::filesystem::remove(path_);
    auto res = open_ok(path_);
    EXPECT_EQ(res->status_at_open(), open_status::created);
    EXPECT_EQ(res->available_bytes(), 0u);
}

TEST_F(streaming, writes_beyond_the_largest_file_offset_are_invalid) {
    auto res = open_ok(path_);
    const auto data = pattern(0, 8);
    auto w = res->write_at(std::uint64_t{1} << 63, data);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), errc::invalid_range);
}

// Crash safety: a child writes continuously in random order (auto-flushing often) and is killed
// with SIGKILL at a random moment; after reopening, every byte reported available must be the
// byte the child wrote there, and the resource must resume to completion.
TEST_F(streaming, survives_kill_9_at_random_moments) {
    constexpr std::uint64_t size = 2 * 1024 * 1024;
    std::mt19937 rng(20240601);
    int loaded = 0;
    for (int iteration = 0; iteration < 8; ++iteration) {
        const auto seed = static_cast<std::uint32_t>(rng());
        const auto path = dir_ / ("crash-" + std::to_string(iteration));
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            streaming_options o;
            o.flush_every_bytes = 16 * 1024;
            auto res = streaming_resource::open(path, o);
            if (!res) ::_exit(2);
            std::mt19937 child_rng(seed);
            for (std::uint64_t n = 0;; ++n) {
                const std::uint64_t len = 512 + child_rng() % 8192;
                const std::uint64_t off = child_rng() % (size - len);
                const auto data = pattern(off, static_cast<std::size_t>(len), seed);
                if (!(*res)->write_at(off, data)) ::_exit(3);
                if (n % 64 == 0 && !(*res)->flush()) ::_exit(4);
            }
        }
        // Picks a seeded moment for the kill: failure injection, not a wait for a condition.
        std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 60));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);

        auto res = open_ok(path);
        ASSERT_TRUE(res);
        EXPECT_NE(res->status_at_open(), open_status::recovered);
        if (res->status_at_open() == open_status::loaded) ++loaded;
        expect_available_bytes_match(*res, seed);
        // Resume: fill every gap and commit.
        for (const auto& g : res->available().gaps({0, size})) {
            write_ok(*res, g.begin, static_cast<std::size_t>(g.size()), seed);
        }
        ASSERT_TRUE(res->commit(size));
        EXPECT_TRUE(res->complete());
        expect_available_bytes_match(*res, seed);
    }
    EXPECT_GT(loaded, 0);  // at least some kills landed after a map was written
}

}  // namespace
}  // namespace kithara::storage::test
