#include <kithara/kithara/audio_stream.hpp>

#include "detail/backend.hpp"
#include "detail/context_state.hpp"

#include <utility>

namespace kithara {

audio_stream::audio_stream(std::shared_ptr<detail::context_state> ctx, std::string url,
                           stream_kind kind, std::unique_ptr<detail::backend> b)
    : ctx_(std::move(ctx)), url_(std::move(url)), kind_(kind), backend_(std::move(b)) {}

audio_stream::~audio_stream() {
    close();
}

namespace {
error closed_error(const std::string& url) {
    return {context_errc::closed, url};
}
error hls_only(const char* what, const std::string& url) {
    return {context_errc::not_supported, std::string(what) + " on a progressive file: " + url};
}
}  // namespace

result<std::optional<decode::pcm_chunk>> audio_stream::next() {
    if (!backend_) return fail(closed_error(url_));
    if (interrupted_.load(std::memory_order_acquire)) return fail(context_errc::interrupted, url_);
    auto c = backend_->next();
    if (c && *c) {
        ++chunks_;
        frames_ += (*c)->frames();
    }
    return c;
}

result<poll_state> audio_stream::try_next(decode::pcm_chunk& out) {
    if (!backend_) return fail(closed_error(url_));
    if (interrupted_.load(std::memory_order_acquire)) return fail(context_errc::interrupted, url_);
    auto r = backend_->try_next(out);
    if (r && *r == poll_state::ready) {
        ++chunks_;
        frames_ += out.frames();
    }
    return r;
}

result<> audio_stream::seek(std::chrono::nanoseconds position) {
    if (!backend_) return fail(closed_error(url_));
    return backend_->seek(position);
}

audio_info audio_stream::info() const {
    audio_info i;
    i.kind = kind_;
    i.url = url_;
    if (backend_) backend_->fill_info(i);
    return i;
}

audio_stats audio_stream::stats() const {
    audio_stats s;
    if (backend_) backend_->fill_stats(s);
    s.chunks = chunks_;
    s.pcm_frames = frames_;
    return s;
}

void audio_stream::interrupt() {
    interrupted_.store(true, std::memory_order_release);
    std::lock_guard lk(backend_m_);
    if (backend_) backend_->interrupt();  // sets flags and wakes waiters: no I/O, no wait
}

void audio_stream::close() {
    std::unique_ptr<detail::backend> b;
    {
        std::lock_guard lk(backend_m_);
        b = std::move(backend_);
    }
    if (b) b->interrupt();
    // b dies here, outside the lock: its downloads stop and the cache is flushed.
}

result<> audio_stream::pin() {
    return ctx_->store->pin(url_);
}
result<> audio_stream::unpin() {
    return ctx_->store->unpin(url_);
}

result<> audio_stream::lock_variant(std::optional<std::size_t> variant) {
    if (kind_ != stream_kind::hls) return fail(hls_only("lock_variant", url_));
    std::lock_guard lk(backend_m_);  // lock_variant only stores the choice
    if (!backend_) return fail(closed_error(url_));
    backend_->as_hls()->lock_variant(variant);
    return {};
}

result<> audio_stream::set_max_bandwidth(std::uint64_t bits_per_second) {
    if (kind_ != stream_kind::hls) return fail(hls_only("set_max_bandwidth", url_));
    std::lock_guard lk(backend_m_);  // set_max_bandwidth only stores the cap
    if (!backend_) return fail(closed_error(url_));
    backend_->as_hls()->set_max_bandwidth(bits_per_second);
    return {};
}

result<> audio_stream::select_audio(const hls::audio_preferences& preferences) {
    if (kind_ != stream_kind::hls) return fail(hls_only("select_audio", url_));
    if (!backend_) return fail(closed_error(url_));
    return backend_->exclusive(
        [&preferences](detail::backend& b) { return b.as_hls()->select_audio(preferences); });
}

result<> audio_stream::seek_to_live_edge() {
    if (kind_ != stream_kind::hls) return fail(hls_only("seek_to_live_edge", url_));
    if (!backend_) return fail(closed_error(url_));
    return backend_->reposition([](detail::backend& b) { return b.as_hls()->seek_to_live_edge(); });
}

std::optional<std::chrono::system_clock::time_point> audio_stream::wall_clock(
    std::chrono::nanoseconds position) const {
    if (kind_ != stream_kind::hls || !backend_) return std::nullopt;
    std::optional<std::chrono::system_clock::time_point> at;
    const double seconds = std::chrono::duration<double>(position).count();
    // Not during a turn of the decode pool: the stream's timeline moves there.
    (void)backend_->exclusive([&](detail::backend& b) {
        at = b.as_hls()->wall_clock(seconds);
        return result<>{};
    });
    return at;
}

hls::hls_stream* audio_stream::as_hls() noexcept {
    return backend_ ? backend_->as_hls() : nullptr;
}
file::file_source* audio_stream::as_file() noexcept {
    return backend_ ? backend_->as_file() : nullptr;
}

}  // namespace kithara
