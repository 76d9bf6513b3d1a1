// Compiles the example in the opening comment of kithara/file/error.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/file/error.hpp>
#include <kithara/file/file_source.hpp>

#include <string>

namespace snippets {

void file_error(const std::string& url, kithara::assets::asset_store& store,
                kithara::net::client& client) {
#include "file/error.inc"
}

}  // namespace snippets
