// Compiles the example in the opening comment of kithara/net/error.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/net/client.hpp>
#include <kithara/net/error.hpp>

#include <string>

namespace snippets {

void show(int status);

void net_error(kithara::net::client& client, const std::string& u) {
#include "net/error.inc"
}

}  // namespace snippets
