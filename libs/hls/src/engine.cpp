// engine: playlists through the cache, variant choice, the segment table, the prefetch window and
// the segment downloads into the asset's streaming resources (resuming partial ones).
#include "detail/engine.hpp"

#include "detail/decrypt_source.hpp"
#include "detail/packed_audio.hpp"

#include <kithara/detail/log.hpp>
#include <kithara/hls/aes.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/hls/parser.hpp>
#include <kithara/stream/error.hpp>
#include <kithara/stream/resource_source.hpp>

#include <algorithm>
#include <cstring>

namespace kithara::hls::detail {

namespace {

constexpr std::string_view playlist_magic = "kithara-hls-playlist 1\n";

std::string to_text(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}
std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// net's retries of one request: attempts - 1, or every retry the policy allows when it gave up.
std::uint64_t retries_of(const result<net::transfer_stats>& r, const net::request_options& o) {
    if (r) return r->attempts > 1 ? static_cast<std::uint64_t>(r->attempts - 1) : 0;
    if (r.error().code() == net::errc::retries_exhausted)
        return static_cast<std::uint64_t>(std::max(0, o.retry.max_retries));
    return 0;
}
std::uint64_t retries_of(const result<net::fetched>& r, const net::request_options& o) {
    if (r) return r->stats.attempts > 1 ? static_cast<std::uint64_t>(r->stats.attempts - 1) : 0;
    if (r.error().code() == net::errc::retries_exhausted)
        return static_cast<std::uint64_t>(std::max(0, o.retry.max_retries));
    return 0;
}

// Bytes [from, to) of an item's streaming resource; a wait is the demand signal for `seg`.
class segment_part final : public stream::source {
public:
    segment_part(std::shared_ptr<engine> e, std::size_t seg,
                 std::shared_ptr<assets::streaming_handle> res, std::optional<byte_range> range)
        : e_(std::move(e)), seg_(seg), res_(std::move(res)) {
        if (range) {
            from_ = range->offset;
            to_ = range->offset + range->length;
        }
    }
    std::optional<std::uint64_t> length() const override {
        if (to_) return *to_ - from_;
        auto len = res_->resource().final_length();
        if (!len) return std::nullopt;
        return *len > from_ ? *len - from_ : 0;
    }
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override {
        e_->demand(seg_);
        stream::byte_range abs{from_ + r.begin, from_ + r.end};
        if (to_) {
            if (abs.begin >= *to_) return stream::wait_status::eof;
            abs.end = std::min(abs.end, *to_);
        }
        auto w = stream::wait_resource(res_->resource(), abs, until, std::move(stop));
        if (!w) {
            if (auto f = e_->failure()) return kithara::fail(*f);
        }
        return w;
    }
    result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override {
        e_->demand(seg_);  // reads of cached bytes move the window too (no wait happens then)
        if (to_) {
            if (from_ + offset >= *to_) return std::size_t{0};
            out = out.first(static_cast<std::size_t>(
                std::min<std::uint64_t>(out.size(), *to_ - from_ - offset)));
        }
        return stream::read_resource(res_->resource(), from_ + offset, out);
    }

private:
    std::shared_ptr<engine> e_;
    std::size_t seg_;  // the segment whose reading this serves (a map: its run's first)
    std::shared_ptr<assets::streaming_handle> res_;
    std::uint64_t from_ = 0;
    std::optional<std::uint64_t> to_;
};

// Writes one response into an item's resource; reports to the engine on the executor.
class fetch_sink final : public net::sink {
public:
    fetch_sink(std::shared_ptr<engine> e, std::size_t i,
               std::shared_ptr<assets::streaming_handle> res, bool whole)
        : e_(std::move(e)), i_(i), res_(std::move(res)), whole_(whole) {}
    result<> on_response(const net::response_head& head) override {
        if (whole_ && head.entity_size) (void)res_->resource().commit(*head.entity_size);
        return {};
    }
    result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) override {
        e_->on_bytes(bytes.size());
        end_ = offset + bytes.size();
        return res_->resource().write_at(offset, bytes);
    }
    result<> on_restart(const net::response_head&) override { return {}; }
    void on_complete(result<net::transfer_stats> outcome) override {
        if (outcome && whole_ && !res_->resource().final_length())
            (void)res_->resource().commit(end_);
        res_.reset();  // the engine's handle closes the resource, on the thread closing the stream
        e_->on_fetch_done(i_, std::move(outcome));
    }

private:
    std::shared_ptr<engine> e_;
    std::size_t i_;
    std::shared_ptr<assets::streaming_handle> res_;
    bool whole_;
    std::uint64_t end_ = 0;
};

}  // namespace

