// Compiles the example in the opening comment of kithara/decode/decoder.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/decode/decoder.hpp>

#include <chrono>
#include <memory>

namespace snippets {

void play(const kithara::bufpool::sample_buffer& samples);

void decode_decoder(std::shared_ptr<kithara::stream::source> src,
                    const kithara::decode::decoder_options& opts) {
#include "decode/decoder.inc"
}

}  // namespace snippets
