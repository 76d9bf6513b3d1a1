// URL canonicalization and the fixed-length keys that name assets and resources on disk.
//
//   kithara::assets::key_policy policy{.query = kithara::assets::query_policy::keep,
//                                      .ignored_query_params = {"token"}};
//   auto canon = kithara::assets::canonicalize_url("HTTP://Host:80/a/./b%7e?x=1&token=t", policy);
//   // *canon == "http://host/a/b~?x=1"
//   auto k = kithara::assets::resource_key(*canon);   // k.hex(): 32 lowercase hex characters
//
// Canonical form: scheme and host lowercased; userinfo (credentials) dropped; default port (80 for
// http/ws, 443 for https/wss, 21 for ftp) and an empty port dropped; empty path becomes "/"; dot
// segments removed (RFC 3986 5.2.4); percent-escapes of unreserved characters decoded, other
// escapes upper-cased, bytes outside the URL character set percent-encoded; fragment dropped; query
// kept, dropped, or kept without the named parameters, by policy. A key is SHA-256 over a domain
// tag ("asset" or "resource") and the canonical URL, truncated to 128 bits: the file system only
// ever sees its hex form, so no URL can reach a path outside the store. Pure functions; any
// thread; no locks; returned strings and keys are the caller's.
#pragma once

#include <kithara/assets/export.hpp>
#include <kithara/core/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::assets {

enum class query_policy {
    keep,  // the query is part of the key (default: different queries are different content)
    drop,  // the query is ignored (e.g. CDN URLs whose query only carries a signed token)
};

struct key_policy {
    query_policy query = query_policy::keep;
    // With query_policy::keep: parameters whose name is listed are removed (e.g. "token").
    std::vector<std::string> ignored_query_params;
};

// Canonical form of an absolute URL ("scheme://authority/path?query"); errc::invalid_url otherwise.
[[nodiscard]] KITHARA_ASSETS_EXPORT result<std::string> canonicalize_url(std::string_view url,
                                                                         const key_policy& policy);

// A 128-bit name. hex() is the only form that reaches the file system.
struct key {
    std::array<std::uint8_t, 16> bytes{};

    [[nodiscard]] KITHARA_ASSETS_EXPORT std::string hex() const;
    // Parses exactly 32 lowercase hex characters.
    [[nodiscard]] KITHARA_ASSETS_EXPORT static bool from_hex(std::string_view s, key& out);
    friend bool operator==(const key&, const key&) = default;
    friend auto operator<=>(const key&, const key&) = default;
};

struct key_hash {
    std::size_t operator()(const key& k) const noexcept {
        std::size_t h;
        std::memcpy(&h, k.bytes.data(), sizeof h);  // already uniformly distributed
        return h;
    }
};

// SHA-256("kithara-asset\0" + canonical) truncated; the caller canonicalizes first.
[[nodiscard]] KITHARA_ASSETS_EXPORT key asset_key(std::string_view canonical_url);
// SHA-256("kithara-resource\0" + canonical) truncated.
[[nodiscard]] KITHARA_ASSETS_EXPORT key resource_key(std::string_view canonical_url);
// The key of a processed variant: SHA-256("kithara-processed\0" + canonical + "\0" + transform).
[[nodiscard]] KITHARA_ASSETS_EXPORT key processed_key(std::string_view canonical_url,
                                                      std::string_view transform_name);

}  // namespace kithara::assets
