// Internal: kithara::file's HTTP policy decisions, pure functions over a response head (the HTTP
// vocabulary itself is net's, <kithara/net/http.hpp>): how long a response stays fresh, whether
// the server serves ranges, the demuxer hint, whether a first response shows that the cached copy
// is another entity, and which failed requests are worth resuming. Any thread.
#pragma once

#include <kithara/core/error.hpp>
#include <kithara/net/client.hpp>

#include "detail/meta.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace kithara::file::detail {

// meta::fresh_until of a response received at `received` (unix seconds; 0: revalidate next time):
// net::http::fresh_until (max-age, else Expires - Date; minus the Age; no-cache / no-store / no
// freshness information: revalidate).
std::int64_t fresh_until_unix(const net::response_head& head,
                              std::chrono::system_clock::time_point received);

// The server answers Range requests: a 206, or Accept-Ranges listing "bytes".
bool serves_ranges(const net::response_head& head);

// A demuxer hint (FFmpeg short name) from the Content-Type, else from the URL path's extension;
// "" = let FFmpeg probe. Only specific audio types and well-known extensions count (a playlist or
// application/octet-stream names nothing).
std::string infer_container(std::string_view content_type, std::string_view url);

// The first response for a partly or wholly cached file says the upstream entity is not the
// cached one: an ETag that differs from the stored one (exact comparison, as sent in If-Range),
// else (no stored ETag) a different Last-Modified, or a different entity size.
bool validators_differ(const meta& stored, const net::response_head& head);

// A transient network failure worth a new request when the failed one made progress (connection
// lost, stalled, retries exhausted on anything but an HTTP error status).
bool resumable(const kithara::error& e);

// The request ended because it was cancelled (by the source closing it): not a failure of the
// download. Cancellation is never "success"; the caller decides it is expected.
bool is_cancellation(const kithara::error& e);

}  // namespace kithara::file::detail
