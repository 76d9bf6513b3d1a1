// Compiles the example in the opening comment of kithara/kithara/audio_stream.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/kithara/audio_stream.hpp>
#include <kithara/kithara/context.hpp>

#include <chrono>
#include <span>
#include <string>

namespace snippets {

namespace {
void play(const kithara::bufpool::sample_buffer&, std::chrono::nanoseconds) {}
}  // namespace

void kithara_audio_stream(kithara::context& ctx, const std::string& url) {
#include "kithara/audio_stream.inc"
}

}  // namespace snippets
