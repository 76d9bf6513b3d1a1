// kithara::net::http: the HTTP helpers every protocol layer shares (file now, hls next): header
// lookup, HTTP-date parsing, validators (ETag comparison, If-Range), freshness from
// Cache-Control / Expires / Date / Age, and Content-Type to container.
//
//   namespace http = kithara::net::http;
//   auto fresh = http::fresh_until(head.headers, std::chrono::system_clock::now());
//   auto demuxer = http::ffmpeg_name(http::container_of(head.content_type));  // "mp3", ...
//
// Header lookup rule (one rule for every layer): names compare case-insensitively. A singleton
// field (ETag, Content-Type, Content-Length, Last-Modified, Date, Expires, Age, Location, ...)
// takes the value of its LAST field line: a header list that spans several responses of a
// redirect chain (in the order received) then answers for the final response, and net's own
// response_head fields (etag, last_modified, content_type) follow the same rule. A list field
// (Cache-Control, Accept-Ranges, Vary, ...) is every field line joined with ", " in order
// (RFC 9110 5.3), so `Cache-Control: max-age=60` plus `Cache-Control: no-cache` is no-cache.
// net's response_head.headers holds the final response's fields only (a redirect's or an interim
// response's are dropped when the next status line arrives).
//
// Threads: pure functions, any thread; nothing is locked. Buffers: a returned string_view points
// into the caller's header vector (valid while it is); everything else is returned by value.
#pragma once

#include <kithara/net/client.hpp>
#include <kithara/net/export.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::net::http {

using time_point = std::chrono::system_clock::time_point;

// ---- header lookup ---------------------------------------------------------------------------

// ASCII case-insensitive equality (header names, tokens, media types).
KITHARA_NET_EXPORT bool iequals(std::string_view a, std::string_view b) noexcept;

// ASCII lowercase copy.
KITHARA_NET_EXPORT std::string to_lower(std::string_view s);

// A singleton field: the value of the last field line named `name`, "" when absent.
KITHARA_NET_EXPORT std::string_view header_value(const std::vector<header>& headers,
                                                 std::string_view name) noexcept;

// A list field: every field line named `name`, in order, joined with ", "; "" when absent.
KITHARA_NET_EXPORT std::string header_list(const std::vector<header>& headers,
                                           std::string_view name);

// True when the list field `name` holds `token` as one of its comma-separated elements
// (case-insensitive; parameters after ';' or '=' ignored), e.g. has_token(h, "accept-ranges",
// "bytes").
KITHARA_NET_EXPORT bool has_token(const std::vector<header>& headers, std::string_view name,
                                  std::string_view token);

// ---- dates -----------------------------------------------------------------------------------

// An HTTP-date (RFC 9110 5.6.7) in any of its three forms:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"   (what servers must send)
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"  (obsolete; years 70-99 are 19xx, 00-69 20xx)
//   asctime      "Sun Nov  6 08:49:37 1994"        (obsolete)
// Locale-independent; surrounding whitespace ignored; nullopt for anything else (a bad field,
// an impossible date such as 31 Feb). A date past what system_clock holds (2262, nanosecond
// ticks) saturates to time_point::max().
KITHARA_NET_EXPORT std::optional<time_point> parse_http_date(std::string_view s) noexcept;

// IMF-fixdate of t (whole seconds, UTC).
KITHARA_NET_EXPORT std::string format_http_date(time_point t);

// ---- validators ------------------------------------------------------------------------------

// `W/"x"`: a weak entity tag.
KITHARA_NET_EXPORT bool is_weak_etag(std::string_view etag) noexcept;

// RFC 9110 8.8.3.2: strong comparison (both strong, same opaque tag) and weak comparison (same
// opaque tag, either may be weak). Empty tags never match.
KITHARA_NET_EXPORT bool strong_etag_match(std::string_view a, std::string_view b) noexcept;
KITHARA_NET_EXPORT bool weak_etag_match(std::string_view a, std::string_view b) noexcept;

// The validator to send in If-Range for an entity with these validators: its ETag when strong
// (a weak ETag must not be sent, RFC 9110 13.1.5), else its Last-Modified as received, else ""
// (no If-Range possible: a resume cannot prove it continues the same entity).
KITHARA_NET_EXPORT std::string if_range_validator(std::string_view etag,
                                                  std::string_view last_modified);

// ---- freshness -------------------------------------------------------------------------------

struct cache_control {
    bool no_store = false;
    bool no_cache = false;  // also the qualified form no-cache="field"
    bool must_revalidate = false;
    std::optional<std::chrono::seconds> max_age;  // the smallest, when repeated
};

// The Cache-Control directives of a response (tokens case-insensitive, unknown ones ignored; a
// max-age that is not a non-negative number counts as max-age=0).
KITHARA_NET_EXPORT cache_control parse_cache_control(std::string_view value);

// Until when a response received at `received` is fresh (RFC 9111 4.2), for a private cache:
// freshness lifetime = max-age, else Expires - Date (Expires - received without a Date); minus the
// response's age at receipt = max(Age, received - Date). nullopt: reuse needs revalidation
// (no-store, no-cache, no or invalid freshness information, or already stale). s-maxage (shared
// caches) and heuristic freshness are not used. must-revalidate is reported by parse_cache_control;
// whether a stale copy may still be served when the origin is unreachable is the caller's policy.
KITHARA_NET_EXPORT std::optional<time_point> fresh_until(const std::vector<header>& headers,
                                                         time_point received);

// ---- content type ----------------------------------------------------------------------------

enum class container {
    unknown,
    mp3,       // audio/mpeg, audio/mp3, audio/mpeg3, audio/x-mpeg, audio/x-mp3
    mp4,       // audio/mp4, audio/x-m4a, audio/m4a, video/mp4 (also fragmented MP4)
    adts,      // audio/aac, audio/aacp, audio/x-aac (raw AAC in ADTS frames)
    flac,      // audio/flac, audio/x-flac
    ogg,       // audio/ogg, audio/opus, audio/vorbis, application/ogg
    wav,       // audio/wav, audio/x-wav, audio/wave, audio/vnd.wave
    mpegts,    // video/mp2t, audio/mp2t
    playlist,  // application/vnd.apple.mpegurl, application/x-mpegurl, audio/mpegurl,
               // audio/x-mpegurl (an HLS or M3U playlist, not media)
    pls,       // audio/x-scpls (a PLS list of stream URLs, as radio directories serve)
};

// The container a Content-Type names; parameters (";codecs=...", ";charset=...") and case are
// ignored. unknown for anything else (including application/octet-stream).
KITHARA_NET_EXPORT container container_of(std::string_view content_type) noexcept;

// The container a URL's path extension names (query and fragment ignored, case-insensitive):
// .mp3; .m4a .m4b .mp4 (mp4); .aac (adts); .flac; .ogg .oga .opus (ogg); .wav; .ts (mpegts);
// .m3u8 .m3u (playlist); .pls. unknown for anything else, or no extension in the last path
// segment.
KITHARA_NET_EXPORT container container_of_url(std::string_view url) noexcept;

// The extension of a URL's last path segment, without the dot, as written ("m3u" for
// "http://h/a/list.m3u?x=1#y"); empty when that segment has none.
KITHARA_NET_EXPORT std::string_view extension_of_url(std::string_view url) noexcept;

// FFmpeg's demuxer short name for a media container ("mp3", "mov", "aac", "flac", "ogg", "wav",
// "mpegts"); "" for unknown and playlist.
KITHARA_NET_EXPORT std::string_view ffmpeg_name(container c) noexcept;

}  // namespace kithara::net::http
