// Compiles the example in the opening comment of kithara/stream/reader.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/stream/reader.hpp>

#include <memory>
#include <span>
#include <stop_token>

namespace snippets {

void stream_reader(std::shared_ptr<kithara::stream::source> src, std::span<std::byte> buf,
                   std::stop_token stop) {
#include "stream/reader.inc"
}

}  // namespace snippets
