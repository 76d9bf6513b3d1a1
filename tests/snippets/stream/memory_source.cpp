// Compiles the example in the opening comment of kithara/stream/memory_source.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/stream/memory_source.hpp>

#include <span>
#include <utility>
#include <vector>

namespace snippets {

void stream_memory_source(std::vector<std::byte> bytes, std::span<const std::byte> span) {
#include "stream/memory_source.inc"
}

}  // namespace snippets
