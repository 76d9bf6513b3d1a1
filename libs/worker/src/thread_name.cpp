#include <kithara/worker/thread.hpp>

#include <pthread.h>

#include <algorithm>
#include <array>

namespace kithara::worker {

void set_current_thread_name(std::string_view name) noexcept {
    std::array<char, 16> buf{};  // Linux limit: 15 characters plus the terminator
    const auto n = std::min(name.size(), buf.size() - 1);
    std::copy_n(name.data(), n, buf.data());
    (void)pthread_setname_np(pthread_self(), buf.data());
}

std::string current_thread_name() {
    std::array<char, 16> buf{};
    if (pthread_getname_np(pthread_self(), buf.data(), buf.size()) != 0) return {};
    return std::string(buf.data());
}

}  // namespace kithara::worker
