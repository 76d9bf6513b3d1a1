// Compiles the example in the opening comment of kithara/core/error.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/core/error.hpp>

#include <string>

namespace snippets {

void core_error() {
#include "core/error.inc"
}

}  // namespace snippets
