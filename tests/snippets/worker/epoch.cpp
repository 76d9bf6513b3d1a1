// Compiles the example in the opening comment of kithara/worker/epoch.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/worker/epoch.hpp>

#include <cstdint>

namespace snippets {

struct fetch {
    std::uint64_t offset;
    std::uint64_t length;
};

void worker_epoch(std::uint64_t offset, std::uint64_t len) {
#include "worker/epoch.inc"
}

}  // namespace snippets
