// Internal: the on-disk range map (`<data>.ranges`) and small POSIX file helpers.
//
// Format v1, little-endian (docs/STORAGE.md):
//   0  magic "KRMP"          4  u16 version = 1     6  u16 flags (bit 0: final length known)
//   8  u64 final length      16 u64 range count n   24 n x (u64 begin, u64 end)
//   24 + 16n  u32 CRC-32 (IEEE) of every preceding byte
// Ranges are ascending, non-empty, disjoint and non-adjacent; none ends past the final length.
// Written as a temp file + fdatasync + rename + directory fsync. No locks; callers serialise.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/storage/range_set.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kithara::storage::detail {

struct range_map {
    range_set ranges;
    std::optional<std::uint64_t> final_length;
};

inline constexpr std::uint64_t max_range_map_bytes = 64ull * 1024 * 1024;

[[nodiscard]] std::uint32_t crc32(std::span<const std::byte> data) noexcept;

[[nodiscard]] std::vector<std::byte> encode_range_map(const range_map& map);
// errc::corrupt_range_map with the reason in the context.
[[nodiscard]] result<range_map> decode_range_map(std::span<const std::byte> bytes);

// The whole file, or std::errc::no_such_file_or_directory when missing.
[[nodiscard]] result<std::vector<std::byte>> read_small_file(const std::filesystem::path& path,
                                                             std::uint64_t max_bytes);
// Writes `bytes` to `tmp`, fdatasyncs it, renames it over `target`, fsyncs `dir_fd`.
result<> replace_file(const std::filesystem::path& tmp, const std::filesystem::path& target,
                      int dir_fd, std::span<const std::byte> bytes);

// A system error from errno with "<op> <path>" as the context.
[[nodiscard]] error errno_error(int err, const std::string& op, const std::filesystem::path& path);

// Full positional I/O, retrying EINTR and short transfers. pread_full stops at end of file.
result<> pwrite_full(int fd, std::uint64_t offset, std::span<const std::byte> data);
result<std::size_t> pread_full(int fd, std::uint64_t offset, std::span<std::byte> out);

}  // namespace kithara::storage::detail
