// playlist_cache: playlists through the asset (stored with their validators, revalidated with
// If-None-Match / If-Modified-Since, played from the cache on 304 or when the server is
// unreachable), and the detection of a VOD media playlist that changed under us.
#include "detail/engine.hpp"

#include <kithara/detail/log.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/hls/parser.hpp>

namespace kithara::hls::detail {

namespace {

constexpr std::string_view playlist_magic = "kithara-hls-playlist 1\n";

std::string to_text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}
std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string describe(const segment& s) {
    std::string d = s.uri + " (" + std::to_string(s.duration) + " s";
    if (s.range)
        d += ", bytes " + std::to_string(s.range->offset) + "+" + std::to_string(s.range->length);
    return d + ")";
}

bool same_segment(const media_playlist& a, const segment& x, const media_playlist& b,
                  const segment& y) {
    if (x.resolved_uri != y.resolved_uri || x.duration != y.duration || x.gap != y.gap ||
        x.discontinuity != y.discontinuity || x.media_sequence != y.media_sequence)
        return false;
    if (x.range.has_value() != y.range.has_value()) return false;
    if (x.range && (x.range->offset != y.range->offset || x.range->length != y.range->length))
        return false;
    const auto* ka = a.key_of(x);
    const auto* kb = b.key_of(y);
    if ((ka == nullptr) != (kb == nullptr)) return false;
    if (ka && (ka->resolved_uri != kb->resolved_uri || ka->iv != kb->iv)) return false;
    const auto* ma = a.map_of(x);
    const auto* mb = b.map_of(y);
    if ((ma == nullptr) != (mb == nullptr)) return false;
    return !ma || ma->resolved_uri == mb->resolved_uri;
}

}  // namespace

result<loaded_playlist> engine::load_playlist(const std::string& url) {
    loaded_playlist out;
    out.started = std::chrono::steady_clock::now();
    auto res = asset_.open_atomic(url);
    if (!res) return kithara::fail(res.error());
    std::optional<std::string> cached;
    std::string etag, last_modified, cached_url = url;
    if (res->exists()) {
        if (auto b = res->read()) {
            std::string all = to_text(b->span());
            if (all.starts_with(playlist_magic)) {
                auto body_at = all.find("\n\n");
                if (body_at != std::string::npos) {
                    std::string head = all.substr(playlist_magic.size(), body_at);
                    for (std::size_t p = 0; p < head.size();) {
                        auto nl = head.find('\n', p);
                        auto line = head.substr(p, nl == std::string::npos ? nl : nl - p);
                        if (line.starts_with("url ")) cached_url = line.substr(4);
                        if (line.starts_with("etag ")) etag = line.substr(5);
                        if (line.starts_with("last_modified ")) last_modified = line.substr(14);
                        if (nl == std::string::npos) break;
                        p = nl + 1;
                    }
                    cached = all.substr(body_at + 2);
                }
            }
        }
    }
    auto from_cache = [&](const char* how) {
        {
            std::lock_guard lock(mutex_);
            stats_.bytes_from_cache += cached->size();
        }
        emit(make_event(event_kind::playlist_loaded, url, 0, 0, 0, how));
        out.body = *cached;
        out.final_url = cached_url;
        out.etag = etag;
        out.last_modified = last_modified;
        out.finished = std::chrono::steady_clock::now();
        return std::move(out);
    };
    if (opts_.offline) {
        if (!cached) return kithara::fail(errc::offline_miss, "playlist " + url);
        return from_cache("cache (offline)");
    }
    net::request req;
    req.url = url;
    req.headers = opts_.headers;
    req.options = opts_.request;
    req.options.max_body_size = parse_limits{}.max_input_bytes;
    if (cached && !etag.empty())
        req.headers.push_back({"If-None-Match", etag});
    else if (cached && !last_modified.empty())
        req.headers.push_back({"If-Modified-Since", last_modified});
    {
        std::lock_guard lock(mutex_);
        ++stats_.requests;
    }
    const auto ropts = req.options;
    auto got = net::fetch(client_, std::move(req));
    {
        std::lock_guard lock(mutex_);
        stats_.retries += retries_of(got, ropts);
    }
    if (got && got->head.status == 304 && cached) return from_cache("cache (revalidated)");
    if (!got) {
        if (cached && got.error().code() != net::errc::http_status)
            return from_cache("cache (server unreachable)");
        if (cached && net::http_status_of(got.error()) == 304)
            return from_cache("cache (revalidated)");
        auto e = got.error();
        e.add_context("playlist");
        return kithara::fail(std::move(e));
    }
    {
        std::lock_guard lock(mutex_);
        stats_.bytes_from_network += got->body.size();
    }
    out.final_url = got->stats.redirects > 0 && !got->head.url.empty() ? got->head.url : url;
    out.body = to_text(got->body);
    out.etag = got->head.etag;
    out.last_modified = got->head.last_modified;
    out.finished = std::chrono::steady_clock::now();
    if (cached && *cached != out.body) out.previous = cached;
    out.stored = std::string(playlist_magic) + "url " + out.final_url + "\netag " + got->head.etag +
                 "\nlast_modified " + got->head.last_modified + "\n\n" + out.body;
    out.res.emplace(std::move(*res));
    emit(make_event(event_kind::playlist_loaded, url, 0, 0, 0, "network"));
    return out;
}

void engine::store_playlist(loaded_playlist& p) {
    if (p.stored.empty() || !p.res) return;
    if (auto r = p.res->replace(as_bytes(p.stored)); !r)
        KITHARA_LOG_WARN("hls: storing playlist failed: {}", r.error().message());
}

result<> engine::check_unchanged(const loaded_playlist& p, const media_playlist& now) const {
    if (!p.previous) return {};
    auto before = parse_playlist(*p.previous, p.final_url);
    if (!before || before->is_master()) return {};  // the cached copy is not comparable
    const auto& old = before->media();
    if (!old.endlist || !now.endlist) return {};  // live/event playlists grow: not a change
    const auto& a = old.segments;
    const auto& b = now.segments;
    const auto n = std::min(a.size(), b.size());
    for (std::size_t k = 0; k < n; ++k) {
        if (!same_segment(old, a[k], now, b[k])) {
            return kithara::fail(errc::content_changed,
                                 "VOD media playlist " + p.final_url +
                                     " changed on the server: segment " + std::to_string(k) +
                                     " was " + describe(a[k]) + ", is now " + describe(b[k]) +
                                     " (the cached copy and its segments are kept; remove the "
                                     "asset to start over)");
        }
    }
    if (a.size() != b.size()) {
        return kithara::fail(errc::content_changed,
                             "VOD media playlist " + p.final_url +
                                 " changed on the server: " + std::to_string(a.size()) +
                                 " segments before, " + std::to_string(b.size()) +
                                 " now (the cached copy and its segments are kept; remove the "
                                 "asset to start over)");
    }
    return {};
}

}  // namespace kithara::hls::detail
