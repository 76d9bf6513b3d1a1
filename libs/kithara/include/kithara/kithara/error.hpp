// kithara::context_errc and the "kithara" error category: why the umbrella context refused a call.
//
//   auto s = ctx.open("https://radio.example/live");
//   if (!s && s.error() == kithara::condition::unavailable) { /* offline and not cached */ }
//   auto v = (*s)->lock_variant(1);
//   if (!v && v.error() == kithara::context_errc::not_supported) { /* a progressive file */ }
//
// Any thread; plain values, no locks, no buffers. Errors of the layers below (net's 404, hls's
// malformed playlist, decode's corrupt stream) pass through unchanged: only what the context
// itself decides has a code here. Shared conditions (kithara/core/condition.hpp): closed is
// condition::closed, interrupted is condition::cancelled, unknown_content_kind (offline, no
// extension, nothing cached) is condition::unavailable, bad_cache_dir is invalid_argument.
#pragma once

#include <kithara/kithara/export.hpp>

#include <system_error>
#include <type_traits>

namespace kithara {

enum class context_errc {
    ok_ = 0,               // unused
    not_supported,         // an HLS-only call on a progressive file (variants, renditions, live)
    unknown_content_kind,  // offline, and neither the URL nor the cache tells file from HLS
    closed,                // the stream was closed
    interrupted,           // the stream was interrupted (audio_stream::interrupt)
    bad_cache_dir,         // no cache directory given and none could be derived
    bad_radio_list,        // an M3U/PLS radio list names no stream, nests too deep or is too large
};

[[nodiscard]] KITHARA_KITHARA_EXPORT const std::error_category& context_category() noexcept;

inline std::error_code make_error_code(context_errc e) noexcept {
    return {static_cast<int>(e), context_category()};
}

}  // namespace kithara

template <>
struct std::is_error_code_enum<kithara::context_errc> : std::true_type {};
