// Compiles the example in the opening comment of kithara/hls/timed_metadata.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/hls/playlist.hpp>
#include <kithara/hls/timed_metadata.hpp>

#include <string>

namespace snippets {

void show(double, const std::string&, const std::string&) {}

void hls_timed_metadata(const kithara::hls::media_playlist& media, std::string& album) {
#include "hls/timed_metadata.inc"
}

}  // namespace snippets
