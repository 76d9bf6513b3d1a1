// A progressive URL as an audio_stream: file::file_source read by a decode::decoder.
//
// No read-ahead thread: the decoder reads the source directly (prefetch_bytes = 0). The
// file_source already downloads ahead on the io thread into the cache, so a read is a wait on
// the range notifier (when the bytes are not there yet) and a pread from the page cache. The
// stream therefore owns no thread; decoding runs on the thread calling next().
#include "detail/backend.hpp"
#include "detail/context_state.hpp"

#include <kithara/decode/decoder.hpp>

#include <stop_token>
#include <utility>

namespace kithara::detail {
namespace {

class file_backend final : public backend {
public:
    explicit file_backend(std::shared_ptr<file::file_source> src) : src_(std::move(src)) {}

    result<> start(const open_options& opts) {
        decode::decoder_options d = opts.decode;
        d.reader.prefetch_bytes = 0;
        d.reader.stop = stop_.get_token();
        auto dec = decode::decoder::open(src_, std::move(d));
        if (!dec) return fail(dec.error());
        dec_ = std::move(*dec);
        return {};
    }

    result<std::optional<decode::pcm_chunk>> next() override { return dec_->next(); }
    result<> seek(std::chrono::nanoseconds position) override { return dec_->seek(position); }

    void fill_info(audio_info& i) const override {
        const auto& d = dec_->info();
        i.container = d.container;
        i.codec = d.codec;
        i.sample_rate = d.output_rate;
        i.channels = d.output_channels;
        i.duration = d.duration;
        i.seekable = d.seekable;
    }

    void fill_stats(audio_stats& s) const override {
        const auto f = src_->stats();
        s.bytes_from_network = f.bytes_fetched;
        s.bytes_from_cache = f.cached_at_open;
        s.requests = f.requests;
        s.file = f;
        s.decode = dec_->stats();
    }

    void interrupt() override { stop_.request_stop(); }
    file::file_source* as_file() noexcept override { return src_.get(); }

private:
    std::shared_ptr<file::file_source> src_;
    std::stop_source stop_;                 // the decoder's reads wait on its token
    std::unique_ptr<decode::decoder> dec_;  // declared last: destroyed before the source
};

}  // namespace

result<std::unique_ptr<backend>> open_file_backend(context_state& ctx, const std::string& url,
                                                   const open_options& opts) {
    auto src = file::open(url, *ctx.store, *ctx.client, file_options_for(ctx, opts));
    if (!src) return fail(src.error());
    auto b = std::make_unique<file_backend>(std::move(*src));
    if (auto r = b->start(opts); !r) return fail(r.error());
    return std::unique_ptr<backend>(std::move(b));
}

}  // namespace kithara::detail
