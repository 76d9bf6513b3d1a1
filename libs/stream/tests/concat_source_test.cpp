#include <kithara/storage/memory_resource.hpp>
#include <kithara/stream/concat_source.hpp>
#include <kithara/stream/error.hpp>
#include <kithara/stream/memory_source.hpp>
#include <kithara/stream/reader.hpp>
#include <kithara/stream/resource_source.hpp>

#include <gtest/gtest.h>

#include <array>
#include <thread>

using namespace kithara;
using namespace kithara::stream;

namespace {
std::vector<std::byte> bytes_from(std::size_t n, int seed) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::byte>((i * 13 + static_cast<std::size_t>(seed)) & 0xff);
    return v;
}

// Everything a reader delivers from `src` until the proven end.
std::vector<std::byte> read_all(std::shared_ptr<source> src) {
    reader_options o;
    o.prefetch_bytes = 0;
    reader rd(std::move(src), o);
    std::vector<std::byte> out;
    std::array<std::byte, 97> buf{};  // odd size: reads straddle part joins
    for (;;) {
        auto n = rd.read(buf);
        EXPECT_TRUE(n) << n.error().message();
        if (!n || *n == 0) break;
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    return out;
}

media_hints container(const char* name) {
    media_hints h;
    h.container = name;
    return h;
}
}  // namespace

TEST(concat_source, parts_and_byte_ranges_read_as_one_byte_space) {
    const auto a = bytes_from(300, 1), b = bytes_from(1000, 2), c = bytes_from(50, 3);
    auto cat = concat_source::create(container("mpegts"));
    auto shared_b = memory_source::create(b);
    ASSERT_TRUE(cat->append(memory_source::create(a)));
    ASSERT_TRUE(cat->append(shared_b, byte_range{100, 400}));  // a BYTERANGE sub-range
    ASSERT_TRUE(cat->append(memory_source::create(c)));
    ASSERT_TRUE(cat->append(shared_b, byte_range{900, 1000}));  // the same source again, no copy
    EXPECT_EQ(cat->length(), std::nullopt);                     // not finished
    cat->finish();
    EXPECT_EQ(cat->length(), 300u + 300u + 50u + 100u);
    std::vector<std::byte> expect(a);
    expect.insert(expect.end(), b.begin() + 100, b.begin() + 400);
    expect.insert(expect.end(), c.begin(), c.end());
    expect.insert(expect.end(), b.begin() + 900, b.end());
    EXPECT_EQ(read_all(cat), expect);
    EXPECT_EQ(cat->hints().container, "mpegts");
    EXPECT_EQ(cat->part_count(), 4u);
}

TEST(concat_source, boundary_is_declared_at_the_parts_first_byte) {
    auto cat = concat_source::create(container("mov"));
    ASSERT_TRUE(cat->append(memory_source::create(bytes_from(700, 1))));
    ASSERT_TRUE(cat->append(memory_source::create(bytes_from(500, 2))));
    ASSERT_TRUE(
        cat->append(memory_source::create(bytes_from(800, 3)), std::nullopt, container("mpegts")));
    auto b = cat->boundary_after(0);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->offset, 1200u);
    EXPECT_EQ(b->hints.container, "mpegts");
    EXPECT_FALSE(cat->boundary_after(1200));
}

TEST(concat_source, waits_past_the_appended_parts_until_the_next_append_or_finish) {
    auto cat = concat_source::create();
    ASSERT_TRUE(cat->append(memory_source::create(bytes_from(100, 1))));
    std::array<std::byte, 16> buf{};
    auto na = cat->read_at(100, buf);
    ASSERT_FALSE(na);
    EXPECT_EQ(na.error().code(), errc::not_available);
    EXPECT_EQ(cat->wait_range({100, 101}, std::chrono::steady_clock::now(), {}).value(),
              wait_status::timed_out);
    std::stop_source stop;
    stop.request_stop();
    EXPECT_EQ(cat->wait_range({100, 101}, std::nullopt, stop.get_token()).value(),
              wait_status::cancelled);

    std::jthread appender([&] {
        ASSERT_TRUE(cat->append(memory_source::create(bytes_from(10, 2))));
        cat->finish();
    });
    EXPECT_EQ(cat->wait_range({100, 110}, std::nullopt, {}).value(), wait_status::ready);
    appender.join();
    EXPECT_EQ(cat->read_at(105, buf).value(), 5u);
    EXPECT_EQ(cat->wait_range({110, 111}, std::nullopt, {}).value(), wait_status::eof);
    EXPECT_EQ(cat->read_at(110, buf).value(), 0u);
    EXPECT_FALSE(cat->append(memory_source::create(bytes_from(1, 1))));  // after finish
}

