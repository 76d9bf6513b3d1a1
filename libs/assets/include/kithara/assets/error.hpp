// kithara::assets error codes and the "assets" error category.
//
//   auto store = kithara::assets::asset_store::open("/cache", {});
//   if (!store && store.error() == kithara::assets::errc::store_locked) { /* another process */ }
//   std::string line = store.error().message();  // "assets: store is locked ... (/cache/lock)"
//
// Plain values; any thread. No locks, no buffers. Codes map onto kithara::condition (closed,
// not_found, incomplete is unavailable, ...).
#pragma once

#include <kithara/assets/export.hpp>

#include <system_error>

namespace kithara::assets {

enum class errc {
    ok_ = 0,           // unused
    invalid_url,       // not an absolute URL with scheme and authority, or malformed
    invalid_argument,  // bad option or parameter
    store_locked,      // another asset_store (this or another process) holds the directory
    io_error,          // the file system failed; the context names the path
    not_found,         // no such asset or resource in the store
    incomplete,        // a processed resource's source is not fully downloaded
    bad_key,           // a decryption key or IV of the wrong size
    decrypt_failed,    // ciphertext not a whole number of blocks, or bad padding (wrong key)
    transform_failed,  // a user transform returned an error
    closed,            // the store was destroyed while the operation waited
    removal_pending,   // the resource was removed; handles opened before are still open
};

KITHARA_ASSETS_EXPORT const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

}  // namespace kithara::assets

template <>
struct std::is_error_code_enum<kithara::assets::errc> : std::true_type {};
