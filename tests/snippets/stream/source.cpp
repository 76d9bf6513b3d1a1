// Compiles the example in the opening comment of kithara/stream/source.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/stream/memory_source.hpp>
#include <kithara/stream/source.hpp>

#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

namespace snippets {

void stream_source(std::vector<std::byte> bytes, std::span<std::byte> buf, std::stop_token stop,
                   kithara::result<std::size_t>& n) {
#include "stream/source.inc"
}

}  // namespace snippets
