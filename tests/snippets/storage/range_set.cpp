// Compiles the example in the opening comment of kithara/storage/range_set.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/storage/range_set.hpp>

namespace snippets {

void storage_range_set() {
#include "storage/range_set.inc"
}

}  // namespace snippets
