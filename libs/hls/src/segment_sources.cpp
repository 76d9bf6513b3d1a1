// segment_sources: what the decoder reads. Parts over the items' streaming resources (their waits
// move the prefetch window and are the stall/resume signal), AES-128 keys (fetched on the
// decoding thread, never on the io thread, never logged), and the wrapping for AES-128 and
// packed audio.
#include "detail/engine.hpp"

#include "detail/decrypt_source.hpp"
#include "detail/emsg.hpp"
#include "detail/metadata_tap.hpp"
#include "detail/packed_audio.hpp"

#include <kithara/hls/aes.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/stream/resource_source.hpp>

#include <algorithm>
#include <cstring>

namespace kithara::hls::detail {

namespace {

// Bytes [from, to) of item i's streaming resource; a wait is the demand signal for `seg`. The
// resource is opened lazily, at the first wait or read (or taken from the engine once a request
// opened it), so building a run's sources opens no file: the first request of a stream goes out
// right after its playlist is parsed, not after every segment's cache files were opened.
class segment_part final : public stream::source {
public:
    segment_part(std::shared_ptr<engine> e, std::size_t seg, std::size_t i,
                 std::optional<byte_range> range)
        : e_(std::move(e)), seg_(seg), i_(i) {
        if (range) {
            from_ = range->offset;
            to_ = range->offset + range->length;
        }
    }
    std::optional<std::uint64_t> length() const override {
        if (to_) return *to_ - from_;
        auto res = opened();
        if (!res) return std::nullopt;  // not opened yet: unknown (read through to its end)
        auto len = res->resource().final_length();
        if (!len) return std::nullopt;
        return *len > from_ ? *len - from_ : 0;
    }
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override {
        e_->demand(seg_);
        auto h = open();
        if (!h) return kithara::fail(h.error());
        stream::byte_range abs{from_ + r.begin, from_ + r.end};
        if (to_) {
            if (abs.begin >= *to_) return stream::wait_status::eof;
            abs.end = std::min(abs.end, *to_);
        }
        auto& res = (*h)->resource();
        const auto len = res.final_length();
        const bool past_end = len && abs.begin >= *len;
        const bool stalls = !abs.empty() && !past_end && !res.failure() &&
                            !res.available().contains(storage::byte_range{
                                abs.begin, len ? std::min(abs.end, *len) : abs.end});
        if (stalls) e_->note_stall(seg_);
        auto w = stream::wait_resource(res, abs, until, std::move(stop));
        if (!w) {
            if (res.failure()) e_->note_read_failure();
            if (auto f = e_->failure()) return kithara::fail(*f);
            return w;
        }
        if (stalls && (*w == stream::wait_status::ready || *w == stream::wait_status::eof))
            e_->note_resume();
        return w;
    }
    result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override {
        e_->demand(seg_);  // reads of cached bytes move the window too (no wait happens then)
        auto h = open();
        if (!h) return kithara::fail(h.error());
        if (to_) {
            if (from_ + offset >= *to_) return std::size_t{0};
            out = out.first(static_cast<std::size_t>(
                std::min<std::uint64_t>(out.size(), *to_ - from_ - offset)));
        }
        auto& res = (*h)->resource();
        auto n = stream::read_resource(res, from_ + offset, out);
        if (!n && res.failure()) e_->note_read_failure();
        return n;
    }

private:
    // The resource if this part or the engine (a request) opened it; no I/O.
    std::shared_ptr<assets::streaming_handle> opened() const {
        {
            std::lock_guard lock(mutex_);
            if (res_) return res_;
        }
        auto h = e_->opened_resource(i_);
        if (h) {
            std::lock_guard lock(mutex_);
            if (!res_) res_ = h;
        }
        return h;
    }
    // The resource, opened now if need be (file I/O: mutex_ is not held across it).
    result<assets::streaming_handle*> open() {
        if (auto h = opened()) return h.get();
        auto h = e_->resource_for(i_);
        if (!h) return kithara::fail(h.error());
        std::lock_guard lock(mutex_);
        if (!res_) res_ = std::move(*h);
        return res_.get();
    }