std::string container_of(const std::string& uri, bool has_map) {
    if (has_map) return "mov";
    auto path = uri.substr(0, uri.find_first_of("?#"));
    auto dot = path.rfind('.');
    std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == "ts" || ext == "m2ts") return "mpegts";
    if (ext == "aac" || ext == "adts") return "aac";
    if (ext == "mp3") return "mp3";
    if (ext == "ac3") return "ac3";
    if (ext == "ec3" || ext == "eac3") return "eac3";
    if (ext == "mp4" || ext == "m4s" || ext == "m4a" || ext == "cmfa") return "mov";
    return "";
}

bool is_packed(const std::string& container) {
    return container == "aac" || container == "mp3" || container == "ac3" || container == "eac3";
}

engine::engine(net::client& client, stream_options options)
    : client_(client), opts_(std::move(options)) {}

engine::~engine() = default;

void engine::emit(event e) const {
    if (opts_.on_event) opts_.on_event(e);
}

result<std::string> engine::load_playlist_text(const std::string& url, std::string& final_url) {
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
    auto from_cache = [&] {
        std::lock_guard lock(mutex_);
        stats_.bytes_from_cache += cached->size();
    };
    if (opts_.offline) {
        if (!cached) return kithara::fail(errc::offline_miss, "playlist " + url);
        from_cache();
        final_url = cached_url;
        emit({event_kind::playlist_loaded, url, 0, 0, 0, "cache (offline)"});
        return *cached;
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
    if (got && got->head.status == 304 && cached) {
        from_cache();
        final_url = cached_url;
        emit({event_kind::playlist_loaded, url, 0, 0, 0, "cache (revalidated)"});
        return *cached;
    }
    if (!got) {
        if (cached && got.error().code() != net::errc::http_status) {
            from_cache();
            final_url = cached_url;
            emit({event_kind::playlist_loaded, url, 0, 0, 0, "cache (server unreachable)"});
            return *cached;
        }
        if (cached && got.error().context().find("304") != std::string::npos) {
            from_cache();
            final_url = cached_url;
            emit({event_kind::playlist_loaded, url, 0, 0, 0, "cache (revalidated)"});
            return *cached;
        }
        auto e = got.error();
        e.add_context("playlist");
        return kithara::fail(std::move(e));
    }
    {
        std::lock_guard lock(mutex_);
        stats_.bytes_from_network += got->body.size();
    }
    final_url = got->stats.redirects > 0 && !got->head.url.empty() ? got->head.url : url;
    std::string body = to_text(got->body);
    std::string stored(playlist_magic);
    stored += "url " + final_url + "\netag " + got->head.etag + "\nlast_modified " +
              got->head.last_modified + "\n\n" + body;
    if (auto r = res->replace(as_bytes(stored)); !r)
        KITHARA_LOG_WARN("hls: storing playlist failed: {}", r.error().message());
    emit({event_kind::playlist_loaded, url, 0, 0, 0, "network"});
    return body;
}

result<std::shared_ptr<engine>> engine::create(std::string url, assets::asset_store& store,
                                               net::client& client, stream_options options) {
    auto e = std::make_shared<engine>(client, std::move(options));
    auto asset = store.open_asset(url);
    if (!asset) return kithara::fail(asset.error());
    e->asset_ = std::move(*asset);

    std::string final_url;
    auto text = e->load_playlist_text(url, final_url);
    if (!text) return kithara::fail(text.error());
    auto parsed = parse_playlist(*text, final_url);
    if (!parsed) return kithara::fail(parsed.error());
    if (parsed->is_master()) {
        const auto& m = parsed->master();
        if (m.variants.empty()) return kithara::fail(errc::not_supported, "no playable variant");
        for (const auto& v : m.variants)
            e->info_.variants.push_back({v.bandwidth, v.codecs, v.resolved_uri});
        std::size_t pick = 0;
        if (e->opts_.variant) {
            if (*e->opts_.variant >= m.variants.size())
                return kithara::fail(errc::invalid_value, "variant index out of range");
            pick = *e->opts_.variant;
        } else if (e->opts_.variant_bandwidth) {
            auto it = std::find_if(m.variants.begin(), m.variants.end(), [&](const auto& v) {
                return v.bandwidth == *e->opts_.variant_bandwidth;
            });
            if (it == m.variants.end())
                return kithara::fail(errc::invalid_value, "no variant with that BANDWIDTH");
            pick = static_cast<std::size_t>(it - m.variants.begin());
        } else {
            for (std::size_t i = 1; i < m.variants.size(); ++i)
                if (m.variants[i].bandwidth < m.variants[pick].bandwidth) pick = i;
        }
        e->info_.variant = pick;
        e->emit({event_kind::variant_chosen, m.variants[pick].resolved_uri, 0, pick, 0, {}});
        std::string media_final;
        auto mtext = e->load_playlist_text(m.variants[pick].resolved_uri, media_final);
        if (!mtext) return kithara::fail(mtext.error());
        parse_options po;
        po.imports = m.variables;
        auto mp = parse_playlist(*mtext, media_final, po);
        if (!mp) return kithara::fail(mp.error());
        if (mp->is_master())
            return kithara::fail(errc::bad_response, "variant URI names a master playlist");
        e->media_ = mp->media();
    } else {
        e->media_ = parsed->media();
    }
    if (!e->media_.endlist)
        KITHARA_LOG_WARN("hls: playlist without EXT-X-ENDLIST played as VOD (no reload)");

    double t = 0;
    for (const auto& s : e->media_.segments) {
        item it;
        it.url = s.resolved_uri;
        it.range = s.range;
        it.start = t;
        it.duration = s.duration;
        it.media_sequence = s.media_sequence;
        it.label = s.uri + " (media sequence " + std::to_string(s.media_sequence) + ")";
        e->items_.push_back(std::move(it));
        t += s.duration;
    }
    for (const auto& m : e->media_.maps) {
        item it;
        it.url = m.resolved_uri;
        it.range = m.range;
        it.label = m.uri + " (init section)";
        e->items_.push_back(std::move(it));
    }
    e->info_.duration = t;
    e->info_.segments = e->media_.segments.size();
    return e;
}

std::uint32_t engine::map_item(std::size_t seg) const noexcept {
    const auto m = media_.segments[seg].map;
    if (m == no_index) return no_index;
    return static_cast<std::uint32_t>(media_.segments.size() + m);
}

stream_stats engine::stats(double position) const {
    std::lock_guard lock(mutex_);
    stream_stats s = stats_;
    // The end of the contiguous complete (or gap) segments from the one holding `position`.
    const auto n = media_.segments.size();
    std::size_t k = static_cast<std::size_t>(
        std::upper_bound(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(n), position,
                         [](double t, const item& it) { return t < it.start + it.duration; }) -
        items_.begin());
    double until = k < n ? items_[k].start : info_.duration;
    for (; k < n; ++k) {
        if (!media_.segments[k].gap && items_[k].st != item::state::done) break;
        if (auto m = map_item(k); m != no_index && items_[m].st != item::state::done) break;
        until = items_[k].start + items_[k].duration;
    }
    s.buffered_seconds = std::max(0.0, until - position);
    return s;
}

std::optional<error> engine::failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
}

