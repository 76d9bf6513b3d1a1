// Compiles the example in the opening comment of kithara/storage/resource.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/storage/resource.hpp>

#include <chrono>
#include <span>
#include <stop_token>

namespace snippets {

void storage_resource(kithara::storage::resource& res, std::span<const std::byte> bytes,
                      std::span<std::byte> buf, std::stop_token stop,
                      kithara::result<std::size_t>& n) {
    using namespace std::chrono_literals;
#include "storage/resource.inc"
}

}  // namespace snippets
