// Compiles the example in the opening comment of kithara/storage/atomic_resource.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/storage/atomic_resource.hpp>

#include <span>

namespace snippets {

void storage_atomic_resource(std::span<const std::byte> bytes) {
#include "storage/atomic_resource.inc"
}

}  // namespace snippets
