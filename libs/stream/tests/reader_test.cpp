#include <kithara/storage/memory_resource.hpp>
#include <kithara/stream/error.hpp>
#include <kithara/stream/memory_source.hpp>
#include <kithara/stream/reader.hpp>
#include <kithara/stream/resource_source.hpp>

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

using namespace kithara;
using namespace kithara::stream;

namespace {
std::vector<std::byte> pattern(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 7 + i / 251) & 0xff);
    return v;
}

std::vector<std::byte> read_all(reader& rd, std::size_t chunk) {
    std::vector<std::byte> out;
    std::vector<std::byte> buf(chunk);
    for (;;) {
        auto n = rd.read(buf);
        EXPECT_TRUE(n) << n.error().message();
        if (!n || *n == 0) break;
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    return out;
}

reader_options opts(std::size_t prefetch, std::size_t block = 64 * 1024) {
    reader_options o;
    o.prefetch_bytes = prefetch;
    o.block_bytes = block;
    return o;
}

// Generous: a healthy run is far below it; a missing wake-up fails here instead of hanging.
constexpr auto patience = std::chrono::seconds(20);

// Forwards to a source and lets a test wait for what the reader did to it: bytes copied out
// (read_at) and waits begun (wait_range), so tests wait on those events instead of sleeping.
class watched_source final : public source {
public:
    explicit watched_source(std::shared_ptr<source> inner) : inner_(std::move(inner)) {}

    [[nodiscard]] std::optional<std::uint64_t> length() const override { return inner_->length(); }
    result<wait_status> wait_range(byte_range r, std::optional<deadline> until,
                                   std::stop_token stop) override {
        {
            std::lock_guard lock(mutex_);
            ++waits_;
        }
        cv_.notify_all();
        return inner_->wait_range(r, until, std::move(stop));
    }
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override {
        auto n = inner_->read_at(offset, out);
        if (n) {
            {
                std::lock_guard lock(mutex_);
                bytes_read_ += *n;
            }
            cv_.notify_all();
        }
        return n;
    }

    // True once some thread has begun waiting on the source (within `patience`).
    bool wait_for_a_waiter() {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, patience, [&] { return waits_ > 0; });
    }
    // True once at least n bytes were copied out of the source (within `patience`).
    bool wait_for_bytes_read(std::uint64_t n) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, patience, [&] { return bytes_read_ >= n; });
    }
    [[nodiscard]] std::uint64_t bytes_read() const {
        std::lock_guard lock(mutex_);
        return bytes_read_;
    }

private:
    std::shared_ptr<source> inner_;
    mutable std::mutex mutex_;  // guards waits_ and bytes_read_
    std::condition_variable cv_;
    std::uint64_t waits_ = 0;
    std::uint64_t bytes_read_ = 0;
};

class reader_modes : public ::testing::TestWithParam<std::size_t> {};
}  // namespace

