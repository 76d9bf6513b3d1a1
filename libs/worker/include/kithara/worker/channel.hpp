// Bounded MPMC channels with backpressure: bounded in items and, for payloads that carry a size
// (pooled buffers, types with size_bytes(), or a custom Size function), in bytes.
//
//   using kithara::bufpool::byte_buffer;
//   kithara::worker::channel<byte_buffer> ch({.max_items = 8, .max_bytes = 1 << 20});
//   auto sent = ch.send(std::move(buf), stop, kithara::deadline_after(1s));  // blocks while full
//   ch.async_receive(io.executor(), [](kithara::result<byte_buffer> r) { use(r); });
//
// Every member may be called from any thread. The blocking calls (send, receive) must not be
// called on an io thread; the try_ and async_ calls never block. Async completions are posted to
// the handler's associated executor (default: the executor passed in), never run inline, and that
// executor's context must outlive the operation. Close: senders get errc::closed; receivers first
// drain what is queued, then get errc::closed; pending async operations complete with closed.
//
// epoch_channel<T> carries stamped<T>: bump_epoch() starts a new epoch, drops every queued item
// of an older epoch and makes later sends of such items fail with errc::stale, all under the
// channel lock: once bump_epoch() returns, receive()/try_receive() never return a stale item.
// An async receive handed an item before the bump re-checks the epoch when its handler is about
// to run: a stale item is dropped there and the handler gets errc::stale instead.
//
// Lock: m_ guards the ring, the counters, the waiter lists, closed_ and epoch changes; it is never
// held while running a handler, posting, or destroying a stop callback. Items sit in a ring
// allocated at construction: blocking and try_ operations do not allocate; an async operation
// allocates one small node. Ownership: the channel owns queued items; a failed send or try_send
// leaves the caller's item untouched; an async_send that fails destroys its item. The channel must
// outlive blocking callers; destroying it closes it.
#pragma once

#include <kithara/bufpool/pool.hpp>
#include <kithara/core/result.hpp>
#include <kithara/worker/cancel.hpp>
#include <kithara/worker/epoch.hpp>
#include <kithara/worker/error.hpp>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace kithara::worker {

namespace detail {
template <class T>
struct is_pool_buffer : std::false_type {};
template <class U>
struct is_pool_buffer<bufpool::buffer<U>> : std::true_type {};
}  // namespace detail

// The byte size an item counts against max_bytes. Specialize it, or pass a Size function to the
// channel. Defaults: a pooled buffer counts its capacity (the memory it pins), a type with
// size_bytes() counts that, anything else counts 0 (bounded by count only).
template <class T>
struct item_size {
    std::size_t operator()(const T& v) const noexcept {
        if constexpr (detail::is_pool_buffer<T>::value) {
            return v.capacity() * sizeof(typename T::value_type);
        } else if constexpr (requires {
                                 { v.size_bytes() } -> std::convertible_to<std::size_t>;
                             }) {
            return static_cast<std::size_t>(v.size_bytes());
        } else {
            return 0;
        }
    }
};
template <class T>
struct item_size<stamped<T>> {
    std::size_t operator()(const stamped<T>& s) const noexcept { return item_size<T>{}(s.value); }
};

struct channel_options {
    std::size_t max_items = 64;                                       // >= 1; the ring's size
    std::size_t max_bytes = std::numeric_limits<std::size_t>::max();  // an item larger than
                                                                      // this is admitted alone
};

struct channel_stats {
    std::size_t items = 0;  // queued now
    std::size_t bytes = 0;
    std::size_t high_water_items = 0;
    std::size_t high_water_bytes = 0;
    std::uint64_t sent = 0;      // items accepted (queued or handed to a receiver)
    std::uint64_t received = 0;  // items delivered
    std::uint64_t dropped = 0;   // epoch_channel: stale items rejected or purged
    epoch_t epoch = 0;           // epoch_channel: the current epoch
};

template <class T, class Size = item_size<T>, bool Epochs = false>
class basic_channel {
    static_assert(std::is_nothrow_move_constructible_v<T>, "channel items move without throwing");

public:
    using value_type = T;

