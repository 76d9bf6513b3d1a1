// Internal: the range log (`<data>.rlog`), a cheap, never-synced record of the ranges written
// since the last range-map flush, so that a restart after a process crash (kill -9) resumes from
// what the page cache holds instead of from the last synced map.
//
// One page, memory-mapped (MAP_SHARED): appending a record is a 24-byte store, no system call.
// The page cache keeps the stores when the process dies, not when the machine does: the header
// names the boot (/proc/sys/kernel/random/boot_id) and the data file's inode, and a log is trusted
// only in the same boot for the same inode. Every record is a true claim ("these bytes were fully
// written to this inode in this boot"): records are appended only after the bytes' pwrite, and no
// claimed byte is ever dropped from the data file, so stale records stay true and are never
// erased. Layout (little-endian, docs/STORAGE.md):
//   0 "KRLG"  4 u16 version = 1  6 u16 flags = 0  8 boot id (16)  24 u64 inode  32 u32 CRC-32 of
//   bytes 0..32, then zeros up to 64; from 64: records of 24 bytes (u64 begin, u64 end, u32
//   CRC-32 of the 16 bytes before it, u32 zero).
// Threads: none of its own; the owner serialises append()/rewrite() (range_state's mutex) and
// read_claims() runs before the resource is shared.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/storage/range_set.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

namespace kithara::storage::detail {

using boot_id = std::array<std::byte, 16>;

// This boot's id, read once per process; nullopt when unavailable (the log is then not used).
[[nodiscard]] const std::optional<boot_id>& current_boot_id();

class range_log {
public:
    static constexpr std::size_t file_bytes = 4096;
    static constexpr std::size_t header_bytes = 64;
    static constexpr std::size_t record_bytes = 24;
    static constexpr std::size_t capacity = (file_bytes - header_bytes) / record_bytes;

    // The claims of the log at `path`: empty unless its header is intact and names `boot` and
    // `inode`. Records ending past `limit` (the data file's size, or its final length) are
    // ignored, as are records whose CRC does not match.
    [[nodiscard]] static range_set read_claims(const std::filesystem::path& path,
                                               const boot_id& boot, std::uint64_t inode,
                                               std::uint64_t limit);

    // Creates (or truncates and reinitialises) the log for the data file `inode`.
    [[nodiscard]] static result<std::unique_ptr<range_log>> create(
        const std::filesystem::path& path, const boot_id& boot, std::uint64_t inode);

    ~range_log();
    range_log(const range_log&) = delete;
    range_log& operator=(const range_log&) = delete;

    // Records r; false when the page is full (the owner then calls rewrite()).
    bool append(byte_range r) noexcept;
    // Starts over at the first record with `ranges` (what is written but not in the synced map);
    // ranges beyond the capacity are not recorded (they are re-downloaded after a crash).
    void rewrite(const range_set& ranges) noexcept;
    // Unlinks the file (a clean close: the synced map holds everything).
    void remove() noexcept;

private:
    range_log(std::filesystem::path path, int fd, std::byte* base);
    void put(std::size_t slot, byte_range r) noexcept;

    std::filesystem::path path_;
    int fd_ = -1;
    std::byte* base_ = nullptr;
    std::size_t next_ = 0;  // next record slot
};

}  // namespace kithara::storage::detail
