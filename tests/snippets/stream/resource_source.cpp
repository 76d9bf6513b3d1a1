// Compiles the example in the opening comment of kithara/stream/resource_source.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/storage/memory_resource.hpp>
#include <kithara/stream/reader.hpp>
#include <kithara/stream/resource_source.hpp>

#include <memory>

namespace snippets {

void stream_resource_source() {
#include "stream/resource_source.inc"
}

}  // namespace snippets
