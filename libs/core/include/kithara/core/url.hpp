// URI references per RFC 3986: split into components (appendix B), remove dot segments (5.2.4)
// and resolve a reference against a base (5.2.2–5.3), e.g. an HLS segment URI against its
// playlist's URL. One parser for every layer: net redacts with it, assets canonicalizes with it.
//
//   auto p = kithara::split_url("https://cdn.example:8443/a/b.m3u8?x=1#t");
//   // p.scheme == "https", p.authority == "cdn.example:8443", p.path == "/a/b.m3u8"
//   auto seg = kithara::resolve_url("https://cdn.example/a/b.m3u8", "../seg-1.ts");
//   // seg == "https://cdn.example/seg-1.ts"
//
// Pure functions, any thread, no locks. Views returned point into the input (the caller keeps it
// alive); strings returned are the caller's. Nothing here validates
// characters or percent-encoding (canonicalization is assets' job); every input splits.
#pragma once

#include <kithara/core/export.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace kithara {

// The five components; an absent component differs from an empty one ("a:?" has an empty query).
struct url_parts {
    std::optional<std::string_view> scheme;     // without the ':'
    std::optional<std::string_view> authority;  // without the "//"
    std::string_view path;
    std::optional<std::string_view> query;     // without the '?'
    std::optional<std::string_view> fragment;  // without the '#'
};

// The authority's subcomponents. An IPv6 literal keeps its brackets ("[::1]").
struct authority_parts {
    std::optional<std::string_view> userinfo;  // before the last '@'
    std::string_view host;
    std::optional<std::string_view> port;  // after the ':' that follows the host
};

[[nodiscard]] KITHARA_CORE_EXPORT url_parts split_url(std::string_view url) noexcept;
[[nodiscard]] KITHARA_CORE_EXPORT authority_parts
split_authority(std::string_view authority) noexcept;

// Components back into a reference (RFC 3986 5.3).
[[nodiscard]] KITHARA_CORE_EXPORT std::string join_url(const url_parts& p);

// RFC 3986 5.2.4: "." and ".." segments removed ("/a/b/../c/./d" -> "/a/c/d").
[[nodiscard]] KITHARA_CORE_EXPORT std::string remove_dot_segments(std::string_view path);

// RFC 3986 5.2.2 (strict): `ref` resolved against the absolute URL `base`; the result has no
// fragment unless `ref` has one. A ref with a scheme is returned normalized, not reinterpreted.
[[nodiscard]] KITHARA_CORE_EXPORT std::string resolve_url(std::string_view base,
                                                          std::string_view ref);

}  // namespace kithara
