// The attribute-list grammar and the typed value readers (RFC 8216 4.2).
#include "detail/attribute_list.hpp"

#include <gtest/gtest.h>

namespace kithara::hls::detail {
namespace {

TEST(attribute_list, quoted_strings_keep_commas_and_equals) {
    attribute_list a;
    ASSERT_EQ(a.parse(R"(CODECS="avc1.4d401e,mp4a.40.2",NAME="a=b",BANDWIDTH=5)", 64), "");
    ASSERT_EQ(a.all().size(), 3u);
    EXPECT_EQ(a.find("CODECS")->value, "avc1.4d401e,mp4a.40.2");
    EXPECT_TRUE(a.find("CODECS")->quoted);
    EXPECT_EQ(a.find("NAME")->value, "a=b");
    EXPECT_EQ(a.find("BANDWIDTH")->value, "5");
    EXPECT_FALSE(a.find("BANDWIDTH")->quoted);
}

TEST(attribute_list, names_match_exactly_never_by_substring) {
    attribute_list a;
    ASSERT_EQ(a.parse("AVERAGE-BANDWIDTH=100,X-BANDWIDTH=7", 64), "");
    EXPECT_EQ(a.find("BANDWIDTH"), nullptr);
    ASSERT_EQ(a.parse("AVERAGE-BANDWIDTH=100,BANDWIDTH=200", 64), "");
    EXPECT_EQ(a.find("BANDWIDTH")->value, "200");
    EXPECT_EQ(a.find("AVERAGE-BANDWIDTH")->value, "100");
}

TEST(attribute_list, empty_quoted_string_is_a_value) {
    attribute_list a;
    ASSERT_EQ(a.parse(R"(NAME="")", 64), "");
    EXPECT_EQ(a.find("NAME")->value, "");
}

TEST(attribute_list, blanks_after_commas_are_tolerated) {
    attribute_list a;
    ASSERT_EQ(a.parse(R"(METHOD=AES-128, URI="k")", 64), "");
    EXPECT_EQ(a.find("URI")->value, "k");
}

TEST(attribute_list, rejects_malformed_lists) {
    attribute_list a;
    EXPECT_NE(a.parse(R"(URI="unterminated)", 64), "");
    EXPECT_NE(a.parse("lower=1", 64), "");
    EXPECT_NE(a.parse("NAME", 64), "");
    EXPECT_NE(a.parse("NAME=", 64), "");
    EXPECT_NE(a.parse("A=1,,B=2", 64), "");
    EXPECT_NE(a.parse("A=1,", 64), "");
    EXPECT_NE(a.parse(R"(A="x"y)", 64), "");
    EXPECT_NE(a.parse(R"(A=x"y")", 64), "");
    EXPECT_NE(a.parse("A=1,A=2", 64), "");
    EXPECT_NE(a.parse("A=1,B=2,C=3", 2), "");
    EXPECT_EQ(a.parse("A=1,B=2", 2), "");
}

TEST(attribute_values, decimal_integer) {
    EXPECT_EQ(parse_decimal_integer("0"), 0u);
    EXPECT_EQ(parse_decimal_integer("18446744073709551615"), 18446744073709551615u);
    EXPECT_FALSE(parse_decimal_integer("18446744073709551616"));
    EXPECT_FALSE(parse_decimal_integer("-1"));
    EXPECT_FALSE(parse_decimal_integer("1.5"));
    EXPECT_FALSE(parse_decimal_integer(""));
    EXPECT_FALSE(parse_decimal_integer("+3"));
}

TEST(attribute_values, decimal_floating_point) {
    EXPECT_DOUBLE_EQ(*parse_decimal_float("9.009"), 9.009);
    EXPECT_DOUBLE_EQ(*parse_decimal_float("10"), 10.0);
    EXPECT_DOUBLE_EQ(*parse_decimal_float(".5"), 0.5);
    EXPECT_FALSE(parse_decimal_float("-1"));
    EXPECT_DOUBLE_EQ(*parse_decimal_float("-1.5", true), -1.5);
    EXPECT_FALSE(parse_decimal_float("1e3"));
    EXPECT_FALSE(parse_decimal_float("inf"));
    EXPECT_FALSE(parse_decimal_float("nan"));
    EXPECT_FALSE(parse_decimal_float("1.2.3"));
    EXPECT_FALSE(parse_decimal_float("."));
}

TEST(attribute_values, hexadecimal_iv) {
    auto iv = parse_iv("0x000102030405060708090a0B0c0d0e0f");
    ASSERT_TRUE(iv);
    for (std::size_t i = 0; i < 16; ++i) EXPECT_EQ((*iv)[i], i);
    auto small = parse_iv("0X1F");  // right-aligned, big-endian
    ASSERT_TRUE(small);
    EXPECT_EQ((*small)[15], 0x1F);
    EXPECT_EQ((*small)[14], 0);
    EXPECT_FALSE(parse_iv("0x"));
    EXPECT_FALSE(parse_iv("1234"));
    EXPECT_FALSE(parse_iv("0xZZ"));
    EXPECT_FALSE(parse_iv("0x000102030405060708090a0b0c0d0e0f00"));  // 136 bits
}

TEST(attribute_values, decimal_resolution) {
    std::uint64_t w = 0;
    std::uint64_t h = 0;
    ASSERT_TRUE(parse_resolution("1920x1080", w, h));
    EXPECT_EQ(w, 1920u);
    EXPECT_EQ(h, 1080u);
    EXPECT_FALSE(parse_resolution("1920X1080", w, h));
    EXPECT_FALSE(parse_resolution("1920x", w, h));
    EXPECT_FALSE(parse_resolution("x1080", w, h));
}

TEST(attribute_values, byterange) {
    auto a = parse_byterange("1000@200");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->length, 1000u);
    EXPECT_EQ(a->offset, 200u);
    auto b = parse_byterange("1000");
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->offset);
    EXPECT_FALSE(parse_byterange("@5"));
    EXPECT_FALSE(parse_byterange("5@"));
    EXPECT_FALSE(parse_byterange("-5"));
}

}  // namespace
}  // namespace kithara::hls::detail
