// The HLS playlist model: master (multivariant) and media playlists as parse_playlist() returns
// them (RFC 8216 and rfc8216bis; LL-HLS tags kept for live playback).
//
//   const kithara::hls::media_playlist& m = parsed.media();
//   for (const auto& s : m.segments)
//       if (const auto* k = m.key_of(s)) fetch_key(k->resolved_uri);  // nullptr: clear segment
//
// Plain values: copyable, no locks, any thread (a const model may be shared between threads).
// Every string is owned by the model. URIs are kept twice: `uri` as written in the playlist
// (after variable substitution) and `resolved_uri`, absolute, resolved against the playlist URL.
// Per-segment state that carries over (key, map, program date time) is an index into the
// playlist's vectors, so a 10,000-segment playlist stores each key and map once.
#pragma once

#include <kithara/hls/export.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls {

inline constexpr std::uint32_t no_index = 0xFFFFFFFFu;

// Bytes [offset, offset + length) of a resource; the offset is always resolved (an omitted
// offset is the end of the previous sub-range of the same resource).
struct byte_range {
    std::uint64_t length = 0;
    std::uint64_t offset = 0;
    friend bool operator==(const byte_range&, const byte_range&) = default;
};

enum class key_method { none, aes_128, sample_aes, sample_aes_ctr };

// EXT-X-KEY / EXT-X-SESSION-KEY.
struct key {
    key_method method = key_method::none;
    std::string method_text;  // as written: "AES-128", "NONE", ...
    std::string uri;          // as written; empty for NONE
    std::string resolved_uri;
    std::optional<std::array<std::uint8_t, 16>> iv;  // the IV attribute, if present
    std::string iv_text;                             // the IV attribute as written, or empty
    std::string keyformat = "identity";
    std::string keyformatversions;  // as written, or empty (= "1")
    std::size_t line = 0;
};

// EXT-X-MAP: the media initialization section.
struct init_section {
    std::string uri;
    std::string resolved_uri;
    std::optional<byte_range> range;  // BYTERANGE attribute (an omitted offset is 0)
    std::size_t line = 0;
};

// EXT-X-PART (LL-HLS): a part of the segment that follows it. Parts are not segments.
struct part {
    double duration = 0;
    std::string uri;
    std::string resolved_uri;
    std::optional<byte_range> range;
    bool independent = false;
    bool gap = false;
};

struct segment {
    double duration = 0;               // EXTINF, seconds
    std::optional<std::string> title;  // EXTINF's title, if not empty
    std::string uri;
    std::string resolved_uri;
    std::optional<byte_range> range;  // EXT-X-BYTERANGE
    std::uint64_t media_sequence = 0;
    std::uint64_t discontinuity_sequence = 0;
    // Keys in effect: media_playlist::keys[key .. key + key_count) (several KEYFORMATs may apply
    // at once); key_count == 0 means not encrypted (no EXT-X-KEY yet, or METHOD=NONE, which is
    // not stored). See key_of().
    std::uint32_t key = no_index;
    std::uint32_t key_count = 0;
    std::uint32_t map = no_index;                // media_playlist::maps index, or no_index
    std::uint32_t program_date_time = no_index;  // media_playlist::program_date_times index
    bool program_date_time_tagged = false;       // the EXT-X-PROGRAM-DATE-TIME precedes this one
    bool discontinuity = false;                  // an EXT-X-DISCONTINUITY precedes it
    bool gap = false;                            // EXT-X-GAP: do not load
    std::uint64_t bitrate_kbps = 0;              // EXT-X-BITRATE in effect, 0 = none
    std::vector<part> parts;                     // LL-HLS parts of this segment
    std::size_t line = 0;                        // of the URI line
};

enum class playlist_type { vod, event };

struct start_point {
    double time_offset = 0;  // seconds; negative = from the end
    bool precise = false;
};

// EXT-X-DATERANGE; client attributes (X-*) and SCTE35-* kept as written.
struct date_range {
    struct attribute {
        std::string name;
        std::string value;  // quoted strings without their quotes
    };
    std::string id;
    std::string class_name;
    std::optional<std::string> start_date;
    std::optional<std::string> end_date;
    std::optional<double> duration;
    std::optional<double> planned_duration;
    bool end_on_next = false;
    std::vector<attribute> attributes;
    std::size_t line = 0;
};

// EXT-X-SERVER-CONTROL (LL-HLS and delta updates).
struct server_control {
    std::optional<double> can_skip_until;
    bool can_skip_dateranges = false;
    std::optional<double> hold_back;
    std::optional<double> part_hold_back;
    bool can_block_reload = false;
};

struct preload_hint {
    enum class kind { part, map };
    kind type = kind::part;
    std::string uri;
    std::string resolved_uri;
    std::uint64_t byterange_start = 0;
    std::optional<std::uint64_t> byterange_length;
};

struct rendition_report {
    std::string uri;
    std::string resolved_uri;
    std::optional<std::uint64_t> last_msn;
    std::optional<std::uint64_t> last_part;
};

