// Compiles the example in the opening comment of kithara/worker/thread.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/worker/thread.hpp>

#include <string>

namespace snippets {

void worker_thread() {
#include "worker/thread.inc"
}

}  // namespace snippets
