// The program both consumer tests build: uses the public API of the linked components.
#include <kithara/bufpool/pool.hpp>
#include <kithara/core/log.hpp>
#include <kithara/core/result.hpp>

#include <cstdio>
#include <cstring>
#include <system_error>

namespace {
kithara::result<int> twice(int v) {
    if (v < 0) return kithara::fail(std::errc::invalid_argument, "negative input");
    return 2 * v;
}
}  // namespace

int main() {
    kithara::set_log_level(kithara::log_level::off);
    auto buf = kithara::bufpool::default_byte_pool().get(1000);
    std::memset(buf.data(), 1, buf.size());
    const auto r = twice(21);
    const auto bad = twice(-1);
    if (!r || *r != 42 || bad || buf.capacity() != 1024) return 1;
    std::printf("consumer ok: %s\n", bad.error().message().c_str());
    return 0;
}
