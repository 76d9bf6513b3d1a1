// A stream decoding ahead on the context's decode pool (see audio_stream.hpp, "Decoding ahead").
//
// The stream's state (ahead_state) is shared by the audio_stream (through decode_ahead_backend),
// the pool (a queued turn holds it) and the wake hook (a weak reference). A turn decodes one
// chunk of the inner backend (file or HLS) into the queue. One turn at most is queued or running
// per stream (`turn`), so the inner backend is used by one thread at a time: the pool thread of
// the turn, or the application thread once close() saw the last turn end.
//
// When a turn is given: after the previous one if the queue has room and the inner backend is
// ready() (its bytes are there); when the consumer finds the queue empty (`demand`: then the
// gate is skipped, the turn may wait for the network); when the layer below reports progress
// (the wake hook) for a stream parked by its gate; when a seek or an exclusive call is pending.
// A stream with a full queue, or parked by its gate, or at its end, has no turn: no CPU.
#include "detail/backend.hpp"
#include "detail/context_state.hpp"
#include "detail/turn_pool.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

namespace kithara::detail {
namespace {

using item = result<std::optional<decode::pcm_chunk>>;

std::size_t bytes_of(const item& i) {
    return i && *i ? (*i)->samples.size() * sizeof(float) : 0;
}

class ahead_state final : public turn_task, public std::enable_shared_from_this<ahead_state> {
public:
    ahead_state(std::unique_ptr<backend> inner, turn_pool& pool, const open_options& opts)
        : inner_(std::move(inner)),
          pool_(pool),
          max_chunks_(opts.decode_ahead_chunks),
          max_bytes_(opts.decode_ahead_bytes),
          on_ready_(opts.on_ready) {
        inner_->fill_info(info_);
        inner_->fill_stats(stats_);
    }

    // The first turn (decoding starts at once).
    void start() {
        std::lock_guard lk(m_);
        schedule_locked();
    }

    // --- the application thread ---

    item next() {
        std::unique_lock lk(m_);
        for (;;) {
            if (auto e = take_seek_error_locked()) return fail(std::move(*e));
            if (auto i = pop_locked()) return std::move(*i);
            if (auto e = stop_error_locked()) return fail(*e);
            demand_ = true;
            schedule_locked();
            cv_.wait(lk);
        }
    }

    result<poll_state> try_next(decode::pcm_chunk& out) {
        std::unique_lock lk(m_);
        if (auto e = take_seek_error_locked()) return fail(std::move(*e));
        if (auto i = pop_locked()) {
            if (!*i) return fail(i->error());
            if (!**i) return poll_state::ended;
            out = std::move(***i);
            return poll_state::ready;
        }
        if (auto e = stop_error_locked()) return fail(*e);
        demand_ = true;
        notify_ready_ = true;
        schedule_locked();
        return poll_state::pending;
    }

    void reposition(backend::action a) {
        std::lock_guard lk(m_);
        reposition_ = std::move(a);
        seek_error_.reset();
        ++epoch_;
        queue_.clear();
        queued_bytes_ = 0;
        final_.reset();
        ended_ = false;
        schedule_locked();
    }

    result<> exclusive(backend::action a) {
        std::unique_lock lk(m_);
        if (auto e = stop_error_locked()) return fail(*e);
        const std::uint64_t ticket = ++exclusive_posted_;
        exclusive_ = std::move(a);
        schedule_locked();
        cv_.wait(lk, [&] { return exclusive_done_ >= ticket || closing_; });
        if (exclusive_done_ < ticket) return fail(context_errc::closed, "closed during the call");
        return exclusive_result_;
    }

    void fill_info(audio_info& i) const {
        std::lock_guard lk(m_);
        const auto kind = i.kind;
        auto url = std::move(i.url);
        i = info_;
        i.kind = kind;
        i.url = std::move(url);
    }
    void fill_stats(audio_stats& s) const {
        std::lock_guard lk(m_);
        s = stats_;
    }

    // Any thread: ends a wait in the inner backend, and next()'s wait.
    void interrupt() {
        {
            std::lock_guard lk(m_);
            interrupted_ = true;
        }
        inner_->interrupt();  // thread-safe in every backend
        cv_.notify_all();
    }

