#include "detail/ogg_tail.hpp"

#include <cstring>

namespace kithara::decode::detail {

namespace {

constexpr std::size_t page_header = 27;

std::uint8_t at(std::span<const std::byte> b, std::size_t i) {
    return static_cast<std::uint8_t>(b[i]);
}

// The total size of the page starting at `p` (header + segment table + body), or 0 when the
// header does not fit or is not an Ogg page header.
std::size_t page_size(std::span<const std::byte> b, std::size_t p) {
    if (p + page_header > b.size()) return 0;
    if (std::memcmp(b.data() + p, "OggS", 4) != 0 || at(b, p + 4) != 0) return 0;
    const std::size_t segments = at(b, p + 26);
    if (p + page_header + segments > b.size()) return 0;
    std::size_t body = 0;
    for (std::size_t i = 0; i < segments; ++i) body += at(b, p + page_header + i);
    return page_header + segments + body;
}

std::int64_t granule(std::span<const std::byte> b, std::size_t p) {
    std::uint64_t g = 0;
    for (int i = 7; i >= 0; --i) g = (g << 8) | at(b, p + 6 + static_cast<std::size_t>(i));
    return static_cast<std::int64_t>(g);
}

}  // namespace

std::optional<std::int64_t> last_ogg_granule(std::span<const std::byte> tail) {
    // Pages chain from the end: find the page ending at `end`, take its granule unless it is -1
    // (no packet ends on it), else continue with the page ending where it starts.
    std::size_t end = tail.size();
    while (end >= page_header) {
        std::optional<std::size_t> start;
        for (std::size_t p = end - page_header + 1; p-- > 0;) {
            if (page_size(tail, p) == end - p) {
                start = p;
                break;
            }
        }
        if (!start) return std::nullopt;
        const std::int64_t g = granule(tail, *start);
        if (g != -1) return g;
        end = *start;
    }
    return std::nullopt;
}

}  // namespace kithara::decode::detail