    explicit basic_channel(channel_options options = {}, Size size = {})
        : size_(std::move(size)),
          capacity_(std::max<std::size_t>(options.max_items, 1)),
          max_bytes_(options.max_bytes),
          slots_(std::make_unique<slot[]>(capacity_)) {
        assert(options.max_items >= 1);
    }
    ~basic_channel() { close(); }
    basic_channel(const basic_channel&) = delete;
    basic_channel& operator=(const basic_channel&) = delete;

    // Blocks while the channel is full. Fails with closed, cancelled, timed_out (or stale);
    // on failure `item` is left untouched.
    result<void> send(T&& item, std::stop_token stop = {}, deadline until = no_deadline) {
        const std::size_t n = size_(item);
        std::optional<std::stop_callback<waker>> cb;  // destroyed after lk unlocks
        std::unique_lock lk(m_);
        for (;;) {
            if (auto r = check_send_locked(item); !r) return r;
            if (!recv_waiters_.empty() || fits(n)) break;
            if (auto s = block_locked(lk, not_full_, waiting_senders_, stop, until, cb);
                s != wait_status::ready) {
                pass_baton_senders_locked();
                return fail(wait_error(s, "channel::send"));
            }
        }
        deliver_locked(lk, std::move(item), n);
        return {};
    }

    // Never blocks: fails with full (or closed/stale); on failure `item` is left untouched.
    result<void> try_send(T&& item) {
        const std::size_t n = size_(item);
        std::unique_lock lk(m_);
        if (auto r = check_send_locked(item); !r) return r;
        if (recv_waiters_.empty() && !fits(n)) return fail(errc::full, "channel::try_send");
        deliver_locked(lk, std::move(item), n);
        return {};
    }

    // Copying forms for copyable items.
    result<void> send(const T& item, std::stop_token stop = {},
                      deadline until = no_deadline) requires std::copy_constructible<T> {
        T copy(item);
        return send(std::move(copy), std::move(stop), until);
    }
    result<void> try_send(const T& item) requires std::copy_constructible<T> {
        T copy(item);
        return try_send(std::move(copy));
    }

    // Blocks until an item arrives. Fails with closed (closed and drained), cancelled, timed_out.
    // A queued item is returned even if stop was requested: stop and deadline end waits only.
    result<T> receive(std::stop_token stop = {}, deadline until = no_deadline) {
        std::optional<std::stop_callback<waker>> cb;
        std::unique_lock lk(m_);
        while (count_ == 0) {
            if (closed_) return fail(errc::closed, "channel::receive");
            if (auto s = block_locked(lk, not_empty_, waiting_receivers_, stop, until, cb);
                s != wait_status::ready) {
                if (count_ > 0 && waiting_receivers_ > 0) not_empty_.notify_one();
                return fail(wait_error(s, "channel::receive"));
            }
        }
        return take_locked(lk);
    }

    // Never blocks: fails with empty, or closed once closed and drained.
    result<T> try_receive() {
        std::unique_lock lk(m_);
        if (count_ == 0) {
            return fail(closed_ ? errc::closed : errc::empty, "channel::try_receive");
        }
        return take_locked(lk);
    }

    // Completes with void(kithara::result<T>) on `ex` (or the handler's associated executor)
    // once an item is available, the channel is closed and drained, or `stop` is requested;
    // epoch_channel: or with stale, when the item's epoch ended before the handler ran.
    template <class Executor, class Token>
    auto async_receive(const Executor& ex, std::stop_token stop, Token&& token) {
        return asio::async_initiate<Token, void(result<T>)>(
            [this](auto handler, const Executor& e, std::stop_token st) {
                using op_t = recv_op_impl<std::decay_t<decltype(handler)>, Executor>;
                start_receive(new op_t(std::move(handler), e), std::move(st));
            },
            token, ex, std::move(stop));
    }
    template <class Executor, class Token>
    auto async_receive(const Executor& ex, Token&& token) {
        return async_receive(ex, std::stop_token{}, std::forward<Token>(token));
    }

