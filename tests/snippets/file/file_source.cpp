// Compiles the example in the opening comment of kithara/file/file_source.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/decode/decoder.hpp>
#include <kithara/file/file_source.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <string>

namespace snippets {

void file_file_source(kithara::worker::io_runtime& io, const std::string& url,
                      kithara::assets::asset_store& store) {
#include "file/file_source.inc"
}

}  // namespace snippets
