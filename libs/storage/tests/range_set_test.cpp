#include <kithara/storage/error.hpp>
#include <kithara/storage/range_set.hpp>

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace kithara::storage {
namespace {

using ranges = std::vector<byte_range>;

TEST(range_set, starts_empty) {
    range_set s;
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s.size(), 0u);
    EXPECT_EQ(s.covered_bytes(), 0u);
    EXPECT_EQ(s.max_end(), 0u);
    EXPECT_FALSE(s.contains(std::uint64_t{0}));
    EXPECT_TRUE(s.contains(byte_range{5, 5}));
}

TEST(range_set, insert_returns_newly_covered_bytes) {
    range_set s;
    EXPECT_EQ(s.insert({10, 20}), 10u);
    EXPECT_EQ(s.insert({15, 25}), 5u);
    EXPECT_EQ(s.insert({10, 25}), 0u);
    EXPECT_EQ(s.covered_bytes(), 15u);
}

TEST(range_set, adjacent_ranges_coalesce) {
    range_set s;
    s.insert({0, 100});
    s.insert({100, 200});
    EXPECT_EQ(s.ranges(), (ranges{{0, 200}}));
}

TEST(range_set, disjoint_ranges_stay_separate_and_ordered) {
    range_set s;
    s.insert({300, 400});
    s.insert({0, 100});
    s.insert({150, 200});
    EXPECT_EQ(s.ranges(), (ranges{{0, 100}, {150, 200}, {300, 400}}));
    EXPECT_EQ(s.covered_bytes(), 250u);
}

TEST(range_set, insert_bridging_many_ranges_merges_them) {
    range_set s;
    for (std::uint64_t i = 0; i < 10; ++i) s.insert({i * 10, i * 10 + 5});
    EXPECT_EQ(s.size(), 10u);
    // [3, 97) covers 94 bytes, of which [3,5) and nine 5-byte ranges minus [0,3) were present.
    EXPECT_EQ(s.insert({3, 97}), 97u - 50u);
    EXPECT_EQ(s.ranges(), (ranges{{0, 97}}));
    EXPECT_EQ(s.covered_bytes(), 97u);
}

TEST(range_set, empty_and_reversed_inserts_are_ignored) {
    range_set s;
    EXPECT_EQ(s.insert({5, 5}), 0u);
    EXPECT_EQ(s.insert({9, 3}), 0u);
    EXPECT_TRUE(s.empty());
}

TEST(range_set, contains_requires_every_byte) {
    range_set s;
    s.insert({0, 10});
    s.insert({20, 30});
    EXPECT_TRUE(s.contains(byte_range{0, 10}));
    EXPECT_TRUE(s.contains(byte_range{22, 25}));
    EXPECT_FALSE(s.contains(byte_range{5, 21}));
    EXPECT_FALSE(s.contains(byte_range{9, 11}));
    EXPECT_FALSE(s.contains(std::uint64_t{10}));
    EXPECT_TRUE(s.contains(std::uint64_t{29}));
    EXPECT_FALSE(s.contains(std::uint64_t{30}));
}

TEST(range_set, contiguous_end_reports_the_run_from_an_offset) {
    range_set s;
    s.insert({10, 20});
    s.insert({30, 40});
    EXPECT_EQ(s.contiguous_end(10), 20u);
    EXPECT_EQ(s.contiguous_end(15), 20u);
    EXPECT_EQ(s.contiguous_end(20), 20u);
    EXPECT_EQ(s.contiguous_end(5), 5u);
    EXPECT_EQ(s.contiguous_end(39), 40u);
    EXPECT_EQ(s.contiguous_end(100), 100u);
}

TEST(range_set, gaps_lists_the_missing_parts) {
    range_set s;
    s.insert({10, 20});
    s.insert({30, 40});
    EXPECT_EQ(s.gaps({0, 50}), (ranges{{0, 10}, {20, 30}, {40, 50}}));
    EXPECT_EQ(s.gaps({12, 35}), (ranges{{20, 30}}));
    EXPECT_EQ(s.gaps({10, 20}), ranges{});
    EXPECT_EQ(s.first_gap({15, 50}), (byte_range{20, 30}));
    EXPECT_EQ(s.first_gap({30, 40}), std::nullopt);
}

TEST(range_set, handles_offsets_near_the_top_of_the_64_bit_space) {
    range_set s;
    const std::uint64_t top = UINT64_MAX;
    s.insert({top - 10, top});
    s.insert({top - 20, top - 10});
    EXPECT_EQ(s.ranges(), (ranges{{top - 20, top}}));
    EXPECT_EQ(s.contiguous_end(top - 1), top);
}

TEST(byte_range, at_rejects_overflow) {
    auto ok = byte_range::at(UINT64_MAX - 10, 10);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->end, UINT64_MAX);
    auto bad = byte_range::at(UINT64_MAX - 10, 11);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), errc::invalid_range);
    EXPECT_NE(bad.error().message().find("overflows"), std::string::npos);
}