    // Waits until no turn is queued or running, then destroys the inner backend here.
    void close() {
        {
            std::lock_guard lk(m_);
            closing_ = true;
            reposition_ = nullptr;
            exclusive_ = nullptr;
        }
        inner_->interrupt();
        cv_.notify_all();
        // A queued turn sees closing_ and leaves inner_ alone: only a running one, or an
        // on_ready call in progress, is waited for.
        std::unique_lock lk(m_);
        cv_.wait(lk, [&] { return turn_ != turn_state::running && callbacks_ == 0; });
        lk.unlock();
        inner_.reset();
    }

    backend& inner() noexcept { return *inner_; }

    // --- the io thread (events) ---

    void wake() {
        std::lock_guard lk(m_);
        if (turn_ != turn_state::idle) {
            woken_ = true;  // the running turn looks again when it ends
            return;
        }
        if (wanted_locked()) schedule_locked();
    }

    // --- a pool thread ---

    void run_turn() override {
        backend::action repo;
        backend::action excl;
        std::uint64_t epoch = 0;
        bool forced = false;
        bool may_decode = false;
        {
            std::lock_guard lk(m_);
            if (closing_) {
                turn_ = turn_state::idle;
                cv_.notify_all();
                return;
            }
            turn_ = turn_state::running;
            repo = std::move(reposition_);
            reposition_ = nullptr;
            excl = std::move(exclusive_);
            exclusive_ = nullptr;
            epoch = epoch_;
            forced = demand_ || static_cast<bool>(repo);
            // A turn given for a call still decodes only into room before the end.
            may_decode = !ended_ && !full_locked();
            woken_ = false;
        }
        // In the order the application made them: a seek, then a call that came after it.
        std::optional<error> seek_failed;
        if (repo) {
            if (auto r = repo(*inner_); !r) seek_failed = r.error();
        }
        if (excl) {
            auto r = excl(*inner_);
            std::lock_guard lk(m_);
            exclusive_result_ = std::move(r);
            exclusive_done_ = exclusive_posted_;
            cv_.notify_all();
        }
        std::optional<item> got;
        if (!seek_failed && may_decode && (forced || inner_->ready())) got.emplace(inner_->next());
        audio_info info;
        audio_stats stats;
        if (got) {
            inner_->fill_info(info);
            inner_->fill_stats(stats);
        }
        bool fire = false;
        {
            std::lock_guard lk(m_);
            turn_ = turn_state::idle;
            if (seek_failed && epoch == epoch_) seek_error_ = std::move(seek_failed);
            if (got) {
                info_ = std::move(info);
                stats_ = std::move(stats);
                if (epoch == epoch_ && !closing_) push_locked(std::move(*got));
            }
            if (!closing_ && (got || woken_ || demand_ || reposition_ || exclusive_) &&
                wanted_locked())
                schedule_locked();
            if (notify_ready_ && !closing_ && (!queue_.empty() || final_ || seek_error_)) {
                notify_ready_ = false;
                fire = true;
                ++callbacks_;  // close() waits for it
            }
        }
        cv_.notify_all();
        if (fire) {
            if (on_ready_) on_ready_();
            {
                std::lock_guard lk(m_);
                --callbacks_;
            }
            cv_.notify_all();
        }
    }

private:
    enum class turn_state { idle, queued, running };

    bool full_locked() const {
        return !queue_.empty() && (queue_.size() >= max_chunks_ || queued_bytes_ >= max_bytes_);
    }
    // Another turn is useful: a pending call, or room in the queue before the end.
    bool wanted_locked() const {
        if (closing_) return false;
        if (reposition_ || exclusive_) return true;
        return !ended_ && !full_locked();
    }
    void schedule_locked() {
        if (turn_ != turn_state::idle || !wanted_locked()) return;
        turn_ = turn_state::queued;
        pool_.submit(shared_from_this());
    }
    void push_locked(item i) {
        demand_ = false;  // the consumer will find this one
        if (!i || !*i) ended_ = true;
        queued_bytes_ += bytes_of(i);
        queue_.push_back(std::move(i));
    }
    std::optional<item> pop_locked() {
        if (queue_.empty()) {
            if (final_) return copy_final_locked();
            return std::nullopt;
        }
        item i = std::move(queue_.front());
        queue_.pop_front();
        queued_bytes_ -= bytes_of(i);
        demand_ = false;
        if (!i || !*i) {
            // The end or an error: every later call repeats it.
            final_.emplace(!i ? item(fail(i.error())) : item(std::optional<decode::pcm_chunk>{}));
        } else {
            schedule_locked();  // room again
        }
        return i;
    }
    item copy_final_locked() const {
        if (!*final_) return fail(final_->error());
        return std::optional<decode::pcm_chunk>{};
    }
    // A seek that failed: returned once; the stream goes on from where it was.
    std::optional<error> take_seek_error_locked() {
        std::optional<error> e = std::move(seek_error_);
        seek_error_.reset();
        return e;
    }
    std::optional<error> stop_error_locked() const {
        if (interrupted_) return error(context_errc::interrupted, "interrupted");
        if (closing_) return error(context_errc::closed, "closed");
        return std::nullopt;
    }

