// kithara::hls::errc and the "hls" error category: why a playlist was rejected.
//
//   auto p = kithara::hls::parse_playlist(text, "https://cdn.example/a/index.m3u8");
//   if (!p && p.error() == kithara::hls::errc::missing_extinf) { /* a URI line without EXTINF */ }
//   std::string line = p.error().message();  // "hls: ... (line 7: <rule>)"
//
// Any thread. Every parser error's context starts with "line N: " and names the rule broken.
// AES-128 errors (aes.hpp) carry no key material. Network errors of the loader pass through
// unchanged (kithara::net::errc). Shared conditions (kithara/core/condition.hpp): offline_miss
// is condition::unavailable, content_changed is condition::content_changed.
#pragma once

#include <kithara/hls/export.hpp>

#include <system_error>
#include <type_traits>

namespace kithara::hls {

enum class errc {
    ok_ = 0,                   // unused
    missing_header,            // the first line is not #EXTM3U
    missing_extinf,            // a media segment URI without a preceding EXTINF
    missing_uri,               // EXTINF / EXT-X-STREAM-INF not followed by a URI line
    invalid_value,             // a value of the wrong type or out of range
    invalid_attribute_list,    // attribute-list syntax (names, quotes, separators, duplicates)
    missing_attribute,         // a REQUIRED attribute is absent
    byterange_without_offset,  // BYTERANGE without @offset and no previous range of that URI
    undefined_variable,        // {$name} with no EXT-X-DEFINE, or IMPORT/QUERYPARAM not found
    duplicate_tag,             // a tag that may occur once occurs again
    duplicate_variable,        // EXT-X-DEFINE of a name already defined
    mixed_playlist,            // master (multivariant) and media playlist tags together
    misplaced_tag,             // a tag where the spec forbids it (IMPORT in a master playlist)
    limit_exceeded,            // a parse_options::limits bound was hit
    bad_response,              // the loader got something that is not a playlist body
    bad_key,                   // an AES-128 key or IV of the wrong size
    decrypt_failed,            // ciphertext not whole blocks, or bad padding (a wrong key)
    not_supported,             // SAMPLE-AES, a KEYFORMAT other than identity, no audio variant
    segment_failed,            // a segment, init section or key could not be had (URI, status)
    offline_miss,              // offline mode and the bytes are not in the cache
    content_changed,           // a segment's validator or a VOD playlist's segments changed
    bad_metadata,              // timed metadata (ID3 tag, emsg box) malformed or over its limit
};

[[nodiscard]] KITHARA_HLS_EXPORT const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

}  // namespace kithara::hls

template <>
struct std::is_error_code_enum<kithara::hls::errc> : std::true_type {};
