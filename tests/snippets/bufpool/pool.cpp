// Compiles the example in the opening comment of kithara/bufpool/pool.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/bufpool/pool.hpp>

#include <span>

namespace snippets {

void bufpool_pool() {
#include "bufpool/pool.inc"
}

}  // namespace snippets
