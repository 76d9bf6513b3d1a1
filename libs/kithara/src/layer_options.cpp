// open_options' common fields applied to each layer's own options.
#include "detail/backend.hpp"
#include "detail/context_state.hpp"

#include <algorithm>
#include <utility>

namespace kithara::detail {

file::options file_options_for(context_state& ctx, const open_options& opts,
                               std::shared_ptr<wake_hook> hook) {
    file::options fo = opts.file;
    fo.offline = opts.offline || ctx.options.offline;
    fo.headers = opts.headers;
    fo.request = opts.request;
    fo.background = &ctx.background;
    fo.on_event = nullptr;
    if (hook) {
        // The pool's gate looks this far ahead of the decoder: progress must come as often.
        fo.progress_every_bytes = std::min<std::uint64_t>(fo.progress_every_bytes, gate_bytes);
    }
    if (opts.on_event || hook) {
        fo.on_event = [cb = opts.on_event, hook](const file::event& e) {
            if (cb) cb(audio_event{.kind = kind_of(e), .detail = e});
            if (hook) hook->wake();
        };
    }
    return fo;
}

hls::stream_options hls_options_for(context_state& ctx, const open_options& opts,
                                    std::shared_ptr<wake_hook> hook) {
    hls::stream_options so = opts.hls;
    so.decode = opts.decode;
    so.offline = opts.offline || ctx.options.offline;
    so.headers = opts.headers;
    so.request = opts.request;
    so.on_event = nullptr;
    if (opts.on_event || hook) {
        so.on_event = [cb = opts.on_event, hook](const hls::event& e) {
            if (cb) cb(audio_event{.kind = kind_of(e), .detail = e});
            if (hook) hook->wake();
        };
    }
    return so;
}

}  // namespace kithara::detail
