// Thread naming: Kithara's threads carry names ("kithara-io-0", "kithara-blk-1", a job's name)
// visible in top -H, gdb and perf.
//
//   kithara::worker::set_current_thread_name("decode");        // truncated to 15 characters
//   std::string n = kithara::worker::current_thread_name();    // "decode"
//
// Any thread; each call acts on the calling thread only. No locks, no buffers kept.
#pragma once

#include <kithara/worker/export.hpp>

#include <string>
#include <string_view>

namespace kithara::worker {

KITHARA_WORKER_EXPORT void set_current_thread_name(std::string_view name) noexcept;
[[nodiscard]] KITHARA_WORKER_EXPORT std::string current_thread_name();

}  // namespace kithara::worker
