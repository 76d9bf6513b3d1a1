// Compiles the example in the opening comment of kithara/hls/parser.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/hls/parser.hpp>

#include <string>
#include <string_view>

namespace snippets {

void use(const std::string&) {}

kithara::error hls_parser(std::string_view text) {
#include "hls/parser.inc"
    return {};
}

}  // namespace snippets
