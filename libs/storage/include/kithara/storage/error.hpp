// kithara::storage::errc and the "storage" error category.
//
//   auto r = res.read_at(4096, buf);
//   if (!r && r.error() == kithara::storage::errc::not_available) { /* wait_range first */ }
//   std::string line = r.error().message();  // "storage: bytes not available yet (read_at ...)"
//
// Plain values; any thread; no locks, no buffers. Codes map onto kithara::condition
// (not_available is unavailable, ...). System failures (open, pread, fsync...) pass through as
// errno values in std::generic_category (so `e == std::errc::no_such_file_or_directory` works)
// with the operation and path in the context; a failed resource returns the error given to fail().
#pragma once

#include <kithara/storage/export.hpp>

#include <system_error>
#include <type_traits>

namespace kithara::storage {

enum class errc {
    ok_ = 0,            // unused
    invalid_range,      // begin > end, or offset + length overflows 64 bits
    not_available,      // read_at: no byte at the offset is available yet (and it is not eof);
                        // flow control: carries no context, costs no allocation
    past_final_length,  // write_at past the committed final length
    length_conflict,    // commit() smaller than bytes already written, or a second, different one
    too_large,          // a write beyond a memory_resource's max size
    closed,             // the resource was closed
    corrupt_range_map,  // a range map failed validation (only when recovery is disabled)
    buffer_too_small,   // atomic_resource::read_into: the caller's buffer is smaller than content
    not_found,          // atomic_resource: no content stored yet
};

[[nodiscard]] KITHARA_STORAGE_EXPORT const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

}  // namespace kithara::storage

template <>
struct std::is_error_code_enum<kithara::storage::errc> : std::true_type {};
