#include "detail/range_state.hpp"

#include <kithara/storage/error.hpp>

#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <algorithm>
#include <cassert>

namespace kithara::storage::detail {

namespace {

error with_context(error e, const op_desc& what) {
    e.add_context(what.str());
    return e;
}

}  // namespace

std::string op_desc::str() const {
    std::string s(op);
    s.append(" ").append(std::to_string(offset));
    if (length) s.append("+").append(std::to_string(*length));
    s.append(" of ").append(object);
    return s;
}

range_state::~range_state() {
    async_list done;
    {
        std::lock_guard lock(mu_);
        wake_all_locked(wait_outcome::cancelled, done);
    }
    post_completions(done);
}

void range_state::restore(range_set ranges, std::optional<std::uint64_t> final_length,
                          const range_set& unsynced) {
    std::lock_guard lock(mu_);
    flushed_ranges_ = ranges;
    ranges_ = std::move(ranges);
    final_ = final_length;
    std::uint64_t added = 0;
    for (const auto& r : unsynced.ranges()) added += ranges_.insert(r);
    if (added != 0) ++generation_;  // the next flush makes the log's claims durable in the map
}

void range_state::attach_log(range_log* log) {
    std::lock_guard lock(mu_);
    log_ = log;
    if (log_ != nullptr) log_->rewrite(unflushed_locked());
}

bool range_state::fully_flushed() const {
    std::lock_guard lock(mu_);
    return generation_ == flushed_generation_;
}

range_set range_state::unflushed_locked() const {
    range_set out;
    for (const auto& r : ranges_.ranges()) {
        for (const auto& g : flushed_ranges_.gaps(r)) out.insert(g);
    }
    return out;
}

result<> range_state::check_write(byte_range r, const op_desc& what) const {
    std::lock_guard lock(mu_);
    if (failure_) return fail(with_context(*failure_, what));
    if (closed_) return fail(errc::closed, what.str());
    if (final_ && r.end > *final_) {
        return fail(errc::past_final_length,
                    what.str() + " (final length " + std::to_string(*final_) + ")");
    }
    return {};
}

result<range_state::write_outcome> range_state::finish_write(byte_range r, const op_desc& what) {
    write_outcome out;
    async_list done;
    {
        std::lock_guard lock(mu_);
        // Re-check: fail(), close() or commit() may have raced the unlocked I/O.
        if (failure_) return fail(with_context(*failure_, what));
        if (closed_) return fail(errc::closed, what.str());
        if (final_ && r.end > *final_) {
            return fail(errc::past_final_length,
                        what.str() + " (final length " + std::to_string(*final_) + ")");
        }
        out.added = ranges_.insert(r);
        if (out.added == 0) return out;
        ++generation_;
        if (log_ != nullptr && !log_->append(r)) log_->rewrite(unflushed_locked());
        unflushed_bytes_ += out.added;
        if (flush_every_ != 0 && unflushed_bytes_ >= flush_every_ && !flushing_) {
            out.flush_due = true;
        }
        wake_locked(done);
    }
    post_completions(done);
    return out;
}

result<std::size_t> range_state::readable(std::uint64_t offset, std::size_t want,
                                          const op_desc& what) const {
    std::lock_guard lock(mu_);
    if (failure_) return fail(with_context(*failure_, what));
    if (closed_) return fail(errc::closed, what.str());
    if (want == 0) return std::size_t{0};
    if (final_ && offset >= *final_) return std::size_t{0};
    const std::uint64_t run = ranges_.contiguous_end(offset) - offset;
    // Not available yet is flow control (a reader at the download edge), not a failure: no
    // context string, so reading at the edge allocates nothing.
    if (run == 0) return fail(errc::not_available);
    return static_cast<std::size_t>(std::min<std::uint64_t>(run, want));
}

std::vector<byte_range> range_state::missing(byte_range r) const {
    std::lock_guard lock(mu_);
    return ranges_.gaps(r);
}

std::optional<result<wait_outcome>> range_state::evaluate(byte_range r) const {
    if (failure_) return wait_outcome::failed;
    if (closed_) return result<wait_outcome>(fail(errc::closed, "wait_range"));
    if (final_ && r.begin >= *final_) return wait_outcome::eof;
    if (r.empty()) return wait_outcome::ready;
    const byte_range clamped{r.begin, final_ ? std::min(r.end, *final_) : r.end};
    if (ranges_.contains(clamped)) return wait_outcome::ready;
    return std::nullopt;
}

void range_state::wake_locked(async_list& out) {
    for (sync_waiter* w : sync_waiters_) {
        if (w->outcome) continue;
        if (auto o = evaluate(w->range)) {
            w->outcome = std::move(*o);
            w->cv.notify_one();
        }
    }
    for (auto it = async_waiters_.begin(); it != async_waiters_.end();) {
        if (auto o = evaluate(it->second->range)) {
            out.emplace_back(std::move(it->second), std::move(*o));
            it = async_waiters_.erase(it);
        } else {
            ++it;
        }
    }
}

void range_state::wake_all_locked(const result<wait_outcome>& outcome, async_list& out) {
    for (sync_waiter* w : sync_waiters_) {
        if (w->outcome) continue;
        w->outcome = outcome;
        w->cv.notify_one();
    }
    for (auto& [id, w] : async_waiters_) out.emplace_back(std::move(w), outcome);
    async_waiters_.clear();
}

void range_state::post_completions(async_list& list) {
    for (auto& [w, outcome] : list) {
        asio::post(w->executor, [h = std::move(w->handler), o = std::move(outcome)]() mutable {
            h(std::move(o));
        });
        // Destroying w also destroys its stop_callback; that waits for a callback running on
        // another thread, which finds nothing to cancel (we hold no lock here).
        w.reset();
    }
    list.clear();
}

void range_state::sync_stop_fn::operator()() const noexcept {
    std::lock_guard lock(self->mu_);
    if (!waiter->outcome) {
        waiter->outcome = wait_outcome::cancelled;
        waiter->cv.notify_one();
    }
}

void range_state::cancel_async(std::uint64_t id) {
    async_list done;
    {
        std::lock_guard lock(mu_);
        auto it = async_waiters_.find(id);
        if (it == async_waiters_.end()) return;
        done.emplace_back(std::move(it->second), wait_outcome::cancelled);
        async_waiters_.erase(it);
    }
    // Destroying the record destroys the stop_callback we are running in: allowed on this thread.
    post_completions(done);
}

result<wait_outcome> range_state::wait(byte_range r, std::optional<deadline> until,
                                       std::stop_token stop) {
    if (!r.valid()) {
        return fail(errc::invalid_range, "wait_range " + std::to_string(r.begin) + ".." +
                                             std::to_string(r.end) + ": begin > end");
    }
    sync_waiter w;
    w.range = r;
    // Registered before locking: if stop was already requested it runs here and sets nothing
    // we rely on; stop_requested() is re-checked under the lock below.
    std::optional<std::stop_callback<sync_stop_fn>> on_stop;
    if (stop.stop_possible()) on_stop.emplace(stop, sync_stop_fn{this, &w});

    std::unique_lock lock(mu_);
    if (w.outcome) return *w.outcome;
    if (auto o = evaluate(r)) return *o;
    if (stop.stop_requested()) return wait_outcome::cancelled;
    sync_waiters_.push_back(&w);
    bool timed_out = false;
    while (!w.outcome) {
        if (until) {
            if (w.cv.wait_until(lock, *until) == std::cv_status::timeout && !w.outcome) {
                timed_out = true;
                break;
            }
        } else {
            w.cv.wait(lock);
        }
    }
    sync_waiters_.erase(std::find(sync_waiters_.begin(), sync_waiters_.end(), &w));
    if (timed_out) return wait_outcome::timed_out;
    return *w.outcome;
    // `lock` unlocks before `on_stop` is destroyed (reverse declaration order).
}

void range_state::async_wait(byte_range r, const asio::any_io_executor& executor,
                             wait_handler handler, std::stop_token stop) {
    assert(executor != nullptr && "async_wait_range needs a valid executor");
    auto w = std::make_unique<async_waiter>();
    w->range = r;
    w->executor = asio::prefer(executor, asio::execution::outstanding_work.tracked);
    w->handler = std::move(handler);
    async_list done;
    if (!r.valid()) {
        done.emplace_back(std::move(w), result<wait_outcome>(fail(
                                            errc::invalid_range,
                                            "async_wait_range " + std::to_string(r.begin) + ".." +
                                                std::to_string(r.end) + ": begin > end")));
        post_completions(done);
        return;
    }
    const std::uint64_t id = next_async_id_.fetch_add(1, std::memory_order_relaxed);
    // As in wait(): a callback that fires before the record is listed finds nothing, and
    // stop_requested() is re-checked under the lock.
    if (stop.stop_possible()) w->on_stop.emplace(stop, async_stop_fn{this, id});
    {
        std::lock_guard lock(mu_);
        std::optional<result<wait_outcome>> now = evaluate(r);
        if (!now && stop.stop_requested()) now = wait_outcome::cancelled;
        if (!now) {
            async_waiters_.emplace(id, std::move(w));
            return;
        }
        done.emplace_back(std::move(w), std::move(*now));
    }
    post_completions(done);
}

result<> range_state::commit(std::uint64_t final_length, const op_desc& what) {
    async_list done;
    {
        std::lock_guard lock(mu_);
        if (failure_) return fail(with_context(*failure_, what));
        if (closed_) return fail(errc::closed, what.str());
        if (final_) {
            if (*final_ == final_length) return {};
            return fail(errc::length_conflict,
                        what.str() + ": already committed at " + std::to_string(*final_));
        }
        if (ranges_.max_end() > final_length) {
            return fail(errc::length_conflict, what.str() + ": bytes up to " +
                                                   std::to_string(ranges_.max_end()) +
                                                   " are already written");
        }
        final_ = final_length;
        ++generation_;
        wake_locked(done);
    }
    post_completions(done);
    return {};
}

void range_state::mark_failed(error e) {
    async_list done;
    {
        std::lock_guard lock(mu_);
        if (failure_ || closed_) return;
        failure_ = std::move(e);
        wake_all_locked(wait_outcome::failed, done);
    }
    post_completions(done);
}

bool range_state::close(bool destroying) {
    async_list done;
    {
        std::lock_guard lock(mu_);
        if (closed_) return false;
        closed_ = true;
        wake_all_locked(destroying
                            ? result<wait_outcome>(wait_outcome::cancelled)
                            : result<wait_outcome>(kithara::fail(errc::closed, "wait_range")),
                        done);
    }
    post_completions(done);
    return true;
}

std::optional<state_snapshot> range_state::begin_flush(bool wait) {
    std::unique_lock lock(mu_);
    if (flushing_) {
        if (!wait) return std::nullopt;
        flush_cv_.wait(lock, [&] { return !flushing_; });
    }
    if (generation_ == flushed_generation_) return std::nullopt;
    flushing_ = true;
    unflushed_bytes_ = 0;
    return state_snapshot{ranges_, final_, generation_};
}

void range_state::end_flush(const state_snapshot* flushed) {
    {
        std::lock_guard lock(mu_);
        flushing_ = false;
        if (flushed != nullptr) {
            flushed_generation_ = flushed->generation;
            flushed_ranges_ = flushed->ranges;
            if (log_ != nullptr) log_->rewrite(unflushed_locked());
        }
    }
    flush_cv_.notify_all();
}

range_set range_state::available() const {
    std::lock_guard lock(mu_);
    return ranges_;
}

std::uint64_t range_state::available_bytes() const {
    std::lock_guard lock(mu_);
    return ranges_.covered_bytes();
}

std::optional<std::uint64_t> range_state::final_length() const {
    std::lock_guard lock(mu_);
    return final_;
}

std::optional<error> range_state::failure() const {
    std::lock_guard lock(mu_);
    return failure_;
}

bool range_state::complete() const {
    std::lock_guard lock(mu_);
    return final_ && ranges_.contains(byte_range{0, *final_});
}

bool range_state::closed() const {
    std::lock_guard lock(mu_);
    return closed_;
}

}  // namespace kithara::storage::detail
