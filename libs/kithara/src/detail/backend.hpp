// The layer an audio_stream delegates to: a progressive file (file_source + decoder) or an
// hls_stream. One application thread at a time, except interrupt() (any thread).
#pragma once

#include <kithara/kithara/audio_stream.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace kithara::detail {

struct context_state;

class backend {
public:
    virtual ~backend() = default;
    virtual result<std::optional<decode::pcm_chunk>> next() = 0;
    virtual result<> seek(std::chrono::nanoseconds position) = 0;
    virtual void fill_info(audio_info& i) const = 0;
    virtual void fill_stats(audio_stats& s) const = 0;
    virtual void interrupt() = 0;  // any thread
    virtual hls::hls_stream* as_hls() noexcept { return nullptr; }
    virtual file::file_source* as_file() noexcept { return nullptr; }
};

// Each opens its layer with `opts` merged into the layer's own options (see open_options).
result<std::unique_ptr<backend>> open_file_backend(context_state& ctx, const std::string& url,
                                                   const open_options& opts);
result<std::unique_ptr<backend>> open_hls_backend(context_state& ctx, const std::string& url,
                                                  const open_options& opts);

// The layers' options with the common fields of `opts` (and the context's) applied.
file::options file_options_for(context_state& ctx, const open_options& opts);
hls::stream_options hls_options_for(context_state& ctx, const open_options& opts);

// The common kind of a layer's event.
audio_event_kind kind_of(const file::event& e) noexcept;
audio_event_kind kind_of(const hls::event& e) noexcept;

}  // namespace kithara::detail
