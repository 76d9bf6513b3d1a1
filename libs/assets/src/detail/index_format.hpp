// Internal: the binary index file (docs/CACHE_FORMAT.md), its CRC-32 and the pin/journal helpers.
// Pure encoding/decoding; no I/O, no locks. Callers own all buffers.
#pragma once

#include <kithara/assets/key.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kithara::assets::detail {

inline constexpr std::uint32_t index_version = 1;
inline constexpr std::size_t index_header_bytes = 32;
inline constexpr std::size_t index_asset_bytes = 32;
inline constexpr std::size_t index_resource_bytes = 24;
inline constexpr std::size_t index_trailer_bytes = 8;
inline constexpr std::size_t journal_record_bytes = 20;

// CRC-32 (IEEE 802.3, reflected 0xEDB88320), slice-by-8.
std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept;

struct index_resource {
    key id;
    std::uint64_t bytes = 0;
};

struct index_asset {
    key id;
    std::uint64_t last_use = 0;
    bool pinned = false;
    std::uint32_t first_resource = 0;  // into index_image::resources
    std::uint32_t resource_count = 0;
};

// Assets appear in LRU order (least recently used first).
struct index_image {
    std::uint64_t clock = 0;
    std::vector<index_asset> assets;
    std::vector<index_resource> resources;
};

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

// Decodes and validates (magic, version, sizes, CRC, counts). On failure returns false and sets
// `why` to a one-line reason for the log.
bool decode_index(std::span<const std::byte> file, index_image& out, std::string& why);

// A journal record: the key and a CRC-32 of it (torn tails are skipped).
std::array<std::byte, journal_record_bytes> journal_record(const key& id) noexcept;
// Valid keys of a journal file, in order.
std::vector<key> decode_journal(std::span<const std::byte> file);

}  // namespace kithara::assets::detail
