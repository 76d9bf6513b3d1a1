// Compiles the example in the opening comment of kithara/kithara/context.hpp (extracted at build
// time); this file only supplies the names the example uses.
#include <kithara/kithara/context.hpp>

#include <span>

namespace snippets {

namespace {
void play(const kithara::bufpool::sample_buffer&) {}
}  // namespace

void kithara_context() {
#include "kithara/context.inc"
}

}  // namespace snippets
