// Internal: what kithara::file stores beside a file's data (the atomic resource
// "kithara-file://meta/v1" of its asset): data generation, validators, length, freshness, Range
// support and the inferred container. Text, one `key=value` per line after a version line:
//
//   kithara-file-meta 1
//   gen=3
//   etag="abc"
//   last_modified=Tue, 14 Nov 2023 22:13:20 GMT
//   length=1048576            ("-": unknown)
//   fetched_at=1700000000     (unix seconds of the last validated response)
//   fresh_until=1700003600    (unix seconds; 0: revalidate)
//   ranges=1                  (0: the server ignores Range)
//   container=mp3             (optional: added within version 1; "" = let FFmpeg probe)
//
// Versioning: a reader accepts its own version only, requires every key version 1 always wrote,
// ignores keys it does not know (additions that older readers may skip stay version 1) and rejects
// anything else (bad header, other version, missing or repeated key, bad number, a line without
// '=' or without its newline, control characters) with an error naming the line. The caller then
// starts over with an empty cache entry. Pure value type, any thread.
#pragma once

#include <kithara/core/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kithara::file::detail {

inline constexpr const char* meta_name = "kithara-file://meta/v1";
inline constexpr int meta_version = 1;

struct meta {
    std::uint64_t gen = 0;
    std::string etag;
    std::string last_modified;
    std::optional<std::uint64_t> length;
    std::int64_t fetched_at = 0;   // unix seconds of the last validated response
    std::int64_t fresh_until = 0;  // unix seconds; 0: revalidate
    bool ranges = true;
    std::string container;  // inferred demuxer hint ("" = probe)

    [[nodiscard]] bool has_validator() const { return !etag.empty() || !last_modified.empty(); }
    // The If-Range validator for a resume of this entity: a strong ETag, else Last-Modified.
    [[nodiscard]] std::string if_range() const;

    // The stored text. A text field holding a control character (which no HTTP header delivers)
    // is stored empty rather than breaking the line format.
    [[nodiscard]] std::string serialize() const;
    [[nodiscard]] static result<meta> parse(std::string_view text);

    bool operator==(const meta&) const = default;
};

}  // namespace kithara::file::detail
