// ID3v2.2/2.3/2.4 tags: the size of a tag from its header, the tag's frames (unsynchronisation
// undone, flag bytes removed, compressed and encrypted frames kept opaque), text in the four ID3
// encodings as UTF-8, and the HLS transportStreamTimestamp PRIV.
//
//   auto size = detail::id3_tag_size(head);             // header + frames + footer, or nullopt
//   auto tag = detail::parse_id3(bytes, offset);       // result<id3_tag>; errors name an offset
//
// Threads: pure functions, any thread. Buffers: a tag owns copies of its frames' bytes; parsing a
// tag allocates at most its size again (unsynchronisation undone), bounded by max_id3_tag_bytes.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/hls/timed_metadata.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::hls::detail {

inline constexpr std::size_t id3_header_bytes = 10;
inline constexpr std::size_t max_id3_tag_bytes = 1024 * 1024;
inline constexpr std::size_t max_id3_frames = 4096;

inline constexpr std::string_view transport_stream_timestamp_owner =
    "com.apple.streaming.transportStreamTimestamp";

struct id3_tag {
    std::uint8_t version = 4;  // 2, 3 or 4 (ID3v2.<version>)
    std::uint8_t revision = 0;
    std::uint8_t flags = 0;
    std::size_t size = 0;  // bytes of the whole tag: header, frames, padding and footer
    std::vector<id3_frame> frames;
};

// Whether `head` (at least 10 bytes) starts an ID3v2 tag: "ID3", version 2-4, revision and
// version not 0xFF, four syncsafe size bytes. The tag's total size (header, body, footer).
[[nodiscard]] std::optional<std::size_t> id3_tag_size(std::span<const std::uint8_t> head);

// Parses the tag at the start of `bytes` (which may hold more after it). `offset` is where
// `bytes` starts in its container, for error messages. Errors (errc::bad_metadata) name what and
// the absolute offset: not a tag, a size over `limit`, truncated, a bad syncsafe integer, an
// extended header or frame running past the tag, a bad frame id, a missing footer. A compressed
// ID3v2.2 tag (no scheme was ever defined) has no frames. `slack`: how many bytes after the
// declared end the last frame may take from `bytes` (packagers that declare a tag a few bytes
// short); the tag's size stays the declared one.
[[nodiscard]] result<id3_tag> parse_id3(std::span<const std::uint8_t> bytes,
                                        std::uint64_t offset = 0,
                                        std::size_t limit = max_id3_tag_bytes,
                                        std::size_t slack = 0);

// The slack the packed-audio scanner allows (the engine's id3_skip_source resyncs as far).
inline constexpr std::size_t id3_short_tag_slack = 16;

// ID3 text (encoding 0 ISO-8859-1, 1 UTF-16 with BOM, 2 UTF-16BE, 3 UTF-8) as UTF-8 strings, one
// per NUL-terminated value; invalid sequences become U+FFFD. nullopt for an unknown encoding.
[[nodiscard]] std::optional<std::vector<std::string>> decode_id3_text(
    std::uint8_t encoding, std::span<const std::uint8_t> text);

// Splits `text` (in `encoding`) at the first terminator of that encoding: what precedes it and
// where the rest starts (text.size() when there is no terminator).
[[nodiscard]] std::size_t id3_text_end(std::uint8_t encoding, std::span<const std::uint8_t> text,
                                       std::size_t* rest);

// The 33-bit 90 kHz timestamp of a transportStreamTimestamp PRIV frame in `tag` (masked).
[[nodiscard]] std::optional<std::uint64_t> transport_stream_timestamp(const id3_tag& tag);

// A PRIV frame's owner and data.
struct priv_frame {
    std::string owner;
    std::span<const std::uint8_t> data;
};
[[nodiscard]] std::optional<priv_frame> parse_priv(const id3_frame& f);

}  // namespace kithara::hls::detail
