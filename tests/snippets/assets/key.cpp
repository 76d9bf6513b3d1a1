// Compiles the example in the opening comment of kithara/assets/key.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/assets/key.hpp>

namespace snippets {

void assets_key() {
#include "assets/key.inc"
}

}  // namespace snippets
