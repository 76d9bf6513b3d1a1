// Compiles the example in the opening comment of kithara/storage/streaming_resource.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/storage/streaming_resource.hpp>

#include <span>
#include <stop_token>

namespace snippets {

void storage_streaming_resource(std::span<const std::byte> chunk, std::span<std::byte> buf,
                                kithara::deadline until, std::stop_token stop) {
#include "storage/streaming_resource.inc"
}

}  // namespace snippets
