// Internal: a failed attempt of a transfer (the error, whether it may be retried, and a server's
// Retry-After), and the mapping of a libcurl result code onto it. Pure, any thread.
#pragma once

#include <kithara/core/error.hpp>
#include <kithara/net/error.hpp>

#include <curl/curl.h>

#include <chrono>
#include <optional>

namespace kithara::net::detail {

struct failure {
    kithara::error err;
    bool retryable = false;
    std::optional<std::chrono::milliseconds> retry_after;
};

// The net error for a libcurl result: invalid_url, dns, connect, timeout_connect, tls,
// too_many_redirects, body_too_large, connection_lost, protocol, else transfer_failed with the
// CURLcode in the context. `detail`: libcurl's error buffer (may be empty).
failure map_curl(CURLcode rc, const char* detail);

}  // namespace kithara::net::detail
