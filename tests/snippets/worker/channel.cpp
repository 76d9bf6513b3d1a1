// Compiles the example in the opening comment of kithara/worker/channel.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/bufpool/pool.hpp>
#include <kithara/worker/channel.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <chrono>
#include <stop_token>
#include <utility>

namespace snippets {

void use(const kithara::result<kithara::bufpool::byte_buffer>& r);

void worker_channel(kithara::worker::io_runtime& io, kithara::bufpool::byte_buffer buf,
                    std::stop_token stop) {
    using namespace std::chrono_literals;
#include "worker/channel.inc"
}

}  // namespace snippets
