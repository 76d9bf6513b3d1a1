// How a context tells a progressive file from an HLS playlist and a radio list (see
// context.hpp): pure decisions on the URL, the Content-Type and the first bytes, what the cache
// holds, and the probe request.
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

// What a URL names before its media is read: a file, HLS, or a radio list (radio_list.hpp):
// PLS, or an M3U whose text tells a plain list (stream URLs) from HLS (#EXT-X- tags).
enum class source { file, hls, list };

// By the path's extension: .m3u8 is HLS, .m3u and .pls a list, a known audio container a file;
// else nullopt.
std::optional<source> kind_from_url(std::string_view url) noexcept;
// By the Content-Type: application/vnd.apple.mpegurl is HLS, the other mpegurl types (which
// radio lists use too) and audio/x-scpls a list, a known audio or media type a file.
std::optional<source> kind_from_content_type(std::string_view content_type) noexcept;
// By the body's first bytes (after an optional UTF-8 BOM and whitespace): "#EXTM3U" is HLS when
// an #EXT-X- tag follows within them, else a list; "[playlist]" (PLS) and a first line that is
// an http(s) URL a list; anything else a file (the decoder then says whether it is audio).
source kind_from_body(std::span<const std::byte> head) noexcept;

// What the cache holds for `url`: an HLS stream stores its playlist under the URL itself, a file
// its bytes under other names. nullopt when nothing is cached. Creates nothing.
std::optional<stream_kind> kind_from_cache(assets::asset_store& store, std::string_view url,
                                           const assets::key_policy& keys);

// One GET of the first probe_bytes (a Range request; a server that ignores Range is cut off
// there): the Content-Type, else the body decides. Blocks; never on the client's executor.
// Errors: the request's (a 404 names its status).
result<source> probe_kind(net::client& client, const std::string& url, const open_options& opts);

// GETs the radio list at `url` whole, at most max_list_bytes (radio_list.hpp; a longer body is
// context_errc::bad_radio_list naming the limit). Blocks; never on the client's executor.
// Errors: the request's (a 404 names its status).
result<std::string> fetch_list_text(net::client& client, const std::string& url,
                                    const open_options& opts);

// The public kind of a source that is not a list.
inline stream_kind public_kind(source k) noexcept {
    return k == source::hls ? stream_kind::hls : stream_kind::file;
}
inline source source_of(stream_kind k) noexcept {
    return k == stream_kind::hls ? source::hls : source::file;
}

}  // namespace kithara::detail
