// Internal: the binary index file (docs/CACHE_FORMAT.md), its CRC-32 and the pin/journal helpers.
// Pure encoding/decoding; no I/O, no locks. Callers own all buffers.
#pragma once

#include <kithara/assets/key.hpp>

#include "detail/crc32c.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace kithara::assets::detail {

inline constexpr std::uint32_t index_version = 1;
inline constexpr std::size_t index_header_bytes = 32;
inline constexpr std::size_t index_asset_bytes = 32;
inline constexpr std::size_t index_resource_bytes = 24;
inline constexpr std::size_t index_trailer_bytes = 8;
inline constexpr std::size_t journal_record_bytes = 20;

// Same layout as the file's 24-byte record on little-endian hosts (decoded by block copy).
struct index_resource {
    key id;
    std::uint64_t bytes = 0;
};
static_assert(sizeof(index_resource) == 24 && std::is_trivially_copyable_v<index_resource>);

// One asset record as decoded; its resource records follow it in the file.
struct index_asset {
    key id;
    std::uint64_t last_use = 0;
    bool pinned = false;
    std::uint32_t resource_count = 0;
    std::span<const std::byte> resource_records;  // resource_count * 24 bytes, in the file
};

// Copies resource records out of the file (a block copy on little-endian hosts).
void decode_resources(std::span<const std::byte> records, index_resource* out) noexcept;

// Incremental encoder: header, then assets each followed by its resources, then the trailer.
class index_writer {
public:
    index_writer(std::uint64_t clock, std::size_t asset_count, std::size_t resource_count);
    void asset(const key& id, std::uint64_t last_use, bool pinned, std::uint32_t resources);
    void resource(const key& id, std::uint64_t bytes);
    // Patches the counts, appends the CRC trailer and returns the file image.
    std::vector<std::byte> finish();

private:
    std::vector<std::byte> out_;
    std::uint32_t assets_ = 0;
    std::uint32_t resources_ = 0;
};

// Validates (magic, version, sizes, CRC-32C, counts) and calls visit(asset) for each asset in file
// order (LRU order, oldest first); visit returns false to stop (decode_index then fails with the
// `why` it set). On failure returns false and sets `why` to a one-line reason for the log; assets
// visited before a failure must then be discarded by the caller.
using index_visitor = std::function<bool(const index_asset&, std::string& why)>;
bool decode_index(std::span<const std::byte> file, std::uint64_t& clock, std::string& why,
                  const index_visitor& visit);

// A journal record: the key and a CRC-32C of it (torn tails are skipped).
std::array<std::byte, journal_record_bytes> journal_record(const key& id) noexcept;
// Valid keys of a journal file, in order.
std::vector<key> decode_journal(std::span<const std::byte> file);

}  // namespace kithara::assets::detail
