// Compiles the example in the opening comment of kithara/kithara/error.hpp (extracted at build
// time); this file only supplies the names the example uses.
#include <kithara/kithara/context.hpp>
#include <kithara/kithara/error.hpp>

namespace snippets {

void kithara_error(kithara::context& ctx) {
#include "kithara/error.inc"
}

}  // namespace snippets
