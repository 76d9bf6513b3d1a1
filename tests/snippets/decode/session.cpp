// Compiles the example in the opening comment of kithara/decode/session.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/decode/session.hpp>

#include <chrono>
#include <memory>

namespace snippets {

void play(const kithara::decode::pcm_chunk& chunk);

void decode_session(std::shared_ptr<kithara::stream::source> src) {
#include "decode/session.inc"
}

}  // namespace snippets
