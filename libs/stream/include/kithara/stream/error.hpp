// kithara::stream::errc and the "stream" error category.
//
//   auto n = reader.read(buf);
//   if (!n && n.error() == kithara::stream::errc::timed_out) { /* retry or report an underrun */ }
//   std::string line = n.error().message();  // "stream: wait timed out (read 4096 at 81920)"
//
// Plain values; any thread; no locks, no buffers. Codes map onto kithara::condition. A source
// that failed passes its own error (storage, net...) through unchanged.
#pragma once

#include <kithara/stream/export.hpp>

#include <system_error>
#include <type_traits>

namespace kithara::stream {

enum class errc {
    ok_ = 0,        // unused
    not_available,  // read_at: no byte at the offset yet (wait_range first)
    cancelled,      // the stop token fired
    timed_out,      // the deadline passed before the bytes arrived
    invalid_seek,   // seek past a known end, or an offset that overflows
    source_failed,  // the source failed without a more specific error
};

[[nodiscard]] KITHARA_STREAM_EXPORT const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

}  // namespace kithara::stream

template <>
struct std::is_error_code_enum<kithara::stream::errc> : std::true_type {};
