#include "detail/sniff.hpp"

#include <kithara/assets/key.hpp>
#include <kithara/net/http.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace kithara::detail {

namespace http = net::http;

namespace {

std::optional<stream_kind> kind_of(http::container c) noexcept {
    switch (c) {
        case http::container::unknown:
            return std::nullopt;
        case http::container::playlist:
            return stream_kind::hls;
        default:
            return stream_kind::file;
    }
}

// Keeps the Content-Type and up to probe_bytes of the body, then stops the transfer.
class probe_sink final : public net::sink {
public:
    result<> on_response(const net::response_head& head) override {
        std::lock_guard lk(m_);
        content_type_ = head.content_type;
        if (kind_from_content_type(content_type_)) return stop_locked();
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
        if (kind_from_content_type(content_type_)) return stop_locked();
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
    result<stream_kind> wait() {
        std::unique_lock lk(m_);
        cv_.wait(lk, [this] { return done_; });
        if (failure_) return fail(*failure_);
        if (auto k = kind_from_content_type(content_type_)) return *k;
        return kind_from_body(body_);
    }

private:
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

std::optional<stream_kind> kind_from_url(std::string_view url) noexcept {
    return kind_of(http::container_of_url(url));
}

std::optional<stream_kind> kind_from_content_type(std::string_view content_type) noexcept {
    return kind_of(http::container_of(content_type));
}

stream_kind kind_from_body(std::span<const std::byte> head) noexcept {
    std::string_view s(reinterpret_cast<const char*>(head.data()), head.size());
    if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    return s.starts_with("#EXTM3U") ? stream_kind::hls : stream_kind::file;
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

result<stream_kind> probe_kind(net::client& client, const std::string& url,
                               const open_options& opts) {
    auto sink = std::make_shared<probe_sink>();
    net::request req;
    req.url = url;
    req.headers = opts.headers;
    req.range = net::byte_range{0, probe_bytes};
    req.options = opts.request;
    client.start(std::move(req), sink);
    return sink->wait();
}

}  // namespace kithara::detail