result<std::shared_ptr<assets::streaming_handle>> engine::resource_for(std::size_t i) {
    {
        std::lock_guard lock(mutex_);
        if (items_[i].res) return items_[i].res;
    }
    auto h = asset_.open_streaming(items_[i].url);
    if (!h) return kithara::fail(h.error());
    auto shared = std::make_shared<assets::streaming_handle>(std::move(*h));
    std::lock_guard lock(mutex_);
    // Items that name the same URL (BYTERANGE sub-ranges) share one storage object anyway.
    if (!items_[i].res) items_[i].res = shared;
    return items_[i].res;
}

result<std::array<std::uint8_t, 16>> engine::key_for(const key& k, const std::string& what) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = keys_.find(k.resolved_uri); it != keys_.end()) return it->second;
    }
    std::optional<assets::atomic_handle> stored;
    std::vector<std::byte> bytes;
    if (opts_.cache_keys) {
        auto h = asset_.open_atomic(k.resolved_uri);
        if (h && h->exists()) {
            if (auto b = h->read()) bytes.assign(b->begin(), b->end());
        }
        if (h) stored.emplace(std::move(*h));
    }
    if (bytes.empty()) {
        if (opts_.offline)
            return kithara::fail(errc::offline_miss, "key " + k.uri + " for " + what);
        net::request req;
        req.url = k.resolved_uri;
        req.headers = opts_.headers;
        req.options = opts_.request;
        req.options.max_body_size = 64;
        {
            std::lock_guard lock(mutex_);
            ++stats_.requests;
        }
        emit({event_kind::segment_requested, k.uri, 0, info_.variant, 0, "key"});
        const auto ropts = req.options;
        auto got = net::fetch(client_, std::move(req));
        {
            std::lock_guard lock(mutex_);
            stats_.retries += retries_of(got, ropts);
            if (got) stats_.bytes_from_network += got->body.size();
        }
        if (!got) {
            auto e = error(errc::segment_failed,
                           "key " + k.uri + " for " + what + ": " + got.error().message());
            return kithara::fail(std::move(e));
        }
        bytes = std::move(got->body);
        if (stored && bytes.size() == 16) (void)stored->replace(bytes);
    }
    if (bytes.size() != 16) {
        return kithara::fail(errc::bad_key, "key " + k.uri + " for " + what + " is " +
                                                std::to_string(bytes.size()) + " bytes, not 16");
    }
    std::array<std::uint8_t, 16> out{};
    std::memcpy(out.data(), bytes.data(), 16);
    std::lock_guard lock(mutex_);
    keys_[k.resolved_uri] = out;
    return out;
}

