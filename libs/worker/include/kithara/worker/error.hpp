// kithara::worker's error codes: the "worker" std::error_category.
//
//   auto r = ch.try_send(std::move(item));
//   if (!r && r.error() == kithara::worker::errc::full) { /* keep the item, retry later */ }
//   std::string line = r.error().message();  // "worker: channel is full (try_send)"
//
// Plain values; any thread; no locks, no buffers. Codes map onto kithara::condition (closed and
// stopped are closed, timed_out, cancelled).
#pragma once

#include <kithara/worker/export.hpp>

#include <system_error>
#include <type_traits>

namespace kithara::worker {

enum class errc {
    ok_ = 0,    // unused
    closed,     // the channel was closed (receivers: and drained)
    timed_out,  // the deadline passed before the operation could complete
    cancelled,  // the stop_token was triggered
    full,       // try_send/try_submit: no room now
    empty,      // try_receive: nothing queued now
    stopped,    // the runtime or pool is stopped / shutting down
    stale,      // the item's epoch is older than the channel's: dropped
};

[[nodiscard]] KITHARA_WORKER_EXPORT const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

}  // namespace kithara::worker

template <>
struct std::is_error_code_enum<kithara::worker::errc> : std::true_type {};
