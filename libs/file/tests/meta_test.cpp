#include "detail/meta.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace kithara::file::detail {
namespace {

meta sample() {
    meta m;
    m.gen = 7;
    m.etag = "\"5f3a-1e8480\"";
    m.last_modified = "Tue, 14 Nov 2023 22:13:20 GMT";
    m.length = 2'000'000;
    m.fetched_at = 1'700'000'000;
    m.fresh_until = 1'700'003'600;
    m.ranges = false;
    m.container = "mp3";
    return m;
}

TEST(file_meta, round_trips_every_field) {
    const meta m = sample();
    auto back = meta::parse(m.serialize());
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, m);
}

TEST(file_meta, round_trips_defaults_and_an_unknown_length) {
    const meta m;  // gen 0, no validators, length unknown, ranges on
    EXPECT_EQ(m.serialize(),
              "kithara-file-meta 1\ngen=0\netag=\nlast_modified=\nlength=-\nfetched_at=0\n"
              "fresh_until=0\nranges=1\ncontainer=\n");
    auto back = meta::parse(m.serialize());
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, m);
    EXPECT_FALSE(back->length);
}

TEST(file_meta, round_trips_values_holding_separators) {
    meta m = sample();
    m.etag = "W/\"a=b c\"";
    m.last_modified = "=";
    auto back = meta::parse(m.serialize());
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(*back, m);
}

TEST(file_meta, a_control_character_is_never_stored) {
    meta m = sample();
    m.etag = "\"x\"\ngen=999";  // would inject a line
    m.container = "mp3\r";
    auto back = meta::parse(m.serialize());
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->gen, 7u);
    EXPECT_EQ(back->etag, "");
    EXPECT_EQ(back->container, "");
    EXPECT_EQ(back->last_modified, m.last_modified);
}

TEST(file_meta, reads_version_1_written_before_the_container_key) {
    auto m = meta::parse(
        "kithara-file-meta 1\ngen=2\netag=\"e\"\nlast_modified=\nlength=10\nfetched_at=5\n"
        "fresh_until=0\nranges=1\n");
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->gen, 2u);
    EXPECT_EQ(m->etag, "\"e\"");
    EXPECT_EQ(m->length, 10u);
    EXPECT_EQ(m->container, "");
}

TEST(file_meta, skips_keys_a_later_version_1_may_add) {
    auto m = meta::parse(sample().serialize() + "future_key=whatever\n");
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(*m, sample());
}

TEST(file_meta, rejects_other_versions_by_name) {
    std::string text = sample().serialize();
    text.replace(text.find(" 1\n"), 3, " 2\n");
    auto m = meta::parse(text);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code(), std::errc::bad_message);
    EXPECT_NE(m.error().message().find("version 2 is not supported"), std::string::npos)
        << m.error().message();
    EXPECT_FALSE(meta::parse("kithara-file-meta x\n"));
    EXPECT_FALSE(meta::parse("kithara-file-meta 0\n"));
    EXPECT_FALSE(meta::parse("kithara-file-meta\ngen=1\n"));
}

TEST(file_meta, names_the_bad_line) {
    std::string text = sample().serialize();
    text.replace(text.find("length=2000000"), 14, "length=2e6");
    auto m = meta::parse(text);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message().find("line 5 'length=2e6'"), std::string::npos)
        << m.error().message();
}

TEST(file_meta, rejects_bad_values) {
    const std::string good = sample().serialize();
    for (auto [from, to] : {std::pair<std::string, std::string>{"gen=7", "gen=-7"},
                            {"gen=7", "gen="},
                            {"gen=7", "gen=99999999999999999999999"},
                            {"fetched_at=1700000000", "fetched_at=17e8"},
                            {"fresh_until=1700003600", "fresh_until= 1"},
                            {"ranges=0", "ranges=yes"},
                            {"length=2000000", "length="},
                            {"gen=7", "gen 7"}}) {
        std::string text = good;
        text.replace(text.find(from), from.size(), to);
        auto m = meta::parse(text);
        EXPECT_FALSE(m) << to;
        if (!m) {
            EXPECT_EQ(m.error().code(), std::errc::bad_message) << to;
        }
    }
}

TEST(file_meta, rejects_repeated_and_missing_keys) {
    auto repeated = meta::parse(sample().serialize() + "gen=8\n");
    ASSERT_FALSE(repeated);
    EXPECT_NE(repeated.error().message().find("repeated key"), std::string::npos);
    std::string text = sample().serialize();
    text.erase(text.find("gen=7\n"), 6);
    auto missing = meta::parse(text);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find("no 'gen'"), std::string::npos)
        << missing.error().message();
}

TEST(file_meta, every_truncation_is_a_clear_error) {
    // A cut anywhere fails with a message, except exactly before the optional container line:
    // that is a complete version 1 file written before the key existed.
    const std::string text = sample().serialize();
    const auto container_line = text.find("container=");
    for (std::size_t n = 0; n < text.size(); ++n) {
        auto m = meta::parse(std::string_view(text).substr(0, n));
        if (n == container_line) {
            ASSERT_TRUE(m) << m.error().message();
            meta expect = sample();
            expect.container.clear();
            EXPECT_EQ(*m, expect);
            continue;
        }
        ASSERT_FALSE(m) << "cut at " << n;
        EXPECT_NE(m.error().message().find("file metadata"), std::string::npos)
            << m.error().message();
    }
    EXPECT_TRUE(meta::parse(text));
}

TEST(file_meta, garbage_never_crashes) {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> byte(0, 255);
    const std::string good = sample().serialize();
    int accepted = 0;
    for (int i = 0; i < 5000; ++i) {
        std::string text;
        if (i % 2 == 0) {
            text.resize(static_cast<std::size_t>(i % 300));
            for (auto& c : text) c = static_cast<char>(byte(rng));
        } else {
            text = good;  // a few flipped bytes in a valid file
            for (int k = 0; k < 1 + i % 4; ++k)
                text[static_cast<std::size_t>(rng()) % text.size()] = static_cast<char>(byte(rng));
        }
        auto m = meta::parse(text);
        if (m) {
            ++accepted;  // only when every required line still reads as one
            EXPECT_EQ(meta::parse(m->serialize()).value(), *m);
        } else {
            EXPECT_NE(m.error().message().find("file metadata"), std::string::npos);
        }
    }
    EXPECT_LT(accepted, 2500);
}

TEST(file_meta, if_range_prefers_a_strong_etag) {
    meta m = sample();
    EXPECT_EQ(m.if_range(), m.etag);
    m.etag = "W/\"weak\"";
    EXPECT_EQ(m.if_range(), m.last_modified);
    m.last_modified.clear();
    EXPECT_EQ(m.if_range(), "");
    EXPECT_TRUE(m.has_validator());
    m.etag.clear();
    EXPECT_FALSE(m.has_validator());
}

}  // namespace
}  // namespace kithara::file::detail
