// The resource contract, run on both backings (streaming file and memory).
#include "storage_support.hpp"

#include <kithara/storage/error.hpp>

#include <asio/io_context.hpp>

#include <chrono>

namespace kithara::storage::test {
namespace {

using namespace std::chrono_literals;

template <class Backing>
class resource_contract : public ::testing::Test {
protected:
    Backing backing_;
    std::unique_ptr<resource> res_ = backing_.make();

    void write(std::uint64_t offset, std::size_t length) {
        const auto data = pattern(offset, length);
        auto r = res_->write_at(offset, data);
        ASSERT_TRUE(r) << r.error().message();
    }
};
TYPED_TEST_SUITE(resource_contract, backings, backing_names);

TYPED_TEST(resource_contract, read_returns_the_bytes_written) {
    this->write(100, 5000);
    std::vector<std::byte> out(5000);
    auto n = this->res_->read_at(100, out);
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(*n, 5000u);
    EXPECT_EQ(out, pattern(100, 5000));
}

TYPED_TEST(resource_contract, read_of_bytes_not_yet_written_is_not_available) {
    this->write(1000, 10);
    std::vector<std::byte> out(10);
    auto n = this->res_->read_at(0, out);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), errc::not_available);
    // Flow control, not a failure: it carries no context, so a reader at the download edge
    // allocates nothing (failures do name the operation and object).
    EXPECT_TRUE(n.error().context().empty()) << n.error().message();
}

TYPED_TEST(resource_contract, read_returns_only_the_contiguous_available_prefix) {
    this->write(0, 100);
    this->write(200, 100);
    std::vector<std::byte> out(300);
    auto n = this->res_->read_at(50, out);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 50u);
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + 50, pattern(50, 50).begin()));
}

TYPED_TEST(resource_contract, read_at_or_past_the_final_length_is_eof) {
    this->write(0, 64);
    ASSERT_TRUE(this->res_->commit(64));
    std::vector<std::byte> out(16);
    EXPECT_EQ(this->res_->read_at(64, out).value(), 0u);
    EXPECT_EQ(this->res_->read_at(1000, out).value(), 0u);
}

TYPED_TEST(resource_contract, read_straddling_the_final_length_is_clamped) {
    this->write(0, 64);
    ASSERT_TRUE(this->res_->commit(64));
    std::vector<std::byte> out(32);
    auto n = this->res_->read_at(48, out);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 16u);
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + 16, pattern(48, 16).begin()));
}

TYPED_TEST(resource_contract, empty_read_returns_zero) {
    std::vector<std::byte> none;
    EXPECT_EQ(this->res_->read_at(5, none).value(), 0u);
}

TYPED_TEST(resource_contract, overflowing_offsets_are_invalid_ranges) {
    std::vector<std::byte> buf(16);
    auto w = this->res_->write_at(UINT64_MAX - 4, buf);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), errc::invalid_range);
    auto r = this->res_->read_at(UINT64_MAX - 4, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::invalid_range);
    auto wr = this->res_->wait_range({20, 10});
    ASSERT_FALSE(wr);
    EXPECT_EQ(wr.error(), errc::invalid_range);
}

TYPED_TEST(resource_contract, wait_range_is_ready_when_bytes_are_available) {
    this->write(0, 100);
    EXPECT_EQ(this->res_->wait_range({10, 90}).value(), wait_outcome::ready);
}

TYPED_TEST(resource_contract, wait_range_times_out_at_the_deadline) {
    this->write(0, 100);
    const auto start = std::chrono::steady_clock::now();
    auto o = this->res_->wait_range({50, 150}, start + 30ms);
    EXPECT_EQ(o.value(), wait_outcome::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

TYPED_TEST(resource_contract, wait_range_with_a_stopped_token_is_cancelled) {
    std::stop_source stop;
    stop.request_stop();
    EXPECT_EQ(this->res_->wait_range({0, 10}, stop.get_token()).value(), wait_outcome::cancelled);
}

TYPED_TEST(resource_contract, wait_range_past_the_final_length_is_eof) {
    this->write(0, 10);
    ASSERT_TRUE(this->res_->commit(10));
    EXPECT_EQ(this->res_->wait_range({10, 20}).value(), wait_outcome::eof);
    EXPECT_EQ(this->res_->wait_range({11, 11}).value(), wait_outcome::eof);
}

TYPED_TEST(resource_contract, wait_range_straddling_the_final_length_is_ready) {
    this->write(0, 10);
    ASSERT_TRUE(this->res_->commit(10));
    EXPECT_EQ(this->res_->wait_range({5, 500}).value(), wait_outcome::ready);
}

TYPED_TEST(resource_contract, commit_smaller_than_bytes_written_is_a_conflict) {
    this->write(0, 100);
    auto c = this->res_->commit(50);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), errc::length_conflict);
    EXPECT_EQ(this->res_->final_length(), std::nullopt);
}

