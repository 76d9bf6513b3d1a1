// Compiles the example in the opening comment of kithara/assets/transform.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/assets/transform.hpp>

#include <array>
#include <cstdint>
#include <span>

namespace snippets {

void assets_transform(std::span<const std::uint8_t> key16, std::span<const std::uint8_t> iv16,
                      std::span<const std::byte> ciphertext, std::uint64_t media_seq) {
#include "assets/transform.inc"
}

}  // namespace snippets
