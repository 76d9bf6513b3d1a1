// How a context tells a progressive file from an HLS playlist (see context.hpp): pure decisions
// on the URL, the Content-Type and the first bytes, what the cache holds, and the probe request.
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/kithara/audio_stream.hpp>
#include <kithara/net/client.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kithara::detail {

// The probe reads at most this much of the body.
inline constexpr std::size_t probe_bytes = 4096;

// By the path's extension: a playlist is HLS, a known audio container a file; else nullopt.
std::optional<stream_kind> kind_from_url(std::string_view url) noexcept;
// By the Content-Type: an HLS (mpegurl) type is HLS, a known audio or media type a file.
std::optional<stream_kind> kind_from_content_type(std::string_view content_type) noexcept;
// By the body's first bytes: "#EXTM3U" after an optional UTF-8 BOM and whitespace is HLS,
// anything else a file (the decoder then says whether it is audio).
stream_kind kind_from_body(std::span<const std::byte> head) noexcept;

// What the cache holds for `url`: an HLS stream stores its playlist under the URL itself, a file
// its bytes under other names. nullopt when nothing is cached. Creates nothing.
std::optional<stream_kind> kind_from_cache(assets::asset_store& store, std::string_view url,
                                           const assets::key_policy& keys);

// One GET of the first probe_bytes (a Range request; a server that ignores Range is cut off
// there): the Content-Type, else the body decides. Blocks; never on the client's executor.
// Errors: the request's (a 404 names its status).
result<stream_kind> probe_kind(net::client& client, const std::string& url,
                               const open_options& opts);

}  // namespace kithara::detail