TEST(concat_source, a_part_still_downloading_places_the_next_parts_when_it_ends) {
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    auto growing = resource_source::create(res);
    const auto head = bytes_from(64, 5), tail = bytes_from(36, 6), next = bytes_from(40, 7);
    ASSERT_TRUE(res->write_at(0, head));
    auto cat = concat_source::create();
    ASSERT_TRUE(cat->append(growing));
    ASSERT_TRUE(cat->append(memory_source::create(next), std::nullopt, container("aac")));
    cat->finish();
    EXPECT_EQ(cat->length(), std::nullopt);           // the first part's length is unknown
    EXPECT_EQ(cat->boundary_after(0), std::nullopt);  // nor where the second part starts
    std::jthread writer([&] {
        ASSERT_TRUE(res->write_at(64, tail));
        ASSERT_TRUE(res->commit(100));
    });
    std::vector<std::byte> expect(head);
    expect.insert(expect.end(), tail.begin(), tail.end());
    expect.insert(expect.end(), next.begin(), next.end());
    EXPECT_EQ(read_all(cat), expect);
    writer.join();
    EXPECT_EQ(cat->length(), 140u);
    ASSERT_TRUE(cat->boundary_after(0));
    EXPECT_EQ(cat->boundary_after(0)->offset, 100u);
}

TEST(concat_source, rejects_an_inverted_range) {
    auto cat = concat_source::create();
    EXPECT_FALSE(cat->append(memory_source::create(bytes_from(10, 1)), byte_range{8, 2}));
}

TEST(concat_source, on_demand_appends_the_next_part_on_the_reading_thread) {
    const auto a = bytes_from(300, 1), b = bytes_from(200, 2);
    auto cat = concat_source::create(container("mpegts"));
    ASSERT_TRUE(cat->append(memory_source::create(a)));
    std::vector<std::size_t> calls;  // part count at each demand
    const auto reader_thread = std::this_thread::get_id();
    cat->on_demand([&, weak = std::weak_ptr<concat_source>(cat)] {
        auto c = weak.lock();
        EXPECT_EQ(std::this_thread::get_id(), reader_thread);
        calls.push_back(c->part_count());
        if (c->part_count() == 1)
            EXPECT_TRUE(c->append(memory_source::create(b)));
        else
            c->finish();
    });
    std::vector<std::byte> expect(a);
    expect.insert(expect.end(), b.begin(), b.end());
    EXPECT_EQ(read_all(cat), expect);
    EXPECT_EQ(calls, (std::vector<std::size_t>{1, 2}));  // once per part count
}

// A long sequential run lets go of the parts its reader passed: their sources are freed, reads
// there fail with invalid_seek, offsets and the parts after them are unchanged, and parts
// appended later (on demand) are placed after the released bytes.
TEST(concat_source, released_parts_free_their_sources_and_keep_the_offsets) {
    const auto a = bytes_from(300, 1), b = bytes_from(200, 2), c = bytes_from(100, 3);
    auto cat = concat_source::create(container("mpegts"));
    auto first = memory_source::create(a);
    std::weak_ptr<source> watch = first;
    ASSERT_TRUE(cat->append(std::move(first)));
    ASSERT_TRUE(cat->append(memory_source::create(b)));
    ASSERT_TRUE(cat->append(memory_source::create(c)));
    cat->release_parts_before(2);
    EXPECT_TRUE(watch.expired());  // the first two parts' sources are gone
    EXPECT_EQ(cat->part_count(), 3u);
    std::array<std::byte, 10> buf{};
    auto gone = cat->read_at(250, buf);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error(), errc::invalid_seek);
    auto w = cat->wait_range({0, 10}, std::nullopt, {});
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), errc::invalid_seek);
    // The third part is still at 500, and a part appended now follows it.
    auto n = cat->read_at(500, buf);
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, buf.size());
    EXPECT_TRUE(std::equal(buf.begin(), buf.end(), c.begin()));
    cat->release_parts_before(3);
    const auto d = bytes_from(40, 4);
    ASSERT_TRUE(cat->append(memory_source::create(d)));
    cat->finish();
    EXPECT_EQ(cat->length(), 300u + 200u + 100u + 40u);
    n = cat->read_at(600, buf);
    ASSERT_TRUE(n);
    EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n), d.begin()));
    EXPECT_EQ(cat->part_count(), 4u);
}

// A part whose extent is not known yet (still downloading) is never released, nor what follows.
TEST(concat_source, a_part_of_unknown_extent_is_not_released) {
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    auto cat = concat_source::create(container("mpegts"));
    ASSERT_TRUE(cat->append(memory_source::create(bytes_from(100, 1))));
    ASSERT_TRUE(cat->append(resource_source::create(res)));
    ASSERT_TRUE(cat->append(memory_source::create(bytes_from(100, 2))));
    cat->release_parts_before(3);
    std::array<std::byte, 10> buf{};
    EXPECT_FALSE(cat->read_at(0, buf));  // the first part went
    const auto data = bytes_from(50, 3);
    ASSERT_TRUE(res->write_at(0, data));
    ASSERT_TRUE(res->commit(50));
    auto n = cat->read_at(100, buf);  // the part still downloading stayed
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_TRUE(std::equal(buf.begin(), buf.end(), data.begin()));
}
