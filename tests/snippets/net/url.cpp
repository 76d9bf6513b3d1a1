// Compiles the example in the opening comment of kithara/net/url.hpp (extracted at
// build time); this file only supplies the names the example uses.
#undef NDEBUG  // the example is an assert: compile it in every build type
#include <kithara/net/url.hpp>

#include <cassert>

namespace snippets {

void net_url() {
#include "net/url.inc"
}

}  // namespace snippets
