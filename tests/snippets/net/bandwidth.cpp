// Compiles the example in the opening comment of kithara/net/bandwidth.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/net/bandwidth.hpp>

#include <chrono>

namespace snippets {

void net_bandwidth(const kithara::net::throughput_sample& s, double media_bytes_per_second) {
#include "net/bandwidth.inc"
}

}  // namespace snippets