TYPED_TEST(resource_contract, a_second_commit_must_repeat_the_same_length) {
    ASSERT_TRUE(this->res_->commit(100));
    EXPECT_TRUE(this->res_->commit(100));
    auto c = this->res_->commit(200);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), errc::length_conflict);
    EXPECT_EQ(this->res_->final_length(), 100u);
}

TYPED_TEST(resource_contract, write_past_the_committed_length_fails) {
    ASSERT_TRUE(this->res_->commit(100));
    const auto data = pattern(90, 20);
    auto w = this->res_->write_at(90, data);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), errc::past_final_length);
    EXPECT_EQ(this->res_->available_bytes(), 0u);
}

TYPED_TEST(resource_contract, a_failed_resource_returns_its_error) {
    this->write(0, 10);
    this->res_->fail(error(std::make_error_code(std::errc::connection_reset), "GET x"));
    std::vector<std::byte> out(10);
    auto r = this->res_->read_at(0, out);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::connection_reset);
    EXPECT_NE(r.error().message().find("GET x"), std::string::npos);
    auto w = this->res_->write_at(10, out);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), std::errc::connection_reset);
    EXPECT_EQ(this->res_->wait_range({0, 10}).value(), wait_outcome::failed);
    ASSERT_TRUE(this->res_->failure());
    EXPECT_EQ(*this->res_->failure(), std::errc::connection_reset);
}

TYPED_TEST(resource_contract, the_first_failure_wins) {
    this->res_->fail(error(std::make_error_code(std::errc::timed_out)));
    this->res_->fail(error(std::make_error_code(std::errc::io_error)));
    EXPECT_EQ(*this->res_->failure(), std::errc::timed_out);
}

TYPED_TEST(resource_contract, growth_callback_reports_only_newly_available_bytes) {
    std::vector<std::uint64_t> grown;
    auto res = this->backing_.make([&](std::uint64_t n) { grown.push_back(n); });
    const auto data = pattern(0, 100);
    ASSERT_TRUE(res->write_at(0, std::span(data).first(60)));
    ASSERT_TRUE(res->write_at(40, std::span(data).subspan(40, 60)));
    ASSERT_TRUE(res->write_at(0, std::span(data).first(50)));  // nothing new: no call
    EXPECT_EQ(grown, (std::vector<std::uint64_t>{60, 40}));
}

TYPED_TEST(resource_contract, complete_once_committed_and_every_byte_is_there) {
    this->write(0, 50);
    ASSERT_TRUE(this->res_->commit(100));
    EXPECT_FALSE(this->res_->complete());
    this->write(50, 50);
    EXPECT_TRUE(this->res_->complete());
    EXPECT_EQ(this->res_->available().ranges(), (std::vector<byte_range>{{0, 100}}));
}

TYPED_TEST(resource_contract, close_makes_later_calls_return_closed) {
    this->write(0, 10);
    ASSERT_TRUE(this->res_->close());
    std::vector<std::byte> out(10);
    EXPECT_EQ(this->res_->read_at(0, out).error(), errc::closed);
    EXPECT_EQ(this->res_->write_at(0, out).error(), errc::closed);
    EXPECT_EQ(this->res_->wait_range({0, 10}).error(), errc::closed);
    EXPECT_TRUE(this->res_->close());  // idempotent
}

TYPED_TEST(resource_contract, stored_bytes_grows_with_content) {
    EXPECT_EQ(this->res_->stored_bytes(), 0u);
    this->write(0, 100000);
    ASSERT_TRUE(this->res_->flush());
    EXPECT_GE(this->res_->stored_bytes(), 100000u);
}

