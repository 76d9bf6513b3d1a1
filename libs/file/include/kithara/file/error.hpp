// kithara::file::errc and the "file" error category.
//
//   auto src = kithara::file::open(url, store, client, {});
//   if (!src && src.error() == kithara::file::errc::offline_miss) { /* not cached, offline */ }
//   std::string line = src.error().message();  // "file: ... (context)"
//
// Plain values; any thread; no locks, no buffers. Network, storage and assets errors pass through
// unchanged; these are the file layer's own, mapped onto kithara::condition (offline_miss is
// unavailable, closed is closed, ...).
#pragma once

#include <kithara/file/export.hpp>

#include <system_error>
#include <type_traits>

namespace kithara::file {

enum class errc {
    ok_ = 0,          // unused
    invalid_url,      // not an absolute http(s) URL
    offline_miss,     // offline (option or network down) and the bytes are not cached
    content_changed,  // the upstream file changed while playing; the cached copy is void
    bad_response,     // the server's answer cannot be used (no body, inconsistent length)
    closed,           // the source was closed
};

[[nodiscard]] KITHARA_FILE_EXPORT const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

}  // namespace kithara::file

template <>
struct std::is_error_code_enum<kithara::file::errc> : std::true_type {};