// EXT-X-SKIP: a delta update replaced this many segments before the first listed one.
struct skip_info {
    std::uint64_t skipped_segments = 0;
    std::vector<std::string> recently_removed_dateranges;
};

// EXT-X-DEFINE, after IMPORT / QUERYPARAM were looked up.
struct variable {
    std::string name;
    std::string value;
};

struct KITHARA_HLS_EXPORT media_playlist {
    std::string url;  // the URL the playlist was resolved against (the final URL)
    std::optional<int> version;
    std::optional<std::uint64_t> target_duration;  // REQUIRED by the spec; absent = warning
    std::uint64_t media_sequence = 0;
    std::uint64_t discontinuity_sequence = 0;
    bool endlist = false;
    std::optional<playlist_type> type;
    bool i_frames_only = false;
    bool independent_segments = false;
    std::optional<start_point> start;

    std::vector<segment> segments;
    std::vector<key> keys;
    std::vector<init_section> maps;
    std::vector<std::string> program_date_times;  // raw values, as written
    std::vector<date_range> date_ranges;
    std::vector<variable> variables;

    // LL-HLS.
    std::optional<double> part_target;    // EXT-X-PART-INF PART-TARGET
    std::vector<part> trailing_parts;     // parts after the last segment (its successor)
    bool trailing_discontinuity = false;  // EXT-X-DISCONTINUITY before the trailing parts
    bool trailing_key_or_map = false;     // EXT-X-KEY or EXT-X-MAP after the last segment
    std::optional<server_control> control;
    std::vector<preload_hint> preload_hints;
    std::vector<rendition_report> rendition_reports;
    std::optional<skip_info> skip;

    // The key a player uses for `s`: the "identity" KEYFORMAT one if several apply, else the
    // first; nullptr when the segment is not encrypted (no key, or METHOD=NONE).
    [[nodiscard]] const key* key_of(const segment& s) const noexcept;
    // The EXT-X-MAP in effect for `s`, or nullptr.
    [[nodiscard]] const init_section* map_of(const segment& s) const noexcept;
    // The raw EXT-X-PROGRAM-DATE-TIME value in effect for `s` (the latest one at or before it).
    [[nodiscard]] const std::string* program_date_time_of(const segment& s) const noexcept;
    // Sum of the segment durations, seconds.
    [[nodiscard]] double duration() const noexcept;
};

struct resolution {
    std::uint64_t width = 0;
    std::uint64_t height = 0;
};

// EXT-X-STREAM-INF (with its URI line) or EXT-X-I-FRAME-STREAM-INF (URI attribute).
struct variant_stream {
    std::uint64_t bandwidth = 0;
    std::optional<std::uint64_t> average_bandwidth;
    std::optional<std::string> codecs;
    std::optional<kithara::hls::resolution> resolution;
    std::optional<double> frame_rate;
    std::optional<std::string> audio;
    std::optional<std::string> video;
    std::optional<std::string> subtitles;
    std::optional<std::string> closed_captions;  // a GROUP-ID, or "NONE" (enumerated)
    std::optional<std::string> hdcp_level;
    std::optional<double> score;
    std::string uri;
    std::string resolved_uri;
    std::size_t line = 0;
};

enum class media_type { audio, video, subtitles, closed_captions };

// EXT-X-MEDIA.
struct rendition {
    media_type type = media_type::audio;
    std::string group_id;
    std::string name;
    std::optional<std::string> language;
    std::optional<std::string> assoc_language;
    bool is_default = false;
    bool autoselect = false;
    bool forced = false;
    std::optional<std::string> instream_id;
    std::optional<std::string> channels;
    std::optional<std::string> characteristics;
    std::optional<std::string> uri;  // absent: the rendition is in the variant's stream
    std::string resolved_uri;        // empty without uri
    std::size_t line = 0;
};

// EXT-X-SESSION-DATA.
struct session_data {
    std::string data_id;
    std::optional<std::string> value;
    std::optional<std::string> uri;
    std::string resolved_uri;
    std::optional<std::string> language;
};

struct master_playlist {
    std::string url;
    std::optional<int> version;
    bool independent_segments = false;
    std::optional<start_point> start;
    std::vector<variant_stream> variants;         // playable, in playlist order
    std::vector<variant_stream> iframe_variants;  // EXT-X-I-FRAME-STREAM-INF, never playable
    std::vector<rendition> renditions;
    std::vector<kithara::hls::session_data> session_data;
    std::vector<key> session_keys;
    std::vector<variable> variables;  // IMPORT-able by the media playlists it lists
};

[[nodiscard]] KITHARA_HLS_EXPORT const char* to_string(key_method m) noexcept;
[[nodiscard]] KITHARA_HLS_EXPORT const char* to_string(media_type t) noexcept;
[[nodiscard]] KITHARA_HLS_EXPORT const char* to_string(playlist_type t) noexcept;

}  // namespace kithara::hls
