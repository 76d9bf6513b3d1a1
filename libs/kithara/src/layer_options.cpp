// open_options' common fields applied to each layer's own options.
#include "detail/backend.hpp"
#include "detail/context_state.hpp"

#include <utility>

namespace kithara::detail {

file::options file_options_for(context_state& ctx, const open_options& opts) {
    file::options fo = opts.file;
    fo.offline = opts.offline || ctx.options.offline;
    fo.headers = opts.headers;
    fo.request = opts.request;
    fo.background = &ctx.background;
    fo.on_event = nullptr;
    if (opts.on_event) {
        fo.on_event = [cb = opts.on_event](const file::event& e) {
            cb(audio_event{.kind = kind_of(e), .detail = e});
        };
    }
    return fo;
}

hls::stream_options hls_options_for(context_state& ctx, const open_options& opts) {
    hls::stream_options so = opts.hls;
    so.decode = opts.decode;
    so.offline = opts.offline || ctx.options.offline;
    so.headers = opts.headers;
    so.request = opts.request;
    so.on_event = nullptr;
    if (opts.on_event) {
        so.on_event = [cb = opts.on_event](const hls::event& e) {
            cb(audio_event{.kind = kind_of(e), .detail = e});
        };
    }
    return so;
}

}  // namespace kithara::detail
