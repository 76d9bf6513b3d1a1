// Compiles the example in the opening comment of kithara/core/deadline.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/core/deadline.hpp>

namespace snippets {

void core_deadline() {
#include "core/deadline.inc"
}

}  // namespace snippets
