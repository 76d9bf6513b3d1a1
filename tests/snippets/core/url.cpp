// Compiles the example in the opening comment of kithara/core/url.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/core/url.hpp>

namespace snippets {

void core_url() {
#include "core/url.inc"
}

}  // namespace snippets
