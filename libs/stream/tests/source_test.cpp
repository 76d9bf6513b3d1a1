#include <kithara/storage/memory_resource.hpp>
#include <kithara/stream/error.hpp>
#include <kithara/stream/memory_source.hpp>
#include <kithara/stream/resource_source.hpp>

#include <gtest/gtest.h>

#include <array>
#include <thread>

using namespace kithara;
using namespace kithara::stream;

namespace {
std::vector<std::byte> pattern(std::size_t n) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 7 + i / 251) & 0xff);
    return v;
}
}  // namespace

TEST(memory_source, reads_bytes_and_zero_at_end) {
    auto src = memory_source::create(pattern(100));
    std::array<std::byte, 64> buf{};
    EXPECT_EQ(src->length(), 100u);
    EXPECT_EQ(src->read_at(90, buf).value(), 10u);
    EXPECT_EQ(buf[0], pattern(100)[90]);
    EXPECT_EQ(src->read_at(100, buf).value(), 0u);
    EXPECT_EQ(src->wait_range({100, 200}, std::nullopt, {}).value(), wait_status::eof);
    EXPECT_EQ(src->wait_range({0, 200}, std::nullopt, {}).value(), wait_status::ready);
}

TEST(memory_source, boundaries_are_ordered_and_found_after_an_offset) {
    media_hints h;
    h.container = "aac";
    auto src = memory_source::create(pattern(100), h);
    format_boundary b;
    b.offset = 40;
    b.hints.container = "mpegts";
    EXPECT_TRUE(src->declare_boundary(b));
    b.offset = 30;
    EXPECT_FALSE(src->declare_boundary(b));
    EXPECT_EQ(src->hints().container, "aac");
    ASSERT_TRUE(src->boundary_after(0));
    EXPECT_EQ(src->boundary_after(0)->offset, 40u);
    EXPECT_EQ(src->boundary_after(0)->hints.container, "mpegts");
    EXPECT_FALSE(src->boundary_after(40));
}

TEST(resource_source, not_available_before_the_writer_delivers) {
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    auto src = resource_source::create(res);
    std::array<std::byte, 16> buf{};
    auto r = src->read_at(0, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::not_available);
    EXPECT_FALSE(src->length());
    ASSERT_TRUE(res->write_at(0, pattern(16)));
    EXPECT_EQ(src->read_at(0, buf).value(), 16u);
    ASSERT_TRUE(res->commit(16));
    EXPECT_EQ(src->length(), 16u);
    EXPECT_EQ(src->wait_range({16, 20}, std::nullopt, {}).value(), wait_status::eof);
}

TEST(resource_source, failed_resource_returns_its_error) {
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    auto src = resource_source::create(res);
    res->fail(error(std::make_error_code(std::errc::connection_reset), "download"));
    auto w = src->wait_range({0, 10}, std::nullopt, {});
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code(), std::make_error_code(std::errc::connection_reset));
}

TEST(resource_source, wait_times_out_at_the_deadline) {
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    auto src = resource_source::create(res);
    auto w = src->wait_range({0, 10},
                             std::chrono::steady_clock::now() + std::chrono::milliseconds(20), {});
    EXPECT_EQ(w.value(), wait_status::timed_out);
}
