#include <kithara/stream/reader.hpp>

#include <kithara/bufpool/pool.hpp>
#include <kithara/stream/error.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace kithara::stream {

struct reader::impl {
    impl(std::shared_ptr<source> s, reader_options o) : src(std::move(s)), opts(std::move(o)) {
        if (opts.block_bytes == 0) opts.block_bytes = 64 * 1024;
        if (opts.prefetch_bytes > 0) {
            ring = bufpool::default_byte_pool().get(opts.prefetch_bytes);
            cap = ring.size();
            worker = std::jthread([this] { prefetch_loop(); });
        }
        user_stop.emplace(opts.stop, [this] { on_user_stop(); });
    }

    ~impl() {
        user_stop.reset();
        std::stop_source old;
        {
            std::lock_guard lock(mutex);
            closing = true;
            old = epoch_stop;
        }
        old.request_stop();
        space_cv.notify_all();
        data_cv.notify_all();
        if (worker.joinable()) worker.join();
    }

    std::optional<deadline> make_deadline() const {
        std::optional<deadline> d;
        if (opts.timeout) d.emplace(std::chrono::steady_clock::now() + *opts.timeout);
        return d;
    }

    void on_user_stop() {
        std::stop_source old;
        {
            std::lock_guard lock(mutex);
            user_stopped = true;
            old = epoch_stop;
        }
        old.request_stop();
        space_cv.notify_all();
        data_cv.notify_all();
    }

    void prefetch_loop() {
        std::unique_lock lock(mutex);
        for (;;) {
            space_cv.wait(lock, [&] {
                return closing || user_stopped || (!eof_at && !fill_error && ring_size < cap);
            });
            if (closing || user_stopped) return;
            const std::uint64_t e = epoch;
            const std::uint64_t fill = ring_begin + ring_size;
            const std::size_t tail = (head + ring_size) % cap;
            const std::size_t n = std::min({cap - ring_size, cap - tail, opts.block_bytes});
            std::stop_token stop = epoch_stop.get_token();
            lock.unlock();

            auto r = src->read_at(fill, std::span<std::byte>(ring.data() + tail, n));
            if (!r && r.error() == errc::not_available) {
                auto w = src->wait_range({fill, fill + 1}, std::nullopt, stop);
                lock.lock();
                if (epoch != e) continue;
                if (!w) {
                    fill_error = w.error();
                    fill_error->add_context("read-ahead at " + std::to_string(fill));
                    data_cv.notify_all();
                } else if (*w == wait_status::eof) {
                    eof_at = fill;
                    data_cv.notify_all();
                }
                continue;  // ready: read again; cancelled/timed out: re-check state
            }
            lock.lock();
            if (r) stats.bytes_fetched += *r;
            if (epoch != e) {
                if (r) stats.bytes_discarded += *r;
                continue;
            }
            if (!r) {
                fill_error = r.error();
                fill_error->add_context("read-ahead at " + std::to_string(fill));
            } else if (*r == 0) {
                eof_at = fill;
            } else {
                ring_size += *r;
            }
            data_cv.notify_all();
        }
    }

    result<std::size_t> read_prefetched(std::span<std::byte> out) {
        std::unique_lock lock(mutex);
        const std::optional<deadline> until = make_deadline();
        bool waited = false;
        for (;;) {
            if (user_stopped) return fail(errc::cancelled, "read at " + std::to_string(pos));
            if (ring_size > 0) {
                const std::size_t n = std::min(out.size(), ring_size);
                const std::size_t h = head;
                lock.unlock();
                const std::size_t first = std::min(n, cap - h);
                std::memcpy(out.data(), ring.data() + h, first);
                if (first < n) std::memcpy(out.data() + first, ring.data(), n - first);
                lock.lock();
                head = (head + n) % cap;
                ring_size -= n;
                ring_begin += n;
                pos += n;
                stats.bytes_read += n;
                if (waited) ++stats.underruns;
                lock.unlock();
                space_cv.notify_one();
                return n;
            }
            if (eof_at && *eof_at <= pos) return std::size_t{0};
            if (fill_error) return fail(*fill_error);
            waited = true;
            if (until) {
                if (data_cv.wait_until(lock, *until) == std::cv_status::timeout && ring_size == 0 &&
                    !eof_at && !fill_error && !user_stopped) {
                    ++stats.underruns;
                    return fail(errc::timed_out, "read at " + std::to_string(pos));
                }
            } else {
                data_cv.wait(lock);
            }
        }
    }