    // Queues `item` once there is room; completes with void(kithara::result<void>) on `ex`.
    // On failure (closed, stale, cancelled) the item is destroyed.
    template <class Executor, class Token>
    auto async_send(const Executor& ex, T item, std::stop_token stop, Token&& token) {
        return asio::async_initiate<Token, void(result<void>)>(
            [this](auto handler, const Executor& e, T&& it, std::stop_token st) {
                using op_t = send_op_impl<std::decay_t<decltype(handler)>, Executor>;
                start_send(new op_t(std::move(handler), e, std::move(it)), std::move(st));
            },
            token, ex, std::move(item), std::move(stop));
    }
    template <class Executor, class Token>
    auto async_send(const Executor& ex, T item, Token&& token) {
        return async_send(ex, std::move(item), std::stop_token{}, std::forward<Token>(token));
    }

    // Closes for sending; wakes every waiter. Queued items stay receivable. Idempotent.
    void close() {
        recv_op* recvs = nullptr;
        send_op* sends = nullptr;
        {
            std::lock_guard lk(m_);
            closed_ = true;
            recvs = recv_waiters_.take_all(errc::closed);
            sends = send_waiters_.take_all(errc::closed);
            not_empty_.notify_all();
            not_full_.notify_all();
        }
        complete_all(recvs);
        complete_all(sends);
    }

    [[nodiscard]] bool closed() const {
        std::lock_guard lk(m_);
        return closed_;
    }

    [[nodiscard]] channel_stats stats() const {
        std::lock_guard lk(m_);
        channel_stats s = stats_;
        s.items = count_;
        s.bytes = bytes_;
        if constexpr (Epochs) {
            s.epoch = cell_->epoch.load(std::memory_order_relaxed);
            s.dropped += cell_->late_drops.load(std::memory_order_relaxed);
        }
        return s;
    }

    [[nodiscard]] std::size_t max_items() const noexcept { return capacity_; }
    [[nodiscard]] std::size_t max_bytes() const noexcept { return max_bytes_; }

    // epoch_channel only: the current epoch (a lock-free hint for producers to stop early).
    [[nodiscard]] epoch_t epoch() const noexcept requires Epochs {
        return cell_->epoch.load(std::memory_order_acquire);
    }

    // epoch_channel only: starts epoch()+1 and returns it. Queued items and pending async sends
    // of older epochs are dropped (counted in stats().dropped) before this returns.
    epoch_t bump_epoch() requires Epochs {
        send_op* stale_sends = nullptr;
        send_op* refilled = nullptr;
        epoch_t e = 0;
        {
            std::lock_guard lk(m_);
            e = cell_->epoch.load(std::memory_order_relaxed) + 1;
            cell_->epoch.store(e, std::memory_order_release);
            purge_stale_locked(e);
            stale_sends = send_waiters_.take_if(
                [e](const send_op& op) { return op.item->epoch < e; }, errc::stale);
            for (auto* op = stale_sends; op != nullptr; op = op->next) ++stats_.dropped;
            refilled = refill_locked();
            if (waiting_senders_ > 0) not_full_.notify_all();
        }
        complete_all(stale_sends);
        complete_all(refilled);
        return e;
    }

private:
    struct slot {
        std::optional<T> item;
        std::size_t bytes = 0;
    };

    // Wakes blocked callers when a stop is requested (runs on the requesting thread).
    struct waker {
        basic_channel* ch;
        void operator()() const noexcept {
            std::lock_guard lk(ch->m_);
            ch->not_empty_.notify_all();
            ch->not_full_.notify_all();
        }
    };

    template <class Op>
    struct canceller {
        basic_channel* ch;
        Op* op;
        void operator()() const noexcept { ch->cancel(op); }
    };

    // An async operation waiting in a list. finish() posts the handler and deletes the op.
    template <class Self>
    struct op_base {
        Self* prev = nullptr;
        Self* next = nullptr;
        bool linked = false;
        errc err = errc::ok_;
        std::optional<std::stop_callback<canceller<Self>>> cb;
        virtual void finish() noexcept = 0;
        virtual ~op_base() = default;
    };
    struct epoch_cell {
        std::atomic<epoch_t> epoch{0};
        std::atomic<std::uint64_t> late_drops{0};  // dropped by async completions
    };
    struct recv_op : op_base<recv_op> {
        std::optional<T> value;
        std::shared_ptr<epoch_cell> cell;  // epoch_channel only
    };
    struct send_op : op_base<send_op> {
        std::optional<T> item;
        std::size_t bytes = 0;
    };

