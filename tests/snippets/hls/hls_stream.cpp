// Compiles the example in the opening comment of kithara/hls/hls_stream.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/hls/hls_stream.hpp>

#include <chrono>
#include <string>

namespace snippets {

void play(const kithara::bufpool::sample_buffer&, std::chrono::nanoseconds) {}

void hls_hls_stream(const std::string& url, kithara::assets::asset_store& store,
                    kithara::net::client& client) {
#include "hls/hls_stream.inc"
}

}  // namespace snippets
