// A progressive URL as an audio_stream: file::file_source read by a decode::decoder.
//
// No read-ahead thread: the decoder reads the source directly (prefetch_bytes = 0). The
// file_source already downloads ahead on the io thread into the cache, so a read is a wait on
// the range notifier (when the bytes are not there yet) and a pread from the page cache. The
// stream therefore owns no thread; decoding runs on the thread calling next().
#include "detail/backend.hpp"
#include "detail/context_state.hpp"

#include <kithara/decode/decoder.hpp>

#include <atomic>
#include <stop_token>
#include <utility>

namespace kithara::detail {
namespace {

// The file source as the decoder sees it, remembering where its reads got to (the frontier the
// decode pool's gate looks ahead of).
class frontier_source final : public stream::source {
public:
    explicit frontier_source(std::shared_ptr<file::file_source> src) : src_(std::move(src)) {}

    [[nodiscard]] std::optional<std::uint64_t> length() const override { return src_->length(); }
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override {
        return src_->wait_range(r, until, std::move(stop));
    }
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override {
        auto n = src_->read_at(offset, out);
        if (n) frontier_.store(offset + *n, std::memory_order_relaxed);
        return n;
    }
    void will_need(stream::byte_range r) override { src_->will_need(r); }
    [[nodiscard]] stream::media_hints hints() const override { return src_->hints(); }

    [[nodiscard]] std::uint64_t frontier() const noexcept {
        return frontier_.load(std::memory_order_relaxed);
    }

private:
    std::shared_ptr<file::file_source> src_;
    std::atomic<std::uint64_t> frontier_{0};  // the end of the newest read
};

class file_backend final : public backend {
public:
    explicit file_backend(std::shared_ptr<file::file_source> src)
        : src_(std::move(src)), reads_(std::make_shared<frontier_source>(src_)) {}

    result<> start(const open_options& opts) {
        decode::decoder_options d = opts.decode;
        d.reader.prefetch_bytes = 0;
        d.reader.stop = stop_.get_token();
        auto dec = decode::decoder::open(reads_, std::move(d));
        if (!dec) return fail(dec.error());
        dec_ = std::move(*dec);
        return {};
    }

    result<std::optional<decode::pcm_chunk>> next() override { return dec_->next(); }

    // The bytes gate_bytes past the frontier are there (or the file is whole). A check with a
    // deadline already passed: it never waits, and it is the demand signal at the frontier.
    bool ready() override {
        if (src_->complete()) return true;
        const std::uint64_t from = reads_->frontier();
        auto w = src_->wait_range({from, from + gate_bytes}, std::chrono::steady_clock::now(), {});
        return !w || *w != stream::wait_status::timed_out;  // an error: next() reports it
    }
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
    std::shared_ptr<frontier_source> reads_;  // what the decoder reads
    std::stop_source stop_;                   // the decoder's reads wait on its token
    std::unique_ptr<decode::decoder> dec_;    // declared last: destroyed before the source
};

}  // namespace

result<std::unique_ptr<backend>> open_file_backend(context_state& ctx, const std::string& url,
                                                   const open_options& opts,
                                                   std::shared_ptr<wake_hook> hook) {
    auto src =
        file::open(url, *ctx.store, *ctx.client, file_options_for(ctx, opts, std::move(hook)));
    if (!src) return fail(src.error());
    auto b = std::make_unique<file_backend>(std::move(*src));
    if (auto r = b->start(opts); !r) return fail(r.error());
    return std::unique_ptr<backend>(std::move(b));
}

}  // namespace kithara::detail