result<std::shared_ptr<stream::source>> engine::map_source(std::uint32_t i, std::size_t seg) {
    auto res = resource_for(i);
    if (!res) return kithara::fail(res.error());
    return std::shared_ptr<stream::source>(
        std::make_shared<segment_part>(shared_from_this(), seg, *res, items_[i].range));
}

result<std::shared_ptr<stream::source>> engine::segment_source(std::size_t seg) {
    const auto& s = media_.segments[seg];
    const key* k = media_.key_of(s);
    if (k && (k->method == key_method::sample_aes || k->method == key_method::sample_aes_ctr ||
              k->keyformat != "identity")) {
        return kithara::fail(errc::not_supported, "METHOD=" + k->method_text + " KEYFORMAT=\"" +
                                                      k->keyformat + "\" for segment " +
                                                      items_[seg].label);
    }
    auto res = resource_for(seg);
    if (!res) return kithara::fail(res.error());
    std::shared_ptr<stream::source> src =
        std::make_shared<segment_part>(shared_from_this(), seg, *res, items_[seg].range);
    if (k) {
        const auto iv = k->iv ? *k->iv : hls_iv(s.media_sequence);
        std::weak_ptr<engine> weak = shared_from_this();
        key what = *k;
        std::string label = items_[seg].label;
        src = decrypt_source::create(
            std::move(src),
            [weak, what, label]() -> result<std::array<std::uint8_t, 16>> {
                auto e = weak.lock();
                if (!e) return kithara::fail(errc::segment_failed, "stream closed");
                return e->key_for(what, label);
            },
            iv, "segment " + label);
    }
    if (is_packed(container_of(s.resolved_uri, s.map != no_index)))
        src = std::make_shared<id3_skip_source>(std::move(src));
    return src;
}

