// Radio lists: the M3U and PLS files radio directories and stations link to, which name stream
// URLs rather than media (a plain M3U: one URI per line; PLS: a [playlist] section with FileN=
// keys). A context opens the first entry that opens (context.hpp); an M3U with HLS tags
// (#EXT-X-...) is an HLS playlist instead.
//
//   auto entries = detail::radio_list_entries(text, "http://radio.example/station.m3u");
//   if (!entries) { /* HLS, or not a list */ } else if (entries->empty()) { /* names nothing */ }
//
// Threads: a pure function, any thread (the list is read by fetch_list_text, sniff.hpp).
// Buffers: the text is at most max_list_bytes; entries are owned strings.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::detail {

// A list longer than this is not a radio list (they are a few hundred bytes).
inline constexpr std::size_t max_list_bytes = 64 * 1024;
// At most this many entries are kept, in the list's order.
inline constexpr std::size_t max_list_entries = 64;
// A list naming a list naming a list ... is followed this deep.
inline constexpr int max_list_depth = 4;

// The absolute http(s) URLs `text` names, resolved against `list_url`, in order (PLS: by the
// FileN number), duplicates and other schemes left out. A text with a [playlist] section is
// PLS, any other an M3U. nullopt when `text` is not a radio list: an M3U with a #EXT-X- tag
// (HLS), or bytes that are not text (a NUL, or a line over 8 KiB).
std::optional<std::vector<std::string>> radio_list_entries(std::string_view text,
                                                           std::string_view list_url);

}  // namespace kithara::detail
