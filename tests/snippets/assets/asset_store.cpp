// Compiles the example in the opening comment of kithara/assets/asset_store.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/assets/asset_store.hpp>

namespace snippets {

void assets_asset_store() {
#include "assets/asset_store.inc"
}

}  // namespace snippets
