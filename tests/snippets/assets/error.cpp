// Compiles the example in the opening comment of kithara/assets/error.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/assets/asset_store.hpp>
#include <kithara/assets/error.hpp>

#include <string>

namespace snippets {

void assets_error() {
#include "assets/error.inc"
}

}  // namespace snippets