void engine::demand(std::size_t seg) {
    {
        std::lock_guard lock(mutex_);
        if (started_ && seg <= read_seg_) return;
        started_ = true;
        read_seg_ = std::max(read_seg_, seg);
    }
    pump();
}

void engine::set_position(std::size_t seg) {
    {
        std::lock_guard lock(mutex_);
        read_seg_ = seg;
        started_ = true;
        failure_.reset();
    }
    pump();
}

void engine::pump() {
    std::vector<std::size_t> to_start;
    {
        std::lock_guard lock(mutex_);
        if (shut_down_) return;
        double secs = 0;
        std::uint64_t bytes = 0;
        std::size_t running = in_flight_;
        const auto n = media_.segments.size();
        auto take = [&](std::size_t i) {
            if (items_[i].st != item::state::idle || running >= opts_.max_requests) return;
            items_[i].st = item::state::fetching;
            ++running;
            ++in_flight_;
            to_start.push_back(i);
        };
        for (std::size_t k = read_seg_; k < n && running < opts_.max_requests; ++k) {
            if (media_.segments[k].gap) continue;
            if (k > read_seg_ && (secs >= opts_.prefetch_seconds || bytes >= opts_.prefetch_bytes))
                break;
            if (auto m = map_item(k); m != no_index) take(m);
            take(k);
            secs += items_[k].duration;
            if (items_[k].range)
                bytes += items_[k].range->length;
            else if (media_.segments[k].bitrate_kbps)
                bytes += static_cast<std::uint64_t>(
                    static_cast<double>(media_.segments[k].bitrate_kbps) * 125.0 *
                    items_[k].duration);
            else if (items_[k].res && items_[k].res->resource().final_length())
                bytes += *items_[k].res->resource().final_length();
            else if (!info_.variants.empty())  // the variant's BANDWIDTH (a peak) as estimate
                bytes += static_cast<std::uint64_t>(
                    static_cast<double>(info_.variants[info_.variant].bandwidth) / 8.0 *
                    items_[k].duration);
        }
    }
    for (auto i : to_start) start_item(i);
}

void engine::fail_item(std::size_t i, const error& e) {
    std::shared_ptr<assets::streaming_handle> res;
    {
        std::lock_guard lock(mutex_);
        items_[i].st = item::state::failed;
        if (!failure_) failure_ = e;
        res = items_[i].res;
    }
    emit({event_kind::error, items_[i].url, items_[i].media_sequence, info_.variant,
          items_[i].start, e.message()});
    // Wake the decoder waiting on it (in memory: the cached bytes stay on disk).
    if (res) res->resource().fail(e);
}

