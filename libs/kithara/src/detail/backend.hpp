// The layer an audio_stream delegates to: a progressive file (file_source + decoder) or an
// hls_stream. One application thread at a time, except interrupt() (any thread).
#pragma once

#include <kithara/kithara/audio_stream.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace kithara::detail {

struct context_state;

// How far ahead of a file decoder's reads the bytes must be for the pool to give it a turn.
inline constexpr std::uint64_t gate_bytes = 32 * 1024;

class backend {
public:
    using action = std::function<result<>(backend&)>;

    virtual ~backend() = default;
    virtual result<std::optional<decode::pcm_chunk>> next() = 0;
    // Never waits when decoding ahead; here (decoding on the caller): next().
    virtual result<poll_state> try_next(decode::pcm_chunk& out);
    virtual result<> seek(std::chrono::nanoseconds position) = 0;
    // Would next() return without waiting for the network? (A hint: the pool decodes ahead only
    // for streams whose bytes are there.)
    [[nodiscard]] virtual bool ready() { return true; }
    // A call that repositions (a seek): run now here; deferred to the next turn when decoding
    // ahead, the chunks of the old position dropped.
    virtual result<> reposition(const action& a) { return a(*this); }
    // A call that must not run during next() (select_audio): run now here; when decoding ahead,
    // in the next turn, waited for.
    virtual result<> exclusive(const action& a) { return a(*this); }
    virtual void fill_info(audio_info& i) const = 0;
    virtual void fill_stats(audio_stats& s) const = 0;
    virtual void interrupt() = 0;  // any thread
    virtual hls::hls_stream* as_hls() noexcept { return nullptr; }
    virtual file::file_source* as_file() noexcept { return nullptr; }
};

// Wakes a stream decoding ahead when its layer reports progress (an event on the io thread).
// Set once the stream exists; events before that wake nothing (its first turn is queued anyway).
class wake_hook {
public:
    void set(std::function<void()> f) {
        std::lock_guard lk(m_);
        wake_ = std::move(f);
    }
    void wake() {
        std::function<void()> f;
        {
            std::lock_guard lk(m_);
            f = wake_;
        }
        if (f) f();
    }

private:
    std::mutex m_;  // guards wake_ (a leaf: nothing is called under it)
    std::function<void()> wake_;
};

// Each opens its layer with `opts` merged into the layer's own options (see open_options).
result<std::unique_ptr<backend>> open_file_backend(context_state& ctx, const std::string& url,
                                                   const open_options& opts,
                                                   std::shared_ptr<wake_hook> hook);
result<std::unique_ptr<backend>> open_hls_backend(context_state& ctx, const std::string& url,
                                                  const open_options& opts,
                                                  std::shared_ptr<wake_hook> hook);

// `inner` decoding ahead on the context's decode pool (opts.decode_ahead_*, opts.on_ready);
// the hook wakes it.
std::unique_ptr<backend> decode_ahead(context_state& ctx, std::unique_ptr<backend> inner,
                                      const open_options& opts, wake_hook& hook);

// The layers' options with the common fields of `opts` (and the context's) applied; every
// event also wakes `hook` when given.
file::options file_options_for(context_state& ctx, const open_options& opts,
                               std::shared_ptr<wake_hook> hook = nullptr);
hls::stream_options hls_options_for(context_state& ctx, const open_options& opts,
                                    std::shared_ptr<wake_hook> hook = nullptr);

// The common kind of a layer's event.
audio_event_kind kind_of(const file::event& e) noexcept;
audio_event_kind kind_of(const hls::event& e) noexcept;

}  // namespace kithara::detail
