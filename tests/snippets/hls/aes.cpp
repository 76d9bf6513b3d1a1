// Compiles the example in the opening comment of kithara/hls/aes.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/hls/aes.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace snippets {

void hls_aes(std::span<const std::uint8_t, 16> key16, std::uint64_t seq,
             std::span<const std::byte> chunk, std::span<std::byte> out,
             std::span<std::byte> tail) {
#include "hls/aes.inc"
}

}  // namespace snippets
