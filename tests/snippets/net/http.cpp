// Compiles the example in the opening comment of kithara/net/http.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/net/client.hpp>
#include <kithara/net/http.hpp>

#include <chrono>

namespace snippets {

void net_http(const kithara::net::response_head& head) {
#include "net/http.inc"
}

}  // namespace snippets
