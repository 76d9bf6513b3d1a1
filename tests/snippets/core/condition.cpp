// Compiles the example in the opening comment of kithara/core/condition.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/core/condition.hpp>
#include <kithara/core/error.hpp>
#include <kithara/worker/error.hpp>

namespace snippets {

void retry();

void core_condition() {
#include "core/condition.inc"
}

}  // namespace snippets
