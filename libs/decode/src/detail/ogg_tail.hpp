// Internal: the Ogg duration from the stream's last page, read by the decoder once the tail of a
// progressive download is there (FFmpeg's Ogg demuxer would read it at open, before the first
// sample). One thread: the decoder's; no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace kithara::decode::detail {

// The bytes FFmpeg's Ogg demuxer reads from the end for the duration (its largest page).
inline constexpr std::uint64_t ogg_tail_bytes = 65307;

// The granule position of the last complete page that ends exactly at the end of `tail` (the
// file's last bytes), walking back over pages without a granule (-1). nullopt when no such page
// is found (not Ogg, or a tail cut mid-page).
std::optional<std::int64_t> last_ogg_granule(std::span<const std::byte> tail);

}  // namespace kithara::decode::detail
