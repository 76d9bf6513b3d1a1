// Internal, header-only: CRC-32C (Castagnoli, reflected 0x82F63B78), the index and journal
// checksum. Uses the SSE4.2 crc32 instruction when the CPU has it (about 8 bytes per cycle) and a
// slice-by-8 table otherwise; both give identical results. Pure functions; any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define KITHARA_ASSETS_HAVE_SSE42_CRC 1
#endif

namespace kithara::assets::detail {

namespace crc_detail {
using table_t = std::array<std::array<std::uint32_t, 256>, 8>;
constexpr table_t make_tables() {
    table_t t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t i = 0; i < 256; ++i) {
        for (std::size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
    return t;
}
inline constexpr table_t tables = make_tables();
}  // namespace crc_detail

inline std::uint32_t crc32c_sw(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept {
    using crc_detail::tables;
    crc = ~crc;
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
    while (n >= 8) {
        const std::uint32_t lo = crc ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                        std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
        crc = tables[7][lo & 0xFF] ^ tables[6][(lo >> 8) & 0xFF] ^ tables[5][(lo >> 16) & 0xFF] ^
              tables[4][lo >> 24] ^ tables[3][p[4]] ^ tables[2][p[5]] ^ tables[1][p[6]] ^
              tables[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n-- > 0) crc = (crc >> 8) ^ tables[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

#ifdef KITHARA_ASSETS_HAVE_SSE42_CRC
__attribute__((target("sse4.2"))) inline std::uint32_t crc32c_hw(std::span<const std::byte> data,
                                                                 std::uint32_t crc = 0) noexcept {
    std::uint64_t c = ~crc;
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::size_t n = data.size();
    while (n >= 8) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);  // little-endian load, as the instruction expects
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    auto c32 = static_cast<std::uint32_t>(c);
    while (n-- > 0) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}
#endif

inline std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept {
#ifdef KITHARA_ASSETS_HAVE_SSE42_CRC
    static const bool hw = __builtin_cpu_supports("sse4.2");
    if (hw) return crc32c_hw(data, crc);
#endif
    return crc32c_sw(data, crc);
}

}  // namespace kithara::assets::detail
