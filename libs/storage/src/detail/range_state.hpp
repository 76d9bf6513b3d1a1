// Internal: the state every resource shares (available ranges, final length, failure, close)
// and its waiters, behind one mutex. Data I/O is the caller's job and runs without the lock:
// a write calls check_write(), stores the bytes, then finish_write() publishes them and wakes
// waiters; a read calls readable() and then copies what it was told is available.
//
// Lock: mu_ guards everything below it; it is a leaf lock, never held across I/O, a callback or
// an Asio post (waiters to complete are extracted first and completed after unlocking).
#pragma once

#include <kithara/storage/resource.hpp>

#include "detail/range_log.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::storage::detail {

// Names an operation for error contexts ("write_at 4096+512 of /cache/x"); formatted only when
// an error is returned, so the hot path builds no strings.
struct op_desc {
    const char* op;
    std::uint64_t offset;
    std::optional<std::uint64_t> length;  // absent: "commit 100 of x"
    std::string_view object;
    [[nodiscard]] std::string str() const;
};

// What a range-map flush writes: the published ranges and final length at one moment.
struct state_snapshot {
    range_set ranges;
    std::optional<std::uint64_t> final_length;
    std::uint64_t generation = 0;
};

class range_state {
public:
    range_state() = default;
    ~range_state();  // completes pending async waits with `cancelled`
    range_state(const range_state&) = delete;
    range_state& operator=(const range_state&) = delete;

    // Before first use (open): the reloaded ranges and final length count as already flushed;
    // `unsynced` (claims of the range log) is available too but still to be flushed.
    void restore(range_set ranges, std::optional<std::uint64_t> final_length,
                 const range_set& unsynced = {});
    // From now on every newly available range is appended to `log` (under the mutex) after its
    // bytes were written; the log is rewritten with the unflushed ranges when it is full and
    // after each flush. nullptr detaches it. The log must outlive its attachment.
    void attach_log(range_log* log);
    // True when everything available is in the last flushed snapshot.
    [[nodiscard]] bool fully_flushed() const;
    void set_flush_threshold(std::uint64_t bytes) { flush_every_ = bytes; }

    result<> check_write(byte_range r, const op_desc& what) const;
    struct write_outcome {
        std::uint64_t added = 0;  // bytes newly available
        bool flush_due = false;   // the auto-flush threshold was crossed and nobody is flushing
    };
    result<write_outcome> finish_write(byte_range r, const op_desc& what);

    // Bytes readable at offset now: 0 at eof or for want == 0, else >= 1; errors as documented.
    result<std::size_t> readable(std::uint64_t offset, std::size_t want, const op_desc& what) const;
    // The uncovered parts of r (for backings that must not rewrite published bytes).
    [[nodiscard]] std::vector<byte_range> missing(byte_range r) const;

    result<wait_outcome> wait(byte_range r, std::optional<deadline> until, std::stop_token stop);
    void async_wait(byte_range r, const asio::any_io_executor& executor, wait_handler handler,
                    std::stop_token stop);

    result<> commit(std::uint64_t final_length, const op_desc& what);
    void mark_failed(error e);
    // Marks closed and wakes every waiter with errc::closed (or `cancelled` when the resource is
    // being destroyed); returns false if already closed.
    bool close(bool destroying = false);

    // Flush coordination. begin_flush: with `wait`, waits until no other flush runs; without it,
    // returns nullopt when one does. Also nullopt when nothing changed since the last flush.
    std::optional<state_snapshot> begin_flush(bool wait);
    // `flushed`: the snapshot written (nullptr when the flush failed).
    void end_flush(const state_snapshot* flushed);

    [[nodiscard]] range_set available() const;
    [[nodiscard]] std::uint64_t available_bytes() const;
    [[nodiscard]] std::optional<std::uint64_t> final_length() const;
    [[nodiscard]] std::optional<error> failure() const;
    [[nodiscard]] bool complete() const;
    [[nodiscard]] bool closed() const;

private:
    struct sync_waiter {
        byte_range range;
        std::condition_variable cv;
        std::optional<result<wait_outcome>> outcome;
    };
    struct async_stop_fn {
        range_state* self;
        std::uint64_t id;
        void operator()() const noexcept { self->cancel_async(id); }
    };
    struct sync_stop_fn {
        range_state* self;
        sync_waiter* waiter;
        void operator()() const noexcept;
    };
    struct async_waiter {
        byte_range range;
        asio::any_io_executor executor;  // tracks outstanding work
        wait_handler handler;
        std::optional<std::stop_callback<async_stop_fn>> on_stop;
    };
    using async_list = std::vector<std::pair<std::unique_ptr<async_waiter>, result<wait_outcome>>>;

    // Available ranges not in the last flushed snapshot. Requires mu_.
    [[nodiscard]] range_set unflushed_locked() const;
    // The outcome for r now, or nullopt to keep waiting. Requires mu_.
    [[nodiscard]] std::optional<result<wait_outcome>> evaluate(byte_range r) const;
    // Completes satisfied waiters: sync ones in place, async ones moved to `out`. Requires mu_.
    void wake_locked(async_list& out);
    // Every waiter gets `outcome`. Requires mu_.
    void wake_all_locked(const result<wait_outcome>& outcome, async_list& out);
    static void post_completions(async_list& list);
    void cancel_async(std::uint64_t id);

    mutable std::mutex mu_;
    range_set ranges_;
    std::optional<std::uint64_t> final_;
    std::optional<error> failure_;
    bool closed_ = false;
    std::vector<sync_waiter*> sync_waiters_;
    std::map<std::uint64_t, std::unique_ptr<async_waiter>> async_waiters_;
    std::atomic<std::uint64_t> next_async_id_{1};
    // Flush bookkeeping.
    std::uint64_t flush_every_ = 0;  // 0: never auto-flush
    std::uint64_t unflushed_bytes_ = 0;
    std::uint64_t generation_ = 0;  // bumps on every published change (ranges, final length)
    std::uint64_t flushed_generation_ = 0;
    range_set flushed_ranges_;  // the ranges of the last flushed snapshot (or restored map)
    range_log* log_ = nullptr;  // see attach_log
    bool flushing_ = false;
    std::condition_variable flush_cv_;
};

}  // namespace kithara::storage::detail