// Async waits: completion is posted to the executor, never run inline.
TYPED_TEST(resource_contract, async_wait_completes_on_the_executor_not_inline) {
    this->write(0, 10);
    asio::io_context io;
    std::optional<result<wait_outcome>> got;
    this->res_->async_wait_range({0, 10}, io.get_executor(),
                                 [&](result<wait_outcome> r) { got = std::move(r); });
    EXPECT_FALSE(got);
    io.run();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->value(), wait_outcome::ready);
}

TYPED_TEST(resource_contract, async_wait_completes_when_the_bytes_arrive) {
    asio::io_context io;
    std::optional<result<wait_outcome>> got;
    this->res_->async_wait_range({0, 10}, io.get_executor(),
                                 [&](result<wait_outcome> r) { got = std::move(r); });
    EXPECT_EQ(io.poll(), 0u);
    EXPECT_FALSE(io.stopped());  // the pending wait is outstanding work
    this->write(0, 5);
    EXPECT_EQ(io.poll(), 0u);
    this->write(5, 5);
    io.run();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->value(), wait_outcome::ready);
}

TYPED_TEST(resource_contract, async_wait_is_cancelled_by_its_stop_token) {
    asio::io_context io;
    std::stop_source stop;
    std::optional<result<wait_outcome>> got;
    this->res_->async_wait_range(
        {0, 10}, io.get_executor(), [&](result<wait_outcome> r) { got = std::move(r); },
        stop.get_token());
    EXPECT_EQ(io.poll(), 0u);
    stop.request_stop();
    io.run();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->value(), wait_outcome::cancelled);
}

TYPED_TEST(resource_contract, async_wait_reports_failure_and_eof) {
    asio::io_context io;
    std::vector<wait_outcome> got;
    auto keep = [&](result<wait_outcome> r) { got.push_back(r.value()); };
    this->write(0, 10);
    ASSERT_TRUE(this->res_->commit(10));
    this->res_->async_wait_range({10, 20}, io.get_executor(), keep);
    io.run();
    io.restart();
    auto other = this->backing_.make();
    other->async_wait_range({0, 20}, io.get_executor(), keep);
    other->fail(error(std::make_error_code(std::errc::io_error)));
    io.run();
    EXPECT_EQ(got, (std::vector<wait_outcome>{wait_outcome::eof, wait_outcome::failed}));
}

TYPED_TEST(resource_contract, destroying_the_resource_cancels_pending_async_waits) {
    asio::io_context io;
    std::optional<result<wait_outcome>> got;
    this->res_->async_wait_range({0, 10}, io.get_executor(),
                                 [&](result<wait_outcome> r) { got = std::move(r); });
    this->res_.reset();
    io.run();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->value(), wait_outcome::cancelled);
}

TEST(memory_resource, writes_beyond_the_max_size_fail) {
    memory_options o;
    o.max_size = 1000;
    auto res = memory_resource::create(o);
    const auto data = pattern(990, 20);
    auto w = res->write_at(990, data);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), errc::too_large);
    EXPECT_TRUE(res->write_at(980, data));
}

TEST(memory_resource, a_zero_max_size_rejects_every_byte) {
    auto res = memory_resource::create({.max_size = 0});
    const auto data = pattern(0, 1);
    EXPECT_EQ(res->write_at(0, data).error(), errc::too_large);
    EXPECT_TRUE(res->commit(0));
    std::vector<std::byte> out(1);
    EXPECT_EQ(res->read_at(0, out).value(), 0u);
}

TEST(memory_resource, a_huge_max_size_keeps_the_chunk_table_small) {
    auto res = memory_resource::create({.max_size = 1ull << 40});  // 16 MiB chunks
    const auto data = pattern(1ull << 39, 100);
    ASSERT_TRUE(res->write_at(1ull << 39, data));
    EXPECT_EQ(res->stored_bytes(), 16u << 20);
    std::vector<std::byte> out(100);
    EXPECT_EQ(res->read_at(1ull << 39, out).value(), 100u);
    EXPECT_EQ(out, data);
}

TEST(memory_resource, allocates_only_the_chunks_written) {
    memory_options o;
    o.max_size = 1 << 20;
    o.chunk_bytes = 4096;
    auto res = memory_resource::create(o);
    const auto data = pattern(0, 10);
    ASSERT_TRUE(res->write_at(500000, data));
    EXPECT_EQ(res->stored_bytes(), 4096u);
}

}  // namespace
}  // namespace kithara::storage::test