    std::unique_ptr<backend> inner_;  // used by the turn's thread only (see the file comment)
    turn_pool& pool_;
    const std::size_t max_chunks_;
    const std::size_t max_bytes_;
    const std::function<void()> on_ready_;

    mutable std::mutex m_;        // guards everything below; never held across a turn's work
    std::condition_variable cv_;  // next(), exclusive() and close() wait on it
    std::deque<item> queue_;      // at most max_chunks_ items (one more: an end or an error)
    std::size_t queued_bytes_ = 0;
    std::optional<item> final_;        // the end or error already returned: repeated
    std::optional<error> seek_error_;  // a deferred seek failed: next() returns it once
    std::size_t callbacks_ = 0;        // on_ready calls in progress
    turn_state turn_ = turn_state::idle;
    bool demand_ = false;        // the consumer found the queue empty: skip the gate
    bool notify_ready_ = false;  // try_next() said pending: call on_ready
    bool woken_ = false;         // the hook fired during a turn
    bool ended_ = false;         // the end or an error is queued: no more turns
    bool interrupted_ = false;
    bool closing_ = false;
    std::uint64_t epoch_ = 0;  // bumped by reposition(): a running turn's chunk is dropped
    backend::action reposition_;
    backend::action exclusive_;
    std::uint64_t exclusive_posted_ = 0;
    std::uint64_t exclusive_done_ = 0;
    result<> exclusive_result_;
    audio_info info_;  // the inner backend's, after the newest turn
    audio_stats stats_;
};

class decode_ahead_backend final : public backend {
public:
    explicit decode_ahead_backend(std::shared_ptr<ahead_state> s) : s_(std::move(s)) {}
    ~decode_ahead_backend() override { s_->close(); }

    result<std::optional<decode::pcm_chunk>> next() override { return s_->next(); }
    result<poll_state> try_next(decode::pcm_chunk& out) override { return s_->try_next(out); }
    result<> seek(std::chrono::nanoseconds position) override {
        s_->reposition([position](backend& b) { return b.seek(position); });
        return {};
    }
    result<> reposition(const action& a) override {
        s_->reposition(a);
        return {};
    }
    result<> exclusive(const action& a) override { return s_->exclusive(a); }
    void fill_info(audio_info& i) const override { s_->fill_info(i); }
    void fill_stats(audio_stats& s) const override { s_->fill_stats(s); }
    void interrupt() override { s_->interrupt(); }
    hls::hls_stream* as_hls() noexcept override { return s_->inner().as_hls(); }
    file::file_source* as_file() noexcept override { return s_->inner().as_file(); }

private:
    std::shared_ptr<ahead_state> s_;
};

}  // namespace

result<poll_state> backend::try_next(decode::pcm_chunk& out) {
    auto c = next();
    if (!c) return fail(c.error());
    if (!*c) return poll_state::ended;
    out = std::move(**c);
    return poll_state::ready;
}

std::unique_ptr<backend> decode_ahead(context_state& ctx, std::unique_ptr<backend> inner,
                                      const open_options& opts, wake_hook& hook) {
    auto s = std::make_shared<ahead_state>(std::move(inner), ctx.decode_pool(), opts);
    hook.set([w = std::weak_ptr<ahead_state>(s)] {
        if (auto p = w.lock()) p->wake();
    });
    s->start();
    return std::make_unique<decode_ahead_backend>(std::move(s));
}

}  // namespace kithara::detail
