// Compiles the example in the opening comment of kithara/stream/error.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/stream/error.hpp>
#include <kithara/stream/reader.hpp>

#include <span>
#include <string>

namespace snippets {

void stream_error(kithara::stream::reader& reader, std::span<std::byte> buf) {
#include "stream/error.inc"
}

}  // namespace snippets
