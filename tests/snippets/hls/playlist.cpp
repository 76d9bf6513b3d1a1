// Compiles the example in the opening comment of kithara/hls/playlist.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/hls/parser.hpp>
#include <kithara/hls/playlist.hpp>

#include <string>

namespace snippets {

void fetch_key(const std::string&) {}

void hls_playlist(const kithara::hls::playlist& parsed) {
#include "hls/playlist.inc"
}

}  // namespace snippets
