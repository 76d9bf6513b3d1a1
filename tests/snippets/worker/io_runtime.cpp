// Compiles the example in the opening comment of kithara/worker/io_runtime.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/worker/io_runtime.hpp>

#include <asio/post.hpp>

namespace snippets {

kithara::result<> worker_io_runtime() {
#include "worker/io_runtime.inc"
    return {};
}

}  // namespace snippets