    result<std::size_t> read_direct(std::span<std::byte> out) {
        const std::optional<deadline> until = make_deadline();
        const std::uint64_t at = pos;
        bool waited = false;
        for (;;) {
            if (opts.stop.stop_requested()) {
                return fail(errc::cancelled, "read at " + std::to_string(at));
            }
            auto r = src->read_at(at, out.subspan(0, std::min(out.size(), opts.block_bytes)));
            if (r) {
                std::lock_guard lock(mutex);
                pos = at + *r;
                stats.bytes_read += *r;
                stats.bytes_fetched += *r;
                if (waited) ++stats.underruns;
                return r;
            }
            if (r.error() != errc::not_available) {
                auto e = r.error();
                e.add_context("read at " + std::to_string(at));
                return fail(std::move(e));
            }
            waited = true;
            auto w = src->wait_range({at, at + 1}, until, opts.stop);
            if (!w) return fail(w.error());
            switch (*w) {
                case wait_status::ready:
                case wait_status::eof:
                    continue;  // read_at now returns bytes or 0
                case wait_status::cancelled:
                    return fail(errc::cancelled, "read at " + std::to_string(at));
                case wait_status::timed_out: {
                    std::lock_guard lock(mutex);
                    ++stats.underruns;
                    return fail(errc::timed_out, "read at " + std::to_string(at));
                }
            }
        }
    }

    result<std::uint64_t> seek(std::uint64_t p) {
        if (auto len = src->length(); len && p > *len) {
            return fail(errc::invalid_seek,
                        "seek to " + std::to_string(p) + " past length " + std::to_string(*len));
        }
        std::stop_source old;
        {
            std::lock_guard lock(mutex);
            if (cap == 0) {
                pos = p;
                return p;
            }
            if (p >= ring_begin && p <= ring_begin + ring_size) {
                const auto drop = static_cast<std::size_t>(p - ring_begin);
                head = (head + drop) % cap;
                ring_size -= drop;
                ring_begin = p;
                pos = p;
            } else {
                ++epoch;
                ++stats.seeks;
                stats.bytes_discarded += ring_size;
                old = std::exchange(epoch_stop, std::stop_source());
                ring_begin = p;
                head = 0;
                ring_size = 0;
                eof_at.reset();
                fill_error.reset();
                pos = p;
            }
        }
        old.request_stop();  // outside the lock: may run the source's wake-up
        space_cv.notify_one();
        return p;
    }

    std::shared_ptr<source> src;
    reader_options opts;
    bufpool::byte_buffer ring;
    std::size_t cap = 0;

    mutable std::mutex mutex;
    std::condition_variable data_cv;   // consumer: bytes, eof, error or stop
    std::condition_variable space_cv;  // read-ahead: space, new epoch or close
    std::uint64_t pos = 0;             // consumer position (== ring_begin in prefetch mode)
    std::uint64_t ring_begin = 0;      // absolute offset of ring[head]
    std::size_t head = 0;
    std::size_t ring_size = 0;
    std::uint64_t epoch = 0;
    std::stop_source epoch_stop;
    std::optional<std::uint64_t> eof_at;
    std::optional<error> fill_error;
    bool closing = false;
    bool user_stopped = false;
    reader_stats stats;

    std::jthread worker;
    std::optional<std::stop_callback<std::function<void()>>> user_stop;
};

reader::reader(std::shared_ptr<source> src, reader_options options)
    : impl_(std::make_unique<impl>(std::move(src), std::move(options))) {}

reader::~reader() = default;

result<std::size_t> reader::read(std::span<std::byte> out) {
    if (out.empty()) return std::size_t{0};
    return impl_->cap > 0 ? impl_->read_prefetched(out) : impl_->read_direct(out);
}

result<std::uint64_t> reader::seek(std::uint64_t position) {
    return impl_->seek(position);
}

std::uint64_t reader::tell() const noexcept {
    std::lock_guard lock(impl_->mutex);
    return impl_->pos;
}

std::optional<std::uint64_t> reader::size() const {
    return impl_->src->length();
}

std::uint64_t reader::epoch() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->epoch;
}

reader_stats reader::stats() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->stats;
}

source& reader::get_source() const noexcept {
    return *impl_->src;
}

}  // namespace kithara::stream
