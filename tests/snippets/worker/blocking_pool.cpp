// Compiles the example in the opening comment of kithara/worker/blocking_pool.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/worker/blocking_pool.hpp>

#include <stop_token>

namespace snippets {

void decode_some(std::stop_token stop);

void worker_blocking_pool() {
#include "worker/blocking_pool.inc"
}

}  // namespace snippets
