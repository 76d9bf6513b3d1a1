// segment_table: absolute indices that survive dropping the beginning, elements that never
// move while the table grows and drops, whole blocks dropped only, the retained bound, the
// binary search over what is held, and a short first block for a table of known size.
#include "detail/segment_table.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kithara::hls::detail {
namespace {

constexpr std::size_t b = segment_table<std::string>::block;

TEST(segment_table, grows_drops_whole_blocks_and_keeps_indices_and_addresses) {
    segment_table<std::string> t(4 * b);
    std::vector<const std::string*> at;
    for (std::size_t i = 0; i < 3 * b + 5; ++i) {
        t.push_back(std::to_string(i));
        at.push_back(&t[i]);
    }
    EXPECT_EQ(t.first(), 0u);
    EXPECT_EQ(t.size(), 3 * b + 5);
    t.drop_before(b + 3);  // only the first whole block goes
    EXPECT_EQ(t.first(), b);
    for (std::size_t i = b; i < t.size(); ++i) {
        EXPECT_EQ(t[i], std::to_string(i));
        EXPECT_EQ(&t[i], at[i]) << i;  // never moved
    }
    t.drop_before(100 * b);  // past the end: everything but the block being filled
    EXPECT_EQ(t.first(), 3 * b);
    EXPECT_EQ(t[3 * b + 4], std::to_string(3 * b + 4));
    EXPECT_EQ(t.back(), std::to_string(3 * b + 4));
}

TEST(segment_table, holds_at_most_its_bound_and_runs_on_once_the_beginning_goes) {
    segment_table<std::string> t(2 * b);  // slots for 2 * b / b + 2 = 4 blocks
    std::size_t i = 0;
    while (!t.full()) t.push_back(std::to_string(i++));
    EXPECT_EQ(i, 4 * b);
    t.drop_before(2 * b);
    EXPECT_FALSE(t.full());
    for (std::size_t k = 0; k < 2 * b; ++k) t.push_back(std::to_string(i++));
    EXPECT_TRUE(t.full());
    EXPECT_EQ(t.size(), 6 * b);
    for (std::size_t k = t.first(); k < t.size(); ++k) EXPECT_EQ(t[k], std::to_string(k));
}

TEST(segment_table, partition_point_searches_what_is_held) {
    segment_table<int> t(8 * b);
    for (int i = 0; i < static_cast<int>(5 * b); ++i) t.push_back(2 * i);
    t.drop_before(2 * b);
    EXPECT_EQ(t.partition_point([](int v) { return v < 0; }), 2 * b);  // before: the first held
    EXPECT_EQ(t.partition_point([](int v) { return v < static_cast<int>(6 * b + 1); }), 3 * b + 1);
    EXPECT_EQ(t.partition_point([](int) { return true; }), 5 * b);
}

TEST(segment_table, a_table_of_known_size_allocates_a_short_first_block) {
    segment_table<std::string> t(5, 5);
    for (int i = 0; i < 5; ++i) t.push_back("s" + std::to_string(i));
    EXPECT_EQ(t.size(), 5u);
    EXPECT_EQ(t[4], "s4");
    EXPECT_FALSE(t.empty());
}

}  // namespace
}  // namespace kithara::hls::detail