void engine::start_item(std::size_t i) {
    auto finish_without_request = [&] {
        std::lock_guard lock(mutex_);
        --in_flight_;
        if (in_flight_ == 0) idle_.notify_all();
    };
    bool closing = false;
    {
        std::lock_guard lock(mutex_);
        closing = shut_down_;
        if (closing) items_[i].st = item::state::idle;
    }
    if (closing) {
        finish_without_request();
        return;
    }
    auto res = resource_for(i);
    if (!res) {
        fail_item(i, res.error());
        finish_without_request();
        return;
    }
    auto& r = (*res)->resource();
    const item& it = items_[i];
    const std::uint64_t b = it.range ? it.range->offset : 0;
    std::optional<std::uint64_t> e =
        it.range ? std::optional(it.range->offset + it.range->length) : r.final_length();
    const auto avail = r.available();
    std::optional<std::uint64_t> from;
    std::optional<std::uint64_t> length;
    std::uint64_t cached = 0;
    if (e) {
        auto gap = avail.first_gap({b, *e});
        if (!gap) {
            cached = *e - b;
        } else {
            from = gap->begin;
            length = *e - gap->begin;
            cached = gap->begin - b;
        }
    } else {
        from = avail.contiguous_end(0);
        cached = *from;
    }
    {
        std::lock_guard lock(mutex_);
        // Once per item: a follow-up request for a later gap must not count what the first
        // request brought.
        if (!items_[i].cache_counted) stats_.bytes_from_cache += cached;
        items_[i].cache_counted = true;
    }
    if (!from) {
        {
            std::lock_guard lock(mutex_);
            items_[i].st = item::state::done;
            if (i < media_.segments.size()) ++stats_.segments_from_cache;
        }
        finish_without_request();
        emit({event_kind::segment_complete, it.url, it.media_sequence, info_.variant, it.start,
              "cache"});
        pump();
        return;
    }
    if (opts_.offline) {
        fail_item(i, error(errc::offline_miss, "segment " + it.label));
        finish_without_request();
        return;
    }
    net::request req;
    req.url = it.url;
    req.headers = opts_.headers;
    req.options = opts_.request;
    if (it.range || *from > 0) req.range = net::byte_range{*from, length};
    {
        std::lock_guard lock(mutex_);
        ++stats_.requests;
    }
    emit({event_kind::segment_requested, it.url, it.media_sequence, info_.variant, it.start, {}});
    auto sink = std::make_shared<fetch_sink>(shared_from_this(), i, *res, !it.range);
    auto h = client_.start(std::move(req), std::move(sink));
    std::lock_guard lock(mutex_);
    items_[i].request = h;
}

void engine::on_bytes(std::uint64_t n) {
    std::lock_guard lock(mutex_);
    stats_.bytes_from_network += n;
}

void engine::on_fetch_done(std::size_t i, result<net::transfer_stats> outcome) {
    bool again = false;
    bool failed = false;
    {
        std::lock_guard lock(mutex_);
        stats_.retries += retries_of(outcome, opts_.request);
    }
    if (!outcome) {
        std::lock_guard lock(mutex_);
        if (shut_down_ || outcome.error().code() == net::errc::cancelled) {
            items_[i].st = item::state::idle;
        } else {
            failed = true;
        }
    }
    if (failed) {
        fail_item(i, error(errc::segment_failed,
                           "segment " + items_[i].label + ": " + outcome.error().message()));
    } else if (outcome) {
        // A response bounded by the next cached byte may leave later gaps: fetch them too.
        auto& r = items_[i].res->resource();
        const std::uint64_t b = items_[i].range ? items_[i].range->offset : 0;
        auto e = items_[i].range ? std::optional(items_[i].range->offset + items_[i].range->length)
                                 : r.final_length();
        std::lock_guard lock(mutex_);
        if (e && r.available().first_gap({b, *e})) {
            again = true;  // stays "fetching"
        } else {
            items_[i].st = item::state::done;
            if (i < media_.segments.size()) ++stats_.segments_from_network;
        }
    }
    if (again) {
        start_item(i);  // keeps the in-flight count of this item
        return;
    }
    if (outcome)
        emit({event_kind::segment_complete, items_[i].url, items_[i].media_sequence, info_.variant,
              items_[i].start, "network"});
    pump();
    // Last: shutdown() returns once this count is 0, so no event or request comes after it.
    std::lock_guard lock(mutex_);
    --in_flight_;
    if (in_flight_ == 0) idle_.notify_all();
}

void engine::shutdown() {
    std::vector<net::request_handle> running;
    {
        std::lock_guard lock(mutex_);
        shut_down_ = true;
        for (auto& it : items_)
            if (it.st == item::state::fetching) running.push_back(it.request);
    }
    for (auto& h : running) h.cancel();
    std::vector<std::shared_ptr<assets::streaming_handle>> handles;
    {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [&] { return in_flight_ == 0; });
        for (auto& it : items_) handles.push_back(std::move(it.res));
    }
    // Close the resources (range maps written) and end the lease here, not on the io thread
    // after the caller has moved on (e.g. closed the store).
    handles.clear();
    asset_.reset();
}

}  // namespace kithara::hls::detail
