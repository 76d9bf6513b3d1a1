// Compiles the example in the opening comment of kithara/decode/types.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/decode/decoder.hpp>
#include <kithara/decode/types.hpp>

#include <memory>

namespace snippets {

void decode_types(std::shared_ptr<kithara::stream::source> src) {
#include "decode/types.inc"
}

}  // namespace snippets