    template <class Handler, class Executor>
    struct recv_op_impl final : recv_op {
        recv_op_impl(Handler h, const Executor& ex)
            : handler(std::move(h)), work(asio::make_work_guard(ex)) {}
        void finish() noexcept override {
            result<T> r = this->value ? result<T>(std::move(*this->value))
                                      : result<T>(fail(this->err, "channel::async_receive"));
            auto epochs = std::move(this->cell);
            post_and_delete(this, std::move(r), std::move(epochs));
        }
        Handler handler;
        asio::executor_work_guard<Executor> work;
    };
    template <class Handler, class Executor>
    struct send_op_impl final : send_op {
        send_op_impl(Handler h, const Executor& ex, T&& it)
            : handler(std::move(h)), work(asio::make_work_guard(ex)) {
            this->item.emplace(std::move(it));
        }
        void finish() noexcept override {
            result<void> r;
            if (this->err != errc::ok_) r = fail(this->err, "channel::async_send");
            post_and_delete(this, std::move(r));
        }
        Handler handler;
        asio::executor_work_guard<Executor> work;
    };

    // epoch_channel: an item that went stale between hand-off and its handler is dropped there
    // and the handler gets errc::stale (the check is the delivery point).
    template <class Op, class R>
    static void post_and_delete(Op* op, R&& r, std::shared_ptr<epoch_cell> cell = {}) noexcept {
        auto ex = asio::get_associated_executor(op->handler, op->work.get_executor());
        auto h = std::move(op->handler);
        auto work = std::move(op->work);  // keeps the context busy until the post below
        delete op;
        asio::post(ex, [h = std::move(h), r = std::forward<R>(r), c = std::move(cell)]() mutable {
            if constexpr (Epochs && std::is_same_v<std::decay_t<R>, result<T>>) {
                if (c && r && r->epoch < c->epoch.load(std::memory_order_acquire)) {
                    c->late_drops.fetch_add(1, std::memory_order_relaxed);
                    r = fail(errc::stale, "channel::async_receive");
                }
            }
            std::move(h)(std::move(r));
        });
    }

    // FIFO intrusive list of waiting async ops.
    template <class Op>
    struct op_list {
        Op* head = nullptr;
        Op* tail = nullptr;
        [[nodiscard]] bool empty() const noexcept { return head == nullptr; }
        void push_back(Op* op) noexcept {
            op->prev = tail;
            op->next = nullptr;
            (tail != nullptr ? tail->next : head) = op;
            tail = op;
            op->linked = true;
        }
        void erase(Op* op) noexcept {
            (op->prev != nullptr ? op->prev->next : head) = op->next;
            (op->next != nullptr ? op->next->prev : tail) = op->prev;
            op->prev = op->next = nullptr;
            op->linked = false;
        }
        Op* pop_front() noexcept {
            Op* op = head;
            if (op != nullptr) erase(op);
            return op;
        }
        // Unlinks every op matching pred, marks it with e; returns them chained through next.
        template <class Pred>
        Op* take_if(Pred pred, errc e) noexcept {
            Op* out = nullptr;
            Op** out_tail = &out;
            for (Op* op = head; op != nullptr;) {
                Op* next = op->next;
                if (pred(*op)) {
                    erase(op);
                    op->err = e;
                    *out_tail = op;
                    out_tail = &op->next;
                }
                op = next;
            }
            return out;
        }
        Op* take_all(errc e) noexcept {
            return take_if([](const Op&) { return true; }, e);
        }
    };

    // Outside the lock: drops the op's stop callback (waiting out a concurrent run) and posts.
    template <class Op>
    static void complete(Op* op) noexcept {
        op->cb.reset();
        op->finish();
    }
    template <class Op>
    static void complete_all(Op* op) noexcept {
        while (op != nullptr) {
            Op* next = op->next;
            complete(op);
            op = next;
        }
    }

