// Compiles the example in the opening comment of kithara/worker/cancel.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/worker/cancel.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>

namespace snippets {

void worker_cancel(std::mutex& m, std::condition_variable_any& cv, std::stop_token stop,
                   const bool& ready) {
    using namespace std::chrono_literals;
#include "worker/cancel.inc"
}

}  // namespace snippets
