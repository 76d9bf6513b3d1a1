// Compiles the example in the opening comment of kithara/hls/loader.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/hls/loader.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/io_runtime.hpp>

namespace snippets {

void hls_loader() {
#include "hls/loader.inc"
}

}  // namespace snippets