    std::shared_ptr<engine> e_;
    std::size_t seg_;  // the segment whose reading this serves (a map: its run's first)
    std::size_t i_;    // the item whose resource holds the bytes
    std::uint64_t from_ = 0;
    std::optional<std::uint64_t> to_;
    mutable std::mutex mutex_;  // guards res_ (a leaf lock)
    mutable std::shared_ptr<assets::streaming_handle> res_;
};

}  // namespace

std::shared_ptr<assets::streaming_handle> engine::opened_resource(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return at(i).res;
}

result<std::shared_ptr<assets::streaming_handle>> engine::resource_for(std::size_t i) {
    {
        std::lock_guard lock(mutex_);
        if (at(i).res) return at(i).res;
    }
    auto h = asset_.open_streaming(at(i).url);
    if (!h) return kithara::fail(h.error());
    auto shared = std::make_shared<assets::streaming_handle>(std::move(*h));
    std::lock_guard lock(mutex_);
    // Items that name the same URL (BYTERANGE sub-ranges) share one storage object anyway.
    if (!at(i).res) at(i).res = shared;
    return at(i).res;
}

result<std::array<std::uint8_t, 16>> engine::key_for(const key& k, const std::string& what) {
    {
        std::lock_guard lock(mutex_);
        if (auto it = keys_.find(k.resolved_uri); it != keys_.end()) return it->second;
    }
    std::optional<assets::atomic_handle> stored;
    std::vector<std::byte> bytes;
    // Offline play reads keys a pin() stored; otherwise only with cache_keys.
    if (opts_.cache_keys || opts_.offline) {
        auto h = asset_.open_atomic(k.resolved_uri);
        if (h && h->exists()) {
            if (auto b = h->read()) bytes.assign(b->begin(), b->end());
        }
        if (h) stored.emplace(std::move(*h));
    }
    if (bytes.empty()) {
        if (opts_.offline)
            return kithara::fail(errc::offline_miss, "key " + k.uri + " for segment " + what);
        net::request req;
        req.url = k.resolved_uri;
        req.headers = opts_.headers;
        req.options = opts_.request;
        req.options.max_body_size = 64;
        {
            std::lock_guard lock(mutex_);
            ++stats_.requests;
        }
        emit(make_event(event_kind::segment_requested, k.uri, 0, info_.variant, 0, "key"));
        const auto ropts = req.options;
        auto got = net::fetch(client_, std::move(req));
        {
            std::lock_guard lock(mutex_);
            stats_.retries += retries_of(got, ropts);
            if (got) stats_.bytes_from_network += got->body.size();
        }
        if (!got) {
            return kithara::fail(errc::segment_failed, "key " + k.uri + " for segment " + what +
                                                           ": " + got.error().message());
        }
        bytes = std::move(got->body);
        if (stored && opts_.cache_keys && bytes.size() == 16) (void)stored->replace(bytes);
    }
    if (bytes.size() != 16) {
        return kithara::fail(errc::bad_key, "key " + k.uri + " for segment " + what + " is " +
                                                std::to_string(bytes.size()) + " bytes, not 16");
    }
    std::array<std::uint8_t, 16> out{};
    std::memcpy(out.data(), bytes.data(), 16);
    std::lock_guard lock(mutex_);
    keys_[k.resolved_uri] = out;
    return out;
}

result<std::shared_ptr<stream::source>> engine::map_source(std::uint32_t i, std::size_t seg) {
    return std::shared_ptr<stream::source>(
        std::make_shared<segment_part>(shared_from_this(), seg, i, at(i).range));
}

std::optional<std::uint32_t> engine::init_timescale(std::uint32_t map, std::size_t seg) {
    // The decoder read the init section before this segment: its bytes are in the cache.
    auto src = map_source(map, seg);
    if (!src) return std::nullopt;
    constexpr std::size_t max_init = 64 * 1024;
    const auto len = (*src)->length();
    std::vector<std::uint8_t> b(
        static_cast<std::size_t>(std::min<std::uint64_t>(len.value_or(max_init), max_init)));
    std::size_t have = 0;
    while (have < b.size()) {
        auto n = (*src)->read_at(
            have, std::span(reinterpret_cast<std::byte*>(b.data()) + have, b.size() - have));
        if (!n || *n == 0) break;
        have += *n;
    }
    b.resize(have);
    return media_timescale(b);
}

result<std::shared_ptr<stream::source>> engine::segment_source(std::size_t seg) {
    const auto& s = segs_[seg];
    const key* k = media_.key_of(s);
    if (k && (k->method == key_method::sample_aes || k->method == key_method::sample_aes_ctr ||
              k->keyformat != "identity")) {
        return kithara::fail(errc::not_supported, "METHOD=" + k->method_text + " KEYFORMAT=\"" +
                                                      k->keyformat + "\" for segment " +
                                                      at(seg).label);
    }
    std::shared_ptr<stream::source> src =
        std::make_shared<segment_part>(shared_from_this(), seg, seg, at(seg).range);
    const auto container = container_of(s.resolved_uri, s.map != no_index);
    if (k) {
        const auto iv = k->iv ? *k->iv : hls_iv(s.media_sequence);
        std::weak_ptr<engine> weak = shared_from_this();
        key what = *k;
        std::string label = at(seg).label;
        src = decrypt_source::create(
            std::move(src),
            [weak, what, label]() -> result<std::array<std::uint8_t, 16>> {
                auto e = weak.lock();
                if (!e) return kithara::fail(errc::segment_failed, "stream closed");
                return e->key_for(what, label);
            },
            iv, "segment " + label, container);
    }
    // In-band timed metadata, when the application listens for it: the tap sees the decrypted
    // bytes as the decoder reads them (packed audio: before its leading tag is skipped).
    if (opts_.on_metadata && (is_packed(container) || s.map != no_index || container == "mpegts")) {
        std::weak_ptr<engine> weak = shared_from_this();
        const auto tap_kind = is_packed(container)    ? metadata_tap::kind::packed
                              : container == "mpegts" ? metadata_tap::kind::ts
                                                      : metadata_tap::kind::fmp4;
        auto found = [weak](std::vector<timed_metadata> items) {
            if (auto e = weak.lock()) e->queue_inband(std::move(items));
        };
        metadata_tap::timescale_source timescale;
        if (s.map != no_index)
            timescale = [weak, m = map_item(seg), seg] {
                auto e = weak.lock();
                return e ? e->init_timescale(m, seg) : std::nullopt;
            };
        src = std::make_shared<metadata_tap>(std::move(src), tap_kind, at(seg).start,
                                             "segment " + at(seg).label, std::move(found),
                                             std::move(timescale));
    }
    if (is_packed(container)) src = std::make_shared<id3_skip_source>(std::move(src));
    return src;
}

}  // namespace kithara::hls::detail
