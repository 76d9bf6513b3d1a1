#include <kithara/decode/session.hpp>

#include <kithara/decode/error.hpp>
#include <kithara/worker/blocking_pool.hpp>
#include <kithara/worker/channel.hpp>
#include <kithara/worker/error.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace kithara::decode {

namespace {

struct queued {
    pull_result item;
    [[nodiscard]] std::size_t size_bytes() const noexcept {
        return item && *item ? (*item)->samples.capacity() * sizeof(float) : 0;
    }
};

}  // namespace

struct session::impl {
    impl(std::unique_ptr<decoder> d, session_options o)
        : dec(std::move(d)),
          opts(std::move(o)),
          queue(worker::channel_options{opts.max_chunks, opts.max_bytes}),
          info(dec->info()) {}

    void run(std::stop_token stop) {
        thread_id.store(std::this_thread::get_id());
        std::stop_callback wake(stop, [this] { cv.notify_all(); });
        worker::epoch_t e = 0;
        bool idle = false;  // ended or failed: wait for a seek
        for (;;) {
            std::optional<std::chrono::nanoseconds> to;
            {
                std::unique_lock lk(mutex);
                if (idle) cv.wait(lk, [&] { return stop.stop_requested() || pending_seek; });
                if (stop.stop_requested()) return;
                if (pending_seek) {
                    to = std::exchange(pending_seek, std::nullopt);
                    e = pending_epoch;
                }
            }
            if (to) {
                idle = false;
                if (auto r = dec->seek(*to); !r) {
                    idle = true;
                    deliver(e, pull_result(fail(r.error())), stop);
                    continue;
                }
            }
            auto r = dec->next();
            if (!r || !*r) idle = true;
            {
                std::lock_guard lk(mutex);
                stats = dec->stats();
                info = dec->info();
                stalled = idle;
            }
            progress.notify_all();
            if (r && *r) (*r)->epoch = e;
            if (!deliver(e, std::move(r), stop)) return;
        }
    }

    // False when the session must end (queue closed or stop requested).
    bool deliver(worker::epoch_t e, pull_result r, const std::stop_token& stop) {
        if (opts.on_item) {
            if (queue.epoch() != e) return true;  // a newer seek is pending
            opts.on_item(std::move(r));
            return true;
        }
        auto sent = queue.send(worker::stamped<queued>{e, queued{std::move(r)}}, stop);
        if (!sent) {
            if (sent.error() == worker::errc::stale) return true;
            return false;
        }
        return true;
    }

    pull_result unwrap(result<worker::stamped<queued>> r) {
        if (!r) return fail(r.error());  // worker::errc: matches kithara::condition::*
        return std::move(r->value.item);
    }

    std::unique_ptr<decoder> dec;
    session_options opts;
    worker::epoch_channel<queued> queue;

    mutable std::mutex mutex;  // guards pending_seek, pending_epoch, stats, info
    std::condition_variable cv;
    mutable std::condition_variable progress;  // stats advanced or the stream ended/failed
    bool stalled = false;                      // ended or failed: nothing more until a seek
    std::optional<std::chrono::nanoseconds> pending_seek;
    worker::epoch_t pending_epoch = 0;
    decode_stats stats;
    stream_info info;
    std::stop_source decoder_stop;
    worker::job thread;
    std::atomic<std::thread::id> thread_id{};
};

session::session(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

session::~session() {
    stop();
}

result<std::unique_ptr<session>> session::start(std::shared_ptr<stream::source> src,
                                                session_options options) {
    std::stop_source decoder_stop;
    if (!options.decoder.reader.stop.stop_possible()) {
        options.decoder.reader.stop = decoder_stop.get_token();
    }
    auto dec = decoder::open(std::move(src), options.decoder);
    if (!dec) return fail(dec.error());
    auto p = std::make_unique<impl>(std::move(*dec), std::move(options));
    p->decoder_stop = std::move(decoder_stop);
    auto* raw = p.get();
    auto j = worker::job::start(raw->opts.thread_name,
                                [raw](std::stop_token st) { raw->run(std::move(st)); });
    if (!j) return fail(j.error());
    p->thread = std::move(*j);
    return std::unique_ptr<session>(new session(std::move(p)));
}

pull_result session::pull(std::optional<std::chrono::milliseconds> timeout, std::stop_token stop) {
    const auto until = timeout ? worker::deadline_after(*timeout) : worker::no_deadline;
    return impl_->unwrap(impl_->queue.receive(std::move(stop), until));
}

pull_result session::try_pull() {
    return impl_->unwrap(impl_->queue.try_receive());
}

void session::seek(std::chrono::nanoseconds position) {
    {
        std::lock_guard lk(impl_->mutex);
        impl_->pending_seek = position;
        impl_->pending_epoch = impl_->queue.bump_epoch();
    }
    impl_->cv.notify_all();
}

void session::stop() {
    impl_->decoder_stop.request_stop();
    impl_->thread.request_stop();
    impl_->queue.close();
    // From the callback (the decode thread itself) the thread ends on its own; never self-join.
    if (impl_->thread_id.load() == std::this_thread::get_id()) return;
    if (impl_->thread.joinable()) impl_->thread.join();
}

stream_info session::info() const {
    std::lock_guard lk(impl_->mutex);
    return impl_->info;
}

decode_stats session::stats() const {
    std::lock_guard lk(impl_->mutex);
    return impl_->stats;
}

bool session::wait_decoded(std::uint64_t frames, kithara::deadline until) const {
    std::unique_lock lk(impl_->mutex);
    impl_->progress.wait_until(lk, until,
                               [&] { return impl_->stats.pcm_frames >= frames || impl_->stalled; });
    return impl_->stats.pcm_frames >= frames;
}

std::uint64_t session::epoch() const {
    return impl_->queue.epoch();
}

}  // namespace kithara::decode
