// Compiles the example in the opening comment of kithara/core/result.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/core/result.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace snippets {

void report(const std::string& line);
void use(int value);

void core_result() {
#include "core/result.inc"
}

}  // namespace snippets