    template <class Op>
    void cancel(Op* op) noexcept {
        {
            std::lock_guard lk(m_);
            if (!op->linked) return;  // already completed, or not yet linked
            list_of(op).erase(op);
            op->err = errc::cancelled;
        }
        op->finish();  // inside op's own stop callback: must not reset it
    }
    op_list<recv_op>& list_of(recv_op*) noexcept { return recv_waiters_; }
    op_list<send_op>& list_of(send_op*) noexcept { return send_waiters_; }

    [[nodiscard]] bool fits(std::size_t n) const noexcept {
        if (count_ == capacity_) return false;
        return bytes_ == 0 || (bytes_ <= max_bytes_ && n <= max_bytes_ - bytes_);
    }

    result<void> check_send_locked(const T& item) {
        if (closed_) return fail(errc::closed, "channel::send");
        if constexpr (Epochs) {
            if (item.epoch < cell_->epoch.load(std::memory_order_relaxed)) {
                ++stats_.dropped;
                return fail(errc::stale, "channel::send");
            }
        }
        return {};
    }

    // Waits on cv once (or registers the stop callback); re-check the condition after `ready`.
    wait_status block_locked(std::unique_lock<std::mutex>& lk, std::condition_variable& cv,
                             int& waiters, const std::stop_token& stop, deadline until,
                             std::optional<std::stop_callback<waker>>& cb) {
        if (stop.stop_requested()) return wait_status::cancelled;
        if (until != no_deadline && clock::now() >= until) return wait_status::timed_out;
        if (stop.stop_possible() && !cb) {
            lk.unlock();  // the callback may run right away and takes the lock
            cb.emplace(stop, waker{this});
            lk.lock();
            return wait_status::ready;
        }
        ++waiters;
        if (until == no_deadline) {
            cv.wait(lk);
        } else {
            (void)cv.wait_until(lk, until);
        }
        --waiters;
        return wait_status::ready;
    }

    // A blocked sender gave up: hand a pending wake-up on to the next one.
    void pass_baton_senders_locked() {
        if (waiting_senders_ > 0 && count_ < capacity_) not_full_.notify_one();
    }

    // Hands item to the first async receiver, or queues it. Unlocks lk.
    void deliver_locked(std::unique_lock<std::mutex>& lk, T&& item, std::size_t n) {
        if (recv_op* op = recv_waiters_.pop_front()) {
            op->value.emplace(std::move(item));
            ++stats_.sent;
            ++stats_.received;
            lk.unlock();
            complete(op);
            return;
        }
        push_locked(std::move(item), n);
        not_empty_.notify_one();  // unconditional: see take_locked
        lk.unlock();
    }

    void push_locked(T&& item, std::size_t n) noexcept {
        std::size_t tail = head_ + count_;
        if (tail >= capacity_) tail -= capacity_;
        slots_[tail].item.emplace(std::move(item));
        slots_[tail].bytes = n;
        ++count_;
        bytes_ += n;
        ++stats_.sent;
        stats_.high_water_items = std::max(stats_.high_water_items, count_);
        stats_.high_water_bytes = std::max(stats_.high_water_bytes, bytes_);
    }

    T pop_locked() noexcept {
        slot& s = slots_[head_];
        T v = std::move(*s.item);
        s.item.reset();
        bytes_ -= s.bytes;
        if (++head_ == capacity_) head_ = 0;
        --count_;
        ++stats_.received;
        return v;
    }

    // Moves pending async sends into freed space; returns them (chained) to complete unlocked.
    send_op* refill_locked() noexcept {
        send_op* done = nullptr;
        send_op** tail = &done;
        while (!send_waiters_.empty() && fits(send_waiters_.head->bytes)) {
            send_op* op = send_waiters_.pop_front();
            push_locked(std::move(*op->item), op->bytes);
            op->item.reset();
            *tail = op;
            tail = &op->next;
        }
        if (done != nullptr && waiting_receivers_ > 0) not_empty_.notify_all();
        return done;
    }

