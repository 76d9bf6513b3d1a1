// parse_playlist(): M3U8 text -> the playlist model, with the accept/reject policy of
// docs/HLS.md (reject what a player cannot recover from, naming the line and the rule; accept
// what a lenient player can, with a warning) and hard limits on everything hostile input grows.
//
//   auto p = kithara::hls::parse_playlist(text, "https://cdn.example/audio/index.m3u8");
//   if (!p) return p.error();  // e.g. "hls: media segment without EXTINF (line 9: ...)"
//   if (p->is_master()) for (const auto& v : p->master().variants) use(v.resolved_uri);
//
// Pure function: any thread, no locks, no I/O. The result owns all its strings; `text` is not
// referenced after the call. Memory and time are linear in the input, bounded by the limits.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/hls/export.hpp>
#include <kithara/hls/playlist.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kithara::hls {

// Every bound is checked before memory grows; exceeding one fails with errc::limit_exceeded,
// naming the limit and the line.
struct parse_limits {
    std::size_t max_input_bytes = 16u << 20;  // the whole playlist text
    std::size_t max_line_length = 64u << 10;  // one line, also after variable substitution
    std::size_t max_segments = 200'000;       // also bounds keys, maps, dates, date ranges, parts
    std::size_t max_variants = 1'000;         // STREAM-INF + I-FRAME-STREAM-INF
    std::size_t max_renditions = 1'000;       // EXT-X-MEDIA; also session data/keys, reports, hints
    std::size_t max_attributes = 64;          // attributes in one attribute list
    std::size_t max_variables = 256;          // EXT-X-DEFINE
    // Total bytes produced by {$var} substitution over the whole playlist (values are never
    // expanded recursively, so this is the only way substitution can grow the input).
    std::size_t max_expansion_bytes = 4u << 20;
};

struct parse_options {
    parse_limits limits;
    // Variables of the master playlist, for EXT-X-DEFINE:IMPORT in a media playlist
    // (master_playlist::variables of the playlist that listed this one).
    std::vector<variable> imports;
};

// What a lenient player recovers from; recorded once per kind with its first line and count.
enum class warning_kind {
    byte_order_mark,      // UTF-8 BOM before #EXTM3U
    crlf_line_ends,       // CR LF instead of LF
    trailing_whitespace,  // spaces or tabs at the end of a line
    missing_version,      // no EXT-X-VERSION (version 1 assumed)
    version_too_low,      // a feature newer than the declared EXT-X-VERSION
    missing_target_duration,
    extinf_exceeds_target,  // EXTINF rounded is longer than TARGETDURATION
    attribute_ignored,      // an attribute not allowed here (e.g. URI on METHOD=NONE)
    tag_after_endlist,      // media segments after EXT-X-ENDLIST
    empty_title_comma,      // EXTINF without the ',' the grammar requires
};

struct warning {
    warning_kind kind;
    std::size_t line = 0;   // first occurrence
    std::size_t count = 0;  // occurrences
    std::string message;    // first occurrence, human readable
};

[[nodiscard]] KITHARA_HLS_EXPORT const char* to_string(warning_kind k) noexcept;

struct playlist {
    std::variant<master_playlist, media_playlist> content;
    std::vector<warning> warnings;

    [[nodiscard]] bool is_master() const noexcept { return content.index() == 0; }
    [[nodiscard]] const master_playlist& master() const { return std::get<0>(content); }
    [[nodiscard]] const media_playlist& media() const { return std::get<1>(content); }
    [[nodiscard]] master_playlist& master() { return std::get<0>(content); }
    [[nodiscard]] media_playlist& media() { return std::get<1>(content); }
};

// `url` is the playlist's final URL (after redirects): relative URIs are resolved against it
// (RFC 3986), and QUERYPARAM variables come from its query.
[[nodiscard]] KITHARA_HLS_EXPORT result<playlist> parse_playlist(std::string_view text,
                                                                 std::string_view url,
                                                                 const parse_options& options = {});

}  // namespace kithara::hls
