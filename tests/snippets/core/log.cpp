// Compiles the example in the opening comment of kithara/core/log.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/core/log.hpp>

#include <string_view>

namespace snippets {

void my_log(kithara::log_level level, std::string_view line);

void core_log() {
#include "core/log.inc"
}

}  // namespace snippets
