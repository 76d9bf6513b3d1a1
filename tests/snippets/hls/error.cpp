// Compiles the example in the opening comment of kithara/hls/error.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/hls/error.hpp>
#include <kithara/hls/parser.hpp>

#include <string>
#include <string_view>

namespace snippets {

void hls_error(std::string_view text) {
#include "hls/error.inc"
}

}  // namespace snippets
