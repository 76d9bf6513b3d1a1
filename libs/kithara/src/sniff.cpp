#include "detail/sniff.hpp"

#include "detail/radio_list.hpp"

#include <kithara/assets/key.hpp>
#include <kithara/net/error.hpp>
#include <kithara/net/http.hpp>
#include <kithara/net/url.hpp>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace kithara::detail {

namespace http = net::http;
using http::iequals;

namespace {

std::optional<source> kind_of(http::container c) noexcept {
    switch (c) {
        case http::container::unknown:
            return std::nullopt;
        case http::container::playlist:
        case http::container::pls:
            return source::list;  // the callers tell HLS apart
        default:
            return source::file;
    }
}

// Keeps the Content-Type and up to probe_bytes of the body, then stops the transfer.
class probe_sink final : public net::sink {
public:
    result<> on_response(const net::response_head& head) override {
        std::lock_guard lk(m_);
        content_type_ = head.content_type;
        if (decided_by_type()) return stop_locked();
        return {};
    }

    result<> on_data(std::uint64_t, std::span<const std::byte> bytes) override {
        std::lock_guard lk(m_);
        const std::size_t take = std::min(bytes.size(), probe_bytes - body_.size());
        body_.insert(body_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
        if (body_.size() >= probe_bytes) return stop_locked();
        return {};
    }

    result<> on_restart(const net::response_head& head) override {
        std::lock_guard lk(m_);
        body_.clear();
        content_type_ = head.content_type;
        if (decided_by_type()) return stop_locked();
        return {};
    }

    void on_complete(result<net::transfer_stats> outcome) override {
        {
            std::lock_guard lk(m_);
            if (!outcome && !enough_) failure_ = outcome.error();
            done_ = true;
        }
        cv_.notify_all();
    }

    // Blocks until on_complete ran.
    result<source> wait() {
        std::unique_lock lk(m_);
        cv_.wait(lk, [this] { return done_; });
        if (failure_) return fail(*failure_);
        const auto by_type = kind_from_content_type(content_type_);
        if (by_type && by_type != source::list) return *by_type;
        // A list type (mpegurl, scpls) or none: the body tells HLS from a list, and a list type
        // over a body that looks like neither stays a list (whose text then says what is wrong).
        const auto by_body = kind_from_body(body_);
        return by_type && by_body == source::file ? source::list : by_body;
    }

private:
    // A file or HLS type decides at once; a list type (audio/x-mpegurl serves HLS too) waits for
    // the first bytes.
    bool decided_by_type() const {
        const auto k = kind_from_content_type(content_type_);
        return k && k != source::list;
    }

    // Ends the transfer: what is had decides.
    result<> stop_locked() {
        enough_ = true;
        return fail(context_errc::closed, "probe: enough bytes to tell file from HLS");
    }

    std::mutex m_;  // guards everything below (the executor writes, wait() reads)
    std::condition_variable cv_;
    std::string content_type_;
    std::vector<std::byte> body_;  // at most probe_bytes
    std::optional<error> failure_;
    bool enough_ = false;
    bool done_ = false;
};

}  // namespace

std::optional<source> kind_from_url(std::string_view url) noexcept {
    const auto k = kind_of(http::container_of_url(url));
    if (k == source::list && iequals(http::extension_of_url(url), "m3u8")) return source::hls;
    return k;
}

std::optional<source> kind_from_content_type(std::string_view content_type) noexcept {
    const auto k = kind_of(http::container_of(content_type));
    const auto type = content_type.substr(0, content_type.find(';'));
    const auto end = type.find_last_not_of(" \t");
    if (k == source::list && iequals(type.substr(0, end == std::string_view::npos ? 0 : end + 1),
                                     "application/vnd.apple.mpegurl"))
        return source::hls;  // Apple's type: HLS only
    return k;
}

source kind_from_body(std::span<const std::byte> head) noexcept {
    std::string_view s(reinterpret_cast<const char*>(head.data()), head.size());
    if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    if (s.starts_with("#EXTM3U"))
        return s.find("#EXT-X-") != std::string_view::npos ? source::hls : source::list;
    const auto first_line = s.substr(0, s.find_first_of("\r\n"));
    const auto starts = [&](std::string_view p) {
        return first_line.size() >= p.size() && iequals(first_line.substr(0, p.size()), p);
    };
    if (starts("[playlist]") || starts("http://") || starts("https://")) return source::list;
    return source::file;
}

std::optional<stream_kind> kind_from_cache(assets::asset_store& store, std::string_view url,
                                           const assets::key_policy& keys) {
    auto asset = store.find_asset(url);
    if (!asset) return std::nullopt;
    auto resources = asset->resources();
    if (!resources || resources->empty()) return std::nullopt;
    if (auto canon = assets::canonicalize_url(url, keys)) {
        const auto playlist = assets::resource_key(*canon);
        for (const auto& r : *resources)
            if (r.id == playlist) return stream_kind::hls;
    }
    return stream_kind::file;
}

result<source> probe_kind(net::client& client, const std::string& url, const open_options& opts) {
    auto sink = std::make_shared<probe_sink>();
    net::request req;
    req.url = url;
    req.headers = opts.headers;
    req.range = net::byte_range{0, probe_bytes};
    req.options = opts.request;
    client.start(std::move(req), sink);
    return sink->wait();
}

result<std::string> fetch_list_text(net::client& client, const std::string& url,
                                    const open_options& opts) {
    net::request req;
    req.url = url;
    req.headers = opts.headers;
    req.options = opts.request;
    req.options.max_body_size = max_list_bytes;
    auto r = net::fetch(client, std::move(req));
    if (!r) {
        if (r.error() == net::errc::body_too_large)
            return fail(context_errc::bad_radio_list, net::redact_url(url) + ": over " +
                                                          std::to_string(max_list_bytes) +
                                                          " bytes, too large for a radio list");
        return fail(r.error());
    }
    return std::string(reinterpret_cast<const char*>(r->body.data()), r->body.size());
}

}  // namespace kithara::detail
