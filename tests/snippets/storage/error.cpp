// Compiles the example in the opening comment of kithara/storage/error.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/storage/error.hpp>
#include <kithara/storage/resource.hpp>

#include <span>
#include <string>

namespace snippets {

void storage_error(kithara::storage::resource& res, std::span<std::byte> buf) {
#include "storage/error.inc"
}

}  // namespace snippets
