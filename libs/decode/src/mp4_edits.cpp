#include "detail/mp4_edits.hpp"

#include <cstdint>
#include <optional>

namespace kithara::decode::detail {

namespace {

std::uint32_t be32(std::span<const std::byte> b, std::size_t at) {
    return (std::to_integer<std::uint32_t>(b[at]) << 24) |
           (std::to_integer<std::uint32_t>(b[at + 1]) << 16) |
           (std::to_integer<std::uint32_t>(b[at + 2]) << 8) |
           std::to_integer<std::uint32_t>(b[at + 3]);
}

std::uint64_t be64(std::span<const std::byte> b, std::size_t at) {
    return (std::uint64_t{be32(b, at)} << 32) | be32(b, at + 4);
}

struct box {
    std::uint32_t type = 0;
    std::span<const std::byte> body;  // the payload after the header
};

constexpr std::uint32_t fourcc(const char (&s)[5]) {
    return (std::uint32_t(static_cast<unsigned char>(s[0])) << 24) |
           (std::uint32_t(static_cast<unsigned char>(s[1])) << 16) |
           (std::uint32_t(static_cast<unsigned char>(s[2])) << 8) |
           std::uint32_t(static_cast<unsigned char>(s[3]));
}

// The box at `at` of `in`, nullopt when its header or body is not complete in `in`.
std::optional<box> box_at(std::span<const std::byte> in, std::size_t at, std::size_t& next) {
    if (in.size() < at + 8) return std::nullopt;
    std::uint64_t size = be32(in, at);
    const std::uint32_t type = be32(in, at + 4);
    std::size_t header = 8;
    if (size == 1) {
        if (in.size() < at + 16) return std::nullopt;
        size = be64(in, at + 8);
        header = 16;
    } else if (size == 0) {
        size = in.size() - at;  // to the end of the enclosing box
    }
    if (size < header || size > in.size() - at) return std::nullopt;
    next = at + static_cast<std::size_t>(size);
    return box{type, in.subspan(at + header, static_cast<std::size_t>(size) - header)};
}

// The first child of `parent` with `type`.
std::optional<box> child(std::span<const std::byte> parent, std::uint32_t type) {
    std::size_t at = 0;
    while (at < parent.size()) {
        std::size_t next = 0;
        auto b = box_at(parent, at, next);
        if (!b) return std::nullopt;
        if (b->type == type) return b;
        at = next;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> track_id_of(std::span<const std::byte> trak) {
    auto tkhd = child(trak, fourcc("tkhd"));
    if (!tkhd || tkhd->body.empty()) return std::nullopt;
    const std::size_t at = std::to_integer<int>(tkhd->body[0]) == 1 ? 20 : 12;  // after times
    if (tkhd->body.size() < at + 4) return std::nullopt;
    return be32(tkhd->body, at);
}

// True when an entry of the trak's edit list has a non-zero segment_duration; nullopt when the
// elst is malformed.
std::optional<bool> edit_has_duration(std::span<const std::byte> trak) {
    auto edts = child(trak, fourcc("edts"));
    if (!edts) return false;  // no edit list: the media as it is
    auto elst = child(edts->body, fourcc("elst"));
    if (!elst) return false;
    const auto& b = elst->body;
    if (b.size() < 8) return std::nullopt;
    const bool v1 = std::to_integer<int>(b[0]) == 1;
    const std::size_t entry = v1 ? 20 : 12;
    const std::uint32_t n = be32(b, 4);
    if ((b.size() - 8) / entry < n) return std::nullopt;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::size_t at = 8 + i * entry;
        if ((v1 ? be64(b, at) : be32(b, at)) != 0) return true;
    }
    return false;
}

}  // namespace

mp4_end mp4_track_end(std::span<const std::byte> head, int track_id) {
    std::size_t at = 0;
    while (at < head.size()) {
        std::size_t next = 0;
        auto b = box_at(head, at, next);
        if (!b) return mp4_end::unknown;
        if (b->type == fourcc("moof") || b->type == fourcc("mdat")) return mp4_end::unknown;
        if (b->type != fourcc("moov")) {
            at = next;
            continue;
        }
        if (!child(b->body, fourcc("mvex"))) return mp4_end::declared;
        std::size_t t = 0;
        while (t < b->body.size()) {
            std::size_t tnext = 0;
            auto trak = box_at(b->body, t, tnext);
            if (!trak) return mp4_end::unknown;
            t = tnext;
            if (trak->type != fourcc("trak")) continue;
            const auto id = track_id_of(trak->body);
            if (!id || track_id < 0 || *id != static_cast<std::uint32_t>(track_id)) continue;
            const auto has = edit_has_duration(trak->body);
            if (!has) return mp4_end::unknown;
            return *has ? mp4_end::declared : mp4_end::open_ended;
        }
        return mp4_end::unknown;
    }
    return mp4_end::unknown;
}

}  // namespace kithara::decode::detail
