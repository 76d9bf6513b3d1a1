// An HLS URL as an audio_stream: hls::hls_stream. It decodes its first chunk inside open() and
// holds it, so info() names the output format before the first next() (an hls_stream learns its
// format from the segments, not the playlist).
#include "detail/backend.hpp"
#include "detail/context_state.hpp"

#include <cmath>
#include <utility>

namespace kithara::detail {
namespace {

std::chrono::nanoseconds to_ns(double seconds) {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(seconds * 1e9)));
}

class hls_backend final : public backend {
public:
    explicit hls_backend(std::unique_ptr<hls::hls_stream> s) : s_(std::move(s)) {}

    // Decodes the first chunk (nullopt: an empty playlist).
    result<> start() {
        auto c = s_->next();
        if (!c) return fail(c.error());
        if (*c) {
            note_format(**c);
            pending_ = std::move(*c);
        } else {
            ended_ = true;
        }
        return {};
    }

    result<std::optional<decode::pcm_chunk>> next() override {
        if (pending_) {
            std::optional<decode::pcm_chunk> c = std::move(pending_);
            pending_.reset();
            return c;
        }
        if (ended_) return std::optional<decode::pcm_chunk>{};
        auto c = s_->next();
        if (c && *c) note_format(**c);
        return c;
    }

    // Enough media ahead to decode a chunk without waiting (a chunk is ~0.1 s).
    static constexpr double ready_seconds = 0.2;

    // A chunk is decoded already, or the media ahead is in the cache, or the end is reached.
    bool ready() override {
        if (pending_ || ended_) return true;
        if (s_->stats().buffered_seconds >= ready_seconds) return true;
        const hls::stream_info h = s_->info();
        const double end = h.live && !h.ended ? -1.0 : h.duration;
        return end >= 0 && last_end_ >= end - ready_seconds;
    }

    result<> seek(std::chrono::nanoseconds position) override {
        auto r = s_->seek(std::chrono::duration<double>(position).count());
        if (r) {
            pending_.reset();
            ended_ = false;
            last_end_ = std::chrono::duration<double>(position).count();
        }
        return r;
    }

    void fill_info(audio_info& i) const override {
        hls::stream_info h = s_->info();
        i.container = "hls";
        if (h.variant < h.variants.size() && h.variants[h.variant].codecs)
            i.codec = *h.variants[h.variant].codecs;
        i.sample_rate = rate_;
        i.channels = channels_;
        i.live = h.live && !h.ended;
        i.duration = i.live ? to_ns(h.window_end) : to_ns(h.duration);
        i.seekable = true;
        i.hls = std::move(h);
    }

    void fill_stats(audio_stats& s) const override {
        const hls::stream_stats h = s_->stats();
        s.bytes_from_network = h.bytes_from_network;
        s.bytes_from_cache = h.bytes_from_cache;
        s.requests = h.requests;
        s.hls = h;
    }

    void interrupt() override { s_->interrupt(); }
    hls::hls_stream* as_hls() noexcept override { return s_.get(); }

private:
    void note_format(const decode::pcm_chunk& c) noexcept {
        rate_ = c.sample_rate;
        channels_ = c.channels;
        if (c.sample_rate > 0)
            last_end_ = std::chrono::duration<double>(c.start).count() +
                        static_cast<double>(c.frames()) / c.sample_rate;
    }

    std::unique_ptr<hls::hls_stream> s_;
    std::optional<decode::pcm_chunk> pending_;  // the chunk decoded by start(), not yet returned
    bool ended_ = false;                        // start() found no chunk at all
    std::uint32_t rate_ = 0;                    // of the newest chunk decoded
    std::uint32_t channels_ = 0;
    double last_end_ = 0;  // seconds: where the newest chunk decoded ends
};

}  // namespace

result<std::unique_ptr<backend>> open_hls_backend(context_state& ctx, const std::string& url,
                                                  const open_options& opts,
                                                  std::shared_ptr<wake_hook> hook) {
    auto s = hls::open(url, *ctx.store, *ctx.client, hls_options_for(ctx, opts, std::move(hook)));
    if (!s) return fail(s.error());
    auto b = std::make_unique<hls_backend>(std::move(*s));
    if (auto r = b->start(); !r) return fail(r.error());
    return std::unique_ptr<backend>(std::move(b));
}

}  // namespace kithara::detail