TEST(byte_range, reversed_range_is_invalid_and_empty) {
    constexpr byte_range r{10, 5};
    EXPECT_FALSE(r.valid());
    EXPECT_TRUE(r.empty());
    EXPECT_EQ(r.size(), 0u);
}

// Randomized against a bitmap oracle, in several universes so both the inline one-range form and
// the map form (and the transitions between them) are exercised.
TEST(range_set, matches_a_bitmap_oracle_under_random_inserts) {
    std::mt19937_64 rng(12345);
    for (int round = 0; round < 200; ++round) {
        const std::uint64_t universe = 16 + rng() % 512;
        std::vector<bool> oracle(universe, false);
        range_set s;
        const int inserts = 1 + static_cast<int>(rng() % 40);
        for (int i = 0; i < inserts; ++i) {
            const std::uint64_t a = rng() % universe;
            const std::uint64_t len = rng() % (universe / 4 + 1);
            const std::uint64_t b = std::min(universe, a + len);
            std::uint64_t fresh = 0;
            for (std::uint64_t k = a; k < b; ++k) {
                if (!oracle[k]) ++fresh;
                oracle[k] = true;
            }
            ASSERT_EQ(s.insert({a, b}), fresh);

            // Structure: disjoint, non-adjacent, ordered, non-empty; bytes agree.
            std::uint64_t covered = 0;
            std::uint64_t prev_end = 0;
            bool first = true;
            for (const auto& r : s.ranges()) {
                ASSERT_LT(r.begin, r.end);
                if (!first) {
                    ASSERT_GT(r.begin, prev_end);
                }
                first = false;
                prev_end = r.end;
                covered += r.size();
                for (std::uint64_t k = r.begin; k < r.end; ++k) ASSERT_TRUE(oracle[k]);
            }
            ASSERT_EQ(covered, s.covered_bytes());
            ASSERT_EQ(covered,
                      static_cast<std::uint64_t>(std::count(oracle.begin(), oracle.end(), true)));

            // Queries agree with the oracle.
            for (int q = 0; q < 8; ++q) {
                const std::uint64_t qa = rng() % universe;
                const std::uint64_t qb = std::min(universe, qa + rng() % 64);
                bool all = true;
                for (std::uint64_t k = qa; k < qb; ++k) all = all && oracle[k];
                ASSERT_EQ(s.contains(byte_range{qa, qb}), all) << qa << ".." << qb;
                std::uint64_t run = qa;
                while (run < universe && oracle[run]) ++run;
                ASSERT_EQ(s.contiguous_end(qa), run);
                std::uint64_t missing = 0;
                for (const auto& g : s.gaps({qa, qb})) missing += g.size();
                std::uint64_t oracle_missing = 0;
                for (std::uint64_t k = qa; k < qb; ++k) oracle_missing += oracle[k] ? 0 : 1;
                ASSERT_EQ(missing, oracle_missing);
            }
        }
    }
}

}  // namespace
}  // namespace kithara::storage
