// Compiles the example in the opening comment of kithara/decode/error.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/decode/decoder.hpp>
#include <kithara/decode/error.hpp>

#include <string>

namespace snippets {

void show(const std::string& line);

void decode_error(kithara::decode::decoder* dec) {
#include "decode/error.inc"
}

}  // namespace snippets
