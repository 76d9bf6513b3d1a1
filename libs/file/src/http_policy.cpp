#include "detail/http_policy.hpp"

#include <kithara/net/error.hpp>
#include <kithara/net/http.hpp>

namespace kithara::file::detail {

namespace http = net::http;

std::int64_t fresh_until_unix(const net::response_head& head,
                              std::chrono::system_clock::time_point received) {
    const auto until = http::fresh_until(head.headers, received);
    if (!until) return 0;
    return std::chrono::floor<std::chrono::seconds>(until->time_since_epoch()).count();
}

bool serves_ranges(const net::response_head& head) {
    return head.status == 206 || http::has_token(head.headers, "accept-ranges", "bytes");
}

std::string infer_container(std::string_view content_type, std::string_view url) {
    if (auto name = http::ffmpeg_name(http::container_of(content_type)); !name.empty())
        return std::string(name);
    return std::string(http::ffmpeg_name(http::container_of_url(url)));
}

bool validators_differ(const meta& stored, const net::response_head& head) {
    if (!stored.etag.empty() && head.etag != stored.etag) return true;
    if (stored.etag.empty() && !stored.last_modified.empty() &&
        head.last_modified != stored.last_modified)
        return true;
    return stored.length && head.entity_size && *head.entity_size != *stored.length;
}

bool resumable(const kithara::error& e) {
    const auto& c = e.code();
    if (c == net::errc::connection_lost || c == net::errc::stalled) return true;
    // retries_exhausted carries the last failure in its context only.
    return c == net::errc::retries_exhausted &&
           e.context().find("HTTP error status") == std::string::npos;
}

bool is_cancellation(const kithara::error& e) {
    return e.code() == net::errc::cancelled;
}

}  // namespace kithara::file::detail
