// Compiles the example in the opening comment of kithara/storage/memory_resource.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/storage/memory_resource.hpp>

#include <span>

namespace snippets {

void storage_memory_resource(std::span<const std::byte> bytes, std::span<std::byte> out) {
#include "storage/memory_resource.inc"
}

}  // namespace snippets
