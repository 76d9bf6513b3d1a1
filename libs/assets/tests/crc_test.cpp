// The index checksum (header-only internal code): hardware and table paths agree on CRC-32C.
#include "detail/crc32c.hpp"

#include "assets_support.hpp"

#include <gtest/gtest.h>

namespace kithara::assets {
namespace {

TEST(crc32c, matches_the_standard_check_value) {
    const auto data = test::bytes_of("123456789");
    EXPECT_EQ(detail::crc32c_sw(data), 0xE3069283u);
    EXPECT_EQ(detail::crc32c(data), 0xE3069283u);
}

TEST(crc32c, hardware_and_table_paths_agree_on_every_length_and_alignment) {
    const auto buf = test::pattern(4096, 3);
    for (std::size_t off = 0; off < 9; ++off) {
        for (std::size_t len : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 1000u, 4000u}) {
            const auto s = std::span(buf).subspan(off, len);
            EXPECT_EQ(detail::crc32c(s), detail::crc32c_sw(s)) << off << "+" << len;
        }
    }
}

}  // namespace
}  // namespace kithara::assets
