// fMP4 event messages: the top-level ISO BMFF boxes of a segment walked (size, largesize, type;
// bounded), `emsg` version 0 and 1 parsed (ISO/IEC 23009-1), an event placed on the stream
// timeline (an ID3 message parsed into frames), and repeated events recognised.
//
//   auto walk = detail::find_emsg(segment_bytes, 0, /*complete=*/true);
//   for (const auto& b : walk->boxes)
//       if (dedup.first_time(b.event)) emit(detail::emsg_metadata(b, {.segment_start = t0}));
//
// Threads: pure functions any thread; an emsg_dedup is used by one thread at a time (no locks).
// Buffers: boxes own copies of their strings and message; emsg_dedup keeps at most
// `schemes` × `ids_per_scheme` keys, each at most 256 bytes of scheme and of value.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/hls/timed_metadata.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::hls::detail {

inline constexpr std::size_t max_emsg_bytes = 1024 * 1024;

struct box_header {
    std::array<char, 4> type{};
    std::uint64_t offset = 0;     // in the segment
    std::uint64_t size = 0;       // whole box, header included (size 0 resolved to the end)
    std::size_t header_size = 0;  // 8, or 16 with a largesize
};

// The box header at `at` of `bytes` (whose first byte is at segment offset `base`); nullopt when
// fewer than 8 (16 for a largesize) bytes are there. Errors: size 1..7, largesize under 16.
[[nodiscard]] result<std::optional<box_header>> read_box_header(std::span<const std::uint8_t> bytes,
                                                                std::size_t at, std::uint64_t base,
                                                                bool complete);

struct emsg_box {
    std::uint64_t offset = 0;  // of the box in the segment
    emsg_event event;
    std::uint64_t presentation = 0;  // v0: delta from the segment's start; v1: absolute (ticks)
    std::optional<std::uint32_t> event_duration;  // ticks; nullopt: unknown (0xFFFFFFFF)
};

// An `emsg` box, whole (header included); `offset` its place in the segment, for errors.
[[nodiscard]] result<emsg_box> parse_emsg(std::span<const std::uint8_t> box,
                                          std::uint64_t offset = 0);

struct emsg_walk {
    std::vector<emsg_box> boxes;  // whole and valid emsg boxes, in order
    std::vector<error> errors;    // emsg boxes that were malformed or over max_emsg_bytes
    std::uint64_t next = 0;       // segment offset of the first box not walked yet
};

// The top-level boxes of `segment` from offset `from` (a box start: 0, or a previous walk's
// `next`), as far as they are whole. `complete`: `segment` is the whole segment (a box cut short
// is an error; a size 0 box extends to the end). Errors (the box structure is lost): a bad size,
// a box running past a complete segment. Bounded: at most max_boxes boxes a call.
[[nodiscard]] result<emsg_walk> find_emsg(std::span<const std::uint8_t> segment, std::uint64_t from,
                                          bool complete, std::size_t max_boxes = 100000);

// For placing version 1 events: the media timescale of an init segment's first track
// (moov/trak/mdia/mdhd), and a fragment's decode time (the whole `moof` box: traf/tfdt's
// baseMediaDecodeTime, in that timescale). nullopt when the box is missing or malformed.
[[nodiscard]] std::optional<std::uint32_t> media_timescale(std::span<const std::uint8_t> init);
[[nodiscard]] std::optional<std::uint64_t> fragment_decode_time(std::span<const std::uint8_t> moof);

// Where an event is on the stream timeline: version 0 at segment_start + delta / timescale;
// version 1 at presentation_time / timescale + media_offset (the track's media time mapped).
struct emsg_clock {
    double segment_start = 0;
    double media_offset = 0;
};

// Whether message_data is an ID3 tag: https://aomedia.org/emsg/ID3 and Apple's
// https://developer.apple.com/streaming/emsg-id3.
[[nodiscard]] bool is_id3_scheme(std::string_view scheme_id_uri) noexcept;

// The event as timed metadata; an ID3 message is parsed into frames, title and artist (an error
// when that tag is malformed).
[[nodiscard]] result<timed_metadata> emsg_metadata(const emsg_box& b, const emsg_clock& clock);

// A repeated (scheme_id_uri, value, id) fires once: remembers the last `ids_per_scheme` keys of
// each of the last `schemes` schemes (least recently seen forgotten first).
class emsg_dedup {
public:
    explicit emsg_dedup(std::size_t ids_per_scheme = 64, std::size_t schemes = 16)
        : ids_per_scheme_(ids_per_scheme), max_schemes_(schemes) {}
    // True the first time the event's key is seen (within the bound); false for a repeat.
    [[nodiscard]] bool first_time(const emsg_event& e);

private:
    struct scheme {
        std::string uri;
        std::deque<std::pair<std::string, std::uint32_t>> recent;  // (value, id), newest first
    };
    std::size_t ids_per_scheme_;
    std::size_t max_schemes_;
    std::deque<scheme> schemes_;  // most recently seen first
};

}  // namespace kithara::hls::detail
