// Compiles the example in the opening comment of kithara/worker/error.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/worker/channel.hpp>
#include <kithara/worker/error.hpp>

#include <string>
#include <utility>

namespace snippets {

void worker_error(kithara::worker::channel<int>& ch, int item) {
#include "worker/error.inc"
}

}  // namespace snippets
