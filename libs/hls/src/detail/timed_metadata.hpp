// Building timed_metadata items: from an ID3 tag (title and artist from TIT2/TPE1 or ICY-style
// text), from the tags a packed-audio scan found, and names from free text (EXTINF titles).
//
//   auto items = detail::packed_metadata(tags, segment_start, &errors);
//
// Threads: pure functions, any thread. Buffers: items own their strings and frames (moved out of
// the tags given).
#pragma once

#include "detail/id3.hpp"
#include "detail/packed_scanner.hpp"

#include <kithara/core/error.hpp>
#include <kithara/hls/timed_metadata.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace kithara::hls::detail {

// The tag as an item at `time` (source::id3): its frames, title and artist.
[[nodiscard]] timed_metadata id3_metadata(id3_tag tag, double time);

// Whether a tag only carries the HLS transportStreamTimestamp (timing, not metadata).
[[nodiscard]] bool timestamp_only(const id3_tag& tag) noexcept;

// Items for the tags of a packed-audio segment starting at `segment_start` on the stream
// timeline (each at segment_start + seconds_before); tags that only carry the timestamp are
// left out; tags that failed to parse go to `errors` (when given) instead.
[[nodiscard]] std::vector<timed_metadata> packed_metadata(std::vector<scanned_tag>& tags,
                                                          double segment_start,
                                                          std::vector<error>* errors = nullptr);

// Title and artist from free text: ICY StreamTitle='Artist - Title';, key-value text with
// title="..." and artist="..." (as radio EXTINF titles are written), else the whole text as title.
void names_from_text(timed_metadata& m, std::string_view text);

// An RFC 3339 / ISO 8601 date-time (2026-12-05T09:30:00.250Z, +01:00, +0100, lower-case t and z,
// a space for T) as seconds since 1970-01-01 UTC; nullopt when it is not one.
[[nodiscard]] std::optional<double> parse_date_time(std::string_view text);

}  // namespace kithara::hls::detail
