// Compiles the example in the opening comment of kithara/stream/concat_source.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/stream/concat_source.hpp>

#include <memory>
#include <optional>

namespace snippets {

using kithara::stream::media_hints;

void stream_concat_source(std::shared_ptr<kithara::stream::source> init,
                          std::shared_ptr<kithara::stream::source> seg1,
                          std::shared_ptr<kithara::stream::source> init2) {
#include "stream/concat_source.inc"
}

}  // namespace snippets
