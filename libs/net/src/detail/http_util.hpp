// Build-internal HTTP helpers of the transfer (header-only; tests include it directly): status
// line, Content-Range, Retry-After, retry backoff. The shared, public ones (header lookup, dates,
// validators, freshness, Content-Type) are in <kithara/net/http.hpp>. Pure functions, any thread.
#pragma once

#include <kithara/net/client.hpp>
#include <kithara/net/http.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

namespace kithara::net::detail {

inline std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

inline std::optional<std::uint64_t> parse_u64(std::string_view s) {
    s = trim(s);
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

// "HTTP/1.1 206 Partial Content" -> 206; 0 when malformed.
inline int parse_status_line(std::string_view line) {
    auto sp = line.find(' ');
    if (sp == std::string_view::npos || line.size() < sp + 4) return 0;
    int v = 0;
    for (std::size_t i = sp + 1; i < sp + 4; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(line[i]))) return 0;
        v = v * 10 + (line[i] - '0');
    }
    return v;
}

struct content_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;             // inclusive
    std::optional<std::uint64_t> size;  // "*" = unknown
};

// "bytes 100-199/1000" (or ".../*").
inline std::optional<content_range> parse_content_range(std::string_view v) {
    v = trim(v);
    if (v.substr(0, 6) != "bytes ") return std::nullopt;
    v.remove_prefix(6);
    auto dash = v.find('-');
    auto slash = v.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
        return std::nullopt;
    auto first = parse_u64(v.substr(0, dash));
    auto last = parse_u64(v.substr(dash + 1, slash - dash - 1));
    if (!first || !last || *last < *first) return std::nullopt;
    content_range r{*first, *last, std::nullopt};
    if (auto total = v.substr(slash + 1); total != "*") {
        r.size = parse_u64(total);
        if (!r.size || *r.size <= *last) return std::nullopt;
    }
    return r;
}

// Retry-After: delay-seconds or an HTTP-date (any of its three forms); nullopt when unparseable.
inline std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view v, std::chrono::system_clock::time_point now) {
    v = trim(v);
    if (auto secs = parse_u64(v)) {
        return std::chrono::milliseconds(std::min<std::uint64_t>(*secs, 86'400) * 1000);
    }
    const auto at = http::parse_http_date(v);
    if (!at) return std::nullopt;
    if (*at <= now) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(*at - now);
}

// Exponential backoff with "equal jitter": uniform in [d/2, d], d = min(cap, initial * 2^(n-1)).
inline std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds initial,
                                               std::chrono::milliseconds cap,
                                               std::minstd_rand& rng) {
    std::int64_t d = initial.count();
    for (int i = 1; i < attempt && d < cap.count(); ++i) d *= 2;
    d = std::min<std::int64_t>(d, cap.count());
    if (d <= 1) return std::chrono::milliseconds(d);
    std::uniform_int_distribution<std::int64_t> dist(d / 2, d);
    return std::chrono::milliseconds(dist(rng));
}

}  // namespace kithara::net::detail