TEST_P(reader_modes, reads_every_byte_then_zero_at_end) {
    const auto data = pattern(300'000);
    reader rd(memory_source::create(data), opts(GetParam(), 7000));
    EXPECT_EQ(read_all(rd, 4093), data);
    std::array<std::byte, 8> buf{};
    EXPECT_EQ(rd.read(buf).value(), 0u);
    EXPECT_EQ(rd.tell(), data.size());
}

TEST_P(reader_modes, seeks_deliver_bytes_of_the_new_position_only) {
    const auto data = pattern(200'000);
    reader rd(memory_source::create(data), opts(GetParam(), 4096));
    std::mt19937 rng(42);
    std::array<std::byte, 777> buf{};
    for (int i = 0; i < 300; ++i) {
        const std::uint64_t at = rng() % data.size();
        ASSERT_EQ(rd.seek(at).value(), at);
        auto n = rd.read(buf);
        ASSERT_TRUE(n);
        ASSERT_GT(*n, 0u);
        ASSERT_LE(at + *n, data.size());
        ASSERT_TRUE(std::equal(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n),
                               data.begin() + static_cast<std::ptrdiff_t>(at)))
            << "at " << at;
        ASSERT_EQ(rd.tell(), at + *n);
    }
}

TEST_P(reader_modes, seek_past_known_length_is_an_error) {
    reader rd(memory_source::create(pattern(10)), opts(GetParam()));
    EXPECT_FALSE(rd.seek(11));
    EXPECT_TRUE(rd.seek(10));
    std::array<std::byte, 4> buf{};
    EXPECT_EQ(rd.read(buf).value(), 0u);
}

TEST_P(reader_modes, dribbling_writer_gives_identical_bytes) {
    const auto data = pattern(150'000);
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    reader rd(resource_source::create(res), opts(GetParam(), 5000));
    std::jthread writer([&] {
        std::size_t off = 0;
        while (off < data.size()) {
            const std::size_t n = std::min<std::size_t>(1237, data.size() - off);
            ASSERT_TRUE(res->write_at(off, std::span(data).subspan(off, n)));
            off += n;
            // Simulates a slow download (the reader must block and resume); nothing polls, the
            // reader waits on the resource.
            if (off % 12370 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        ASSERT_TRUE(res->commit(data.size()));
    });
    EXPECT_EQ(read_all(rd, 3000), data);
}

TEST_P(reader_modes, stop_token_cancels_a_blocked_read) {
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    auto src = std::make_shared<watched_source>(resource_source::create(res));
    std::stop_source stop;
    reader rd(src, [&] {
        auto o = opts(GetParam());
        o.stop = stop.get_token();
        return o;
    }());
    // Stops once the source is being waited on: by this read itself without read-ahead, by the
    // read-ahead otherwise (if the read has not blocked yet, it must still see the stop).
    std::jthread stopper([&] {
        EXPECT_TRUE(src->wait_for_a_waiter());
        stop.request_stop();
    });
    std::array<std::byte, 4> buf{};
    auto n = rd.read(buf);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), errc::cancelled);
}

TEST_P(reader_modes, timeout_is_not_eof) {
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    reader rd(resource_source::create(res), [&] {
        auto o = opts(GetParam());
        o.timeout = std::chrono::milliseconds(20);
        return o;
    }());
    std::array<std::byte, 4> buf{};
    auto n = rd.read(buf);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), errc::timed_out);
    EXPECT_GE(rd.stats().underruns, 1u);
}

TEST_P(reader_modes, source_failure_is_an_error_not_eof) {
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    ASSERT_TRUE(res->write_at(0, pattern(100)));
    reader rd(resource_source::create(res), opts(GetParam()));
    std::array<std::byte, 100> buf{};
    EXPECT_EQ(rd.read(buf).value(), 100u);
    res->fail(error(std::make_error_code(std::errc::connection_reset), "download"));
    auto n = rd.read(buf);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code(), std::make_error_code(std::errc::connection_reset));
}

INSTANTIATE_TEST_SUITE_P(prefetch, reader_modes, ::testing::Values(0u, 16384u, 262144u),
                         [](const auto& i) { return "prefetch_" + std::to_string(i.param); });

TEST(reader, read_ahead_stays_within_its_bound) {
    const auto data = pattern(1'000'000);
    auto src = std::make_shared<watched_source>(memory_source::create(data));
    reader rd(src, opts(65536, 8192));
    std::array<std::byte, 10> buf{};
    ASSERT_TRUE(rd.read(buf));
    // The read-ahead refills the 10 bytes just read, reaching its bound; it must stop there.
    constexpr std::uint64_t bound = 65536u + 10u;
    ASSERT_TRUE(src->wait_for_bytes_read(bound)) << "read-ahead stalled at " << src->bytes_read();
    EXPECT_LE(src->bytes_read(), bound);
    EXPECT_LE(rd.stats().bytes_fetched, bound);
}

TEST(reader, seek_out_of_window_starts_a_new_epoch) {
    reader rd(memory_source::create(pattern(1'000'000)), opts(65536));
    std::array<std::byte, 10> buf{};
    ASSERT_TRUE(rd.read(buf));
    const auto e = rd.epoch();
    ASSERT_TRUE(rd.seek(900'000));
    EXPECT_EQ(rd.epoch(), e + 1);
}