    // Pops the head item, refills from async senders, wakes a sender. Unlocks lk.
    T take_locked(std::unique_lock<std::mutex>& lk) {
        T v = pop_locked();
        send_op* refilled = refill_locked();
        // Unconditional: signalling a condition variable nobody waits on costs one atomic load,
        // and measured faster with 2 producers x 2 consumers than skipping it by waiter count.
        if (max_bytes_ == std::numeric_limits<std::size_t>::max()) {
            not_full_.notify_one();
        } else if (waiting_senders_ > 0) {
            not_full_.notify_all();  // freed bytes may fit several, or only a later, sender
        }
        lk.unlock();
        complete_all(refilled);
        return v;
    }

    void purge_stale_locked(epoch_t e) noexcept requires Epochs {
        const std::size_t n = count_;
        std::size_t kept = 0;
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t from = head_ + i;
            if (from >= capacity_) from -= capacity_;
            slot& s = slots_[from];
            if (s.item->epoch < e) {
                bytes_ -= s.bytes;
                s.item.reset();
                ++stats_.dropped;
                continue;
            }
            std::size_t to = head_ + kept;
            if (to >= capacity_) to -= capacity_;
            if (to != from) {
                slots_[to].item.emplace(std::move(*s.item));
                slots_[to].bytes = s.bytes;
                s.item.reset();
            }
            ++kept;
        }
        count_ = kept;
    }

    void start_receive(recv_op* op, std::stop_token stop) {
        // Registered before linking: if it fires first, it finds the op unlinked and does
        // nothing, and stop_requested() below is already true.
        if (stop.stop_possible()) op->cb.emplace(stop, canceller<recv_op>{this, op});
        if constexpr (Epochs) op->cell = cell_;
        std::unique_lock lk(m_);
        if (count_ > 0) {
            op->value.emplace(take_locked(lk));  // unlocks
            complete(op);
            return;
        }
        if (closed_ || stop.stop_requested()) {
            op->err = closed_ ? errc::closed : errc::cancelled;
            lk.unlock();
            complete(op);
            return;
        }
        recv_waiters_.push_back(op);
    }

    void start_send(send_op* op, std::stop_token stop) {
        if (stop.stop_possible()) op->cb.emplace(stop, canceller<send_op>{this, op});
        op->bytes = size_(*op->item);
        std::unique_lock lk(m_);
        if (auto r = check_send_locked(*op->item); !r) {
            op->err = static_cast<errc>(r.error().code().value());
        } else if (stop.stop_requested()) {
            op->err = errc::cancelled;
        } else if (!recv_waiters_.empty() || (send_waiters_.empty() && fits(op->bytes))) {
            deliver_locked(lk, std::move(*op->item), op->bytes);  // unlocks
            op->item.reset();
            complete(op);
            return;
        } else {
            send_waiters_.push_back(op);
            return;
        }
        lk.unlock();
        complete(op);
    }

    Size size_;
    const std::size_t capacity_;
    const std::size_t max_bytes_;

    mutable std::mutex m_;
    std::condition_variable not_empty_;  // receivers wait for an item or close
    std::condition_variable not_full_;   // senders wait for room or close
    std::unique_ptr<slot[]> slots_;      // the ring: capacity_ slots
    std::size_t head_ = 0;
    std::size_t count_ = 0;
    std::size_t bytes_ = 0;
    int waiting_receivers_ = 0;  // blocked in receive()
    int waiting_senders_ = 0;    // blocked in send()
    op_list<recv_op> recv_waiters_;
    op_list<send_op> send_waiters_;
    bool closed_ = false;
    // epoch_channel: the epoch (written under m_), shared with posted async completions so they
    // can re-check it even after the channel is gone.
    std::shared_ptr<epoch_cell> cell_ = Epochs ? std::make_shared<epoch_cell>() : nullptr;
    channel_stats stats_;
};

// A channel of T.
template <class T, class Size = item_size<T>>
using channel = basic_channel<T, Size, false>;

// A channel of stamped<T> that drops items of older epochs (see the header comment).
template <class T, class Size = item_size<stamped<T>>>
using epoch_channel = basic_channel<stamped<T>, Size, true>;

}  // namespace kithara::worker
