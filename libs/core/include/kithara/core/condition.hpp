// kithara::condition: the error conditions every layer shares. Each layer's category maps its
// own codes onto them (default_error_condition), so one test covers any layer's error:
//
//   kithara::error e{kithara::worker::errc::cancelled, "receive"};  // or net's, stream's, ...
//   if (e == kithara::condition::cancelled) return;                 // the caller asked for it
//   if (e.code() == kithara::condition::timed_out) retry();         // std::error_code works too
//
// Conditions classify; they never replace a layer's precise code (e.code() keeps it). Generic
// system codes match too (ECANCELED is cancelled, ETIMEDOUT timed_out, ENOENT not_found, EINVAL
// invalid_argument), so Asio's operation_aborted is cancelled. Plain values; any thread; no
// locks, no buffers.
#pragma once

#include <kithara/core/export.hpp>

#include <system_error>
#include <type_traits>

namespace kithara {

enum class condition {
    cancelled = 1,     // a stop token, cancel() or a close asked for it: not a failure of the work
    timed_out,         // a deadline or a configured timeout passed first
    closed,            // the object (resource, channel, store, client, session) was closed
    not_found,         // no such asset, resource or stored content
    unavailable,       // the bytes are not there now (not yet downloaded; offline and not cached)
    invalid_argument,  // a bad parameter or option (range, seek, channel count, ...)
    invalid_url,       // not a usable absolute URL
    content_changed,   // the upstream entity changed under a transfer or a cached copy
};

[[nodiscard]] KITHARA_CORE_EXPORT const std::error_category& condition_category() noexcept;

[[nodiscard]] inline std::error_condition make_error_condition(condition c) noexcept {
    return {static_cast<int>(c), condition_category()};
}

}  // namespace kithara

template <>
struct std::is_error_condition_enum<kithara::condition> : std::true_type {};
