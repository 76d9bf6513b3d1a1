#include "detail/index_format.hpp"

#include <array>
#include <bit>
#include <cstring>

namespace kithara::assets::detail {
namespace {

constexpr std::array<char, 8> index_magic = {'K', 'T', 'H', 'A', 'I', 'D', 'X', '\n'};
constexpr std::array<char, 4> trailer_magic = {'K', 'E', 'N', 'D'};

void put_u32(std::byte* p, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
void put_u64(std::byte* p, std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>(v >> (8 * i));
}
std::uint32_t get_u32(const std::byte* p) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        std::uint32_t v;
        std::memcpy(&v, p, 4);
        return v;
    } else {
        std::uint32_t v = 0;
        for (int i = 3; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint32_t>(p[i]);
        return v;
    }
}
std::uint64_t get_u64(const std::byte* p) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        return v;
    } else {
        std::uint64_t v = 0;
        for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
        return v;
    }
}
void put_key(std::byte* p, const key& k) noexcept {
    std::memcpy(p, k.bytes.data(), 16);
}
key get_key(const std::byte* p) noexcept {
    key k;
    std::memcpy(k.bytes.data(), p, 16);
    return k;
}

}  // namespace

index_writer::index_writer(std::uint64_t clock, std::size_t asset_count,
                           std::size_t resource_count) {
    out_.reserve(index_header_bytes + asset_count * index_asset_bytes +
                 resource_count * index_resource_bytes + index_trailer_bytes);
    out_.resize(index_header_bytes);
    std::memcpy(out_.data(), index_magic.data(), index_magic.size());
    put_u32(out_.data() + 8, index_version);
    put_u32(out_.data() + 12, 0);  // flags
    put_u64(out_.data() + 16, clock);
}

void index_writer::asset(const key& id, std::uint64_t last_use, bool pinned,
                         std::uint32_t resources) {
    const std::size_t at = out_.size();
    out_.resize(at + index_asset_bytes);
    std::byte* p = out_.data() + at;
    put_key(p, id);
    put_u64(p + 16, last_use);
    put_u32(p + 24, resources);
    put_u32(p + 28, pinned ? 1u : 0u);
    ++assets_;
}

void index_writer::resource(const key& id, std::uint64_t bytes) {
    const std::size_t at = out_.size();
    out_.resize(at + index_resource_bytes);
    put_key(out_.data() + at, id);
    put_u64(out_.data() + at + 16, bytes);
    ++resources_;
}

std::vector<std::byte> index_writer::finish() {
    put_u32(out_.data() + 24, assets_);
    put_u32(out_.data() + 28, resources_);
    const std::uint32_t crc = crc32c(out_);
    const std::size_t at = out_.size();
    out_.resize(at + index_trailer_bytes);
    put_u32(out_.data() + at, crc);
    std::memcpy(out_.data() + at + 4, trailer_magic.data(), trailer_magic.size());
    return std::move(out_);
}

void decode_resources(std::span<const std::byte> records, index_resource* out) noexcept {
    const std::size_t n = records.size() / index_resource_bytes;
    if constexpr (std::endian::native == std::endian::little) {
        if (n > 0) std::memcpy(static_cast<void*>(out), records.data(), n * index_resource_bytes);
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            const std::byte* p = records.data() + i * index_resource_bytes;
            out[i] = {get_key(p), get_u64(p + 16)};
        }
    }
}

bool decode_index(std::span<const std::byte> file, std::uint64_t& clock, std::string& why,
                  const index_visitor& visit) {
    if (file.size() < index_header_bytes + index_trailer_bytes) {
        why = "truncated (" + std::to_string(file.size()) + " bytes)";
        return false;
    }
    if (std::memcmp(file.data(), index_magic.data(), index_magic.size()) != 0) {
        why = "bad magic";
        return false;
    }
    const std::uint32_t version = get_u32(file.data() + 8);
    if (version != index_version) {
        why = "unsupported version " + std::to_string(version) + " (expected " +
              std::to_string(index_version) + ")";
        return false;
    }
    const std::uint64_t assets = get_u32(file.data() + 24);
    const std::uint64_t resources = get_u32(file.data() + 28);
    const std::uint64_t expected = index_header_bytes + assets * index_asset_bytes +
                                   resources * index_resource_bytes + index_trailer_bytes;
    if (expected != file.size()) {
        why = "size " + std::to_string(file.size()) + " does not match its counts (expected " +
              std::to_string(expected) + ")";
        return false;
    }
    const std::size_t body = file.size() - index_trailer_bytes;
    if (std::memcmp(file.data() + body + 4, trailer_magic.data(), trailer_magic.size()) != 0 ||
        crc32c(file.first(body)) != get_u32(file.data() + body)) {
        why = "checksum mismatch";
        return false;
    }
    clock = get_u64(file.data() + 16);
    const std::byte* p = file.data() + index_header_bytes;
    const std::byte* end = file.data() + body;
    std::uint64_t seen_resources = 0;
    for (std::uint64_t a = 0; a < assets; ++a) {
        if (end - p < static_cast<std::ptrdiff_t>(index_asset_bytes)) {
            why = "asset records overrun the file";
            return false;
        }
        index_asset rec;
        rec.id = get_key(p);
        rec.last_use = get_u64(p + 16);
        rec.resource_count = get_u32(p + 24);
        rec.pinned = (get_u32(p + 28) & 1u) != 0;
        p += index_asset_bytes;
        const std::uint64_t bytes = std::uint64_t{rec.resource_count} * index_resource_bytes;
        if (static_cast<std::uint64_t>(end - p) < bytes) {
            why = "resource records overrun the file";
            return false;
        }
        rec.resource_records = std::span<const std::byte>(p, static_cast<std::size_t>(bytes));
        p += bytes;
        seen_resources += rec.resource_count;
        if (!visit(rec, why)) return false;
    }
    if (p != end || seen_resources != resources) {
        why = "record counts are inconsistent";
        return false;
    }
    return true;
}

std::array<std::byte, journal_record_bytes> journal_record(const key& id) noexcept {
    std::array<std::byte, journal_record_bytes> rec{};
    put_key(rec.data(), id);
    put_u32(rec.data() + 16, crc32c(std::span<const std::byte>(rec.data(), 16)));
    return rec;
}

std::vector<key> decode_journal(std::span<const std::byte> file) {
    std::vector<key> keys;
    for (std::size_t at = 0; at + journal_record_bytes <= file.size(); at += journal_record_bytes) {
        const auto rec = file.subspan(at, journal_record_bytes);
        if (crc32c(rec.first(16)) == get_u32(rec.data() + 16)) keys.push_back(get_key(rec.data()));
    }
    return keys;
}

}  // namespace kithara::assets::detail
