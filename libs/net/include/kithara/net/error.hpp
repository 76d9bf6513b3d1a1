// kithara::net::errc and the "net" error category.
//
//   auto r = kithara::net::fetch(client, {.url = u});
//   if (!r && r.error() == kithara::net::errc::http_status)
//       show(kithara::net::http_status_of(r.error()));  // 404, 503, ...
//   if (!r && r.error() == kithara::condition::cancelled) { /* the caller asked for it */ }
//
// Plain values; any thread; no locks, no buffers. Codes map onto kithara::condition (the three
// timeouts are timed_out, shut_down is closed, ...). Error contexts name the method and the
// redacted URL ("GET http://h/a?token=***: HTTP 404"); they never contain credentials or query
// tokens.
#pragma once

#include <kithara/core/error.hpp>
#include <kithara/net/export.hpp>

#include <system_error>

namespace kithara::net {

enum class errc {
    ok_ = 0,                // unused
    invalid_url,            // malformed or unsupported URL / scheme
    dns,                    // host name did not resolve
    connect,                // connection refused or unreachable
    tls,                    // TLS handshake or certificate verification failed
    http_status,            // the server answered an error status (see http_status_of)
    timeout_connect,        // connect did not finish within timeouts.connect
    timeout_first_byte,     // no response head within timeouts.first_byte
    stalled,                // no bytes for timeouts.stall in the middle of a response
    connection_lost,        // reset, closed early or short body
    cancelled,              // request_handle::cancel() or the request's stop_token
    body_too_large,         // over request_options::max_body_size
    range_not_satisfiable,  // 416: the requested range lies outside the resource
    content_changed,        // the resource changed and could not be restarted safely
    too_many_redirects,     // more than request_options::max_redirects
    retries_exhausted,      // transient failures outlasted retry_policy::max_retries
    protocol,               // malformed or inconsistent response (bad Content-Range, ...)
    transfer_failed,        // any other libcurl failure (CURLcode in the context)
    shut_down,              // the client was destroyed before the request finished
};

KITHARA_NET_EXPORT const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

// The HTTP status carried by an errc::http_status (or retries_exhausted after one) error,
// 0 when there is none.
[[nodiscard]] KITHARA_NET_EXPORT int http_status_of(const kithara::error& e) noexcept;

}  // namespace kithara::net

template <>
struct std::is_error_code_enum<kithara::net::errc> : std::true_type {};
