// Compiles the example in the opening comment of kithara/net/client.hpp (extracted at
// build time); this file only supplies the names the example uses.
#include <kithara/net/client.hpp>

#include <asio/io_context.hpp>

#include <memory>

namespace snippets {

class my_sink final : public kithara::net::sink {
public:
    kithara::result<> on_response(const kithara::net::response_head&) override { return {}; }
    kithara::result<> on_data(std::uint64_t, std::span<const std::byte>) override { return {}; }
    kithara::result<> on_restart(const kithara::net::response_head&) override { return {}; }
    void on_complete(kithara::result<kithara::net::transfer_stats>) override {}
};

void net_client() {
#include "net/client.inc"
}

}  // namespace snippets
