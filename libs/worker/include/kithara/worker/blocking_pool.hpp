// The blocking side: dedicated threads for CPU work (decoding) that never run on an io thread.
// blocking_pool runs short tasks from a bounded queue; job runs one long-lived loop (a decode
// session) on its own thread with a stop_token.
//
//   kithara::worker::blocking_pool pool({.threads = 2, .max_queued = 16});
//   auto r = pool.submit([](std::stop_token st) { decode_some(st); });  // blocks while full
//   auto j = kithara::worker::job::start("decode-1", [](std::stop_token st) { decode_some(st); });
//
// Every member may be called from any thread, except shutdown()/join/destruction from one of the
// pool's own threads (asserted). A task that blocks waiting on another task of the same pool can
// deadlock it: size the pool accordingly. Tasks receive the pool's stop_token, requested by
// shutdown(cancel) and destruction. A task that throws is logged; the thread goes on. Ownership:
// the queue owns submitted tasks until a thread takes one; tasks dropped at shutdown are destroyed
// without running. Locks: the queue is a channel (its own lock); mutex_ guards the thread list.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/worker/cancel.hpp>
#include <kithara/worker/channel.hpp>
#include <kithara/worker/export.hpp>

#include <concepts>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace kithara::worker {

namespace detail {

// A move-only void(std::stop_token) callable (std::move_only_function is C++23).
class task {
public:
    task() noexcept = default;
    template <class F>
    requires(!std::same_as<std::decay_t<F>, task>) explicit task(F&& f)
        : impl_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}

    explicit operator bool() const noexcept { return impl_ != nullptr; }
    void operator()(std::stop_token stop) { impl_->call(std::move(stop)); }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual void call(std::stop_token stop) = 0;
    };
    template <class F>
    struct model final : concept_t {
        explicit model(F&& fn) : f(std::move(fn)) {}
        explicit model(const F& fn) : f(fn) {}
        void call(std::stop_token stop) override {
            if constexpr (std::is_invocable_v<F&, std::stop_token>) {
                f(std::move(stop));
            } else {
                f();
            }
        }
        F f;
    };
    std::unique_ptr<concept_t> impl_;
};

}  // namespace detail

// Callables accepted by submit() and job::start().
template <class F>
concept blocking_task = std::is_invocable_v < std::decay_t<F>
&, std::stop_token > || std::is_invocable_v<std::decay_t<F>&>;

struct blocking_pool_options {
    unsigned threads = 1;              // worker threads (>= 1)
    std::size_t max_queued = 64;       // tasks waiting for a thread (>= 1)
    std::string name = "kithara-blk";  // thread names: "<name>-<index>"
};

enum class shutdown_mode {
    drain,   // run every queued task, then stop
    cancel,  // request stop on running tasks; drop queued ones unrun
};

class KITHARA_WORKER_EXPORT blocking_pool {
public:
    explicit blocking_pool(blocking_pool_options options = {});  // starts the threads
    ~blocking_pool();                                            // shutdown(cancel)
    blocking_pool(const blocking_pool&) = delete;
    blocking_pool& operator=(const blocking_pool&) = delete;

    // Queues fn; blocks while the queue is full. Fails with stopped (shut down), cancelled or
    // timed_out; fn is then destroyed without running.
    template <blocking_task F>
    result<void> submit(F&& fn, std::stop_token stop = {}, deadline until = no_deadline) {
        return submit_task(detail::task(std::forward<F>(fn)), std::move(stop), until);
    }

    // Never blocks: fails with full when the queue is full, stopped after shutdown.
    template <blocking_task F>
    result<void> try_submit(F&& fn) {
        return try_submit_task(detail::task(std::forward<F>(fn)));
    }

    // Stops accepting tasks, then drains or cancels (see shutdown_mode) and joins. Idempotent.
    void shutdown(shutdown_mode mode = shutdown_mode::drain);

    // True when the caller is one of this pool's threads.
    [[nodiscard]] bool running_in_this_thread() const noexcept;

    [[nodiscard]] unsigned thread_count() const noexcept { return options_.threads; }
    [[nodiscard]] channel_stats queue_stats() const { return queue_.stats(); }

private:
    result<void> submit_task(detail::task t, std::stop_token stop, deadline until);
    result<void> try_submit_task(detail::task t);
    void thread_main(unsigned index);

    blocking_pool_options options_;
    channel<detail::task> queue_;
    std::stop_source stop_;
    std::mutex mutex_;
    std::vector<std::thread> threads_;  // guarded by mutex_
};

// One long-lived function on its own named thread (never an io thread). The function receives
// the job's stop_token; the job's destructor requests stop and joins. Movable.
class KITHARA_WORKER_EXPORT job {
public:
    job() noexcept = default;
    template <blocking_task F>
    [[nodiscard]] static result<job> start(std::string name, F&& fn) {
        return start_task(std::move(name), detail::task(std::forward<F>(fn)));
    }
    job(job&&) noexcept = default;
    job& operator=(job&&) noexcept = default;  // stops and joins the job it replaces
    ~job() = default;                          // request_stop() + join()

    void request_stop() noexcept;
    [[nodiscard]] std::stop_token get_stop_token() const noexcept;
    // Waits for the function to return (asserts it is not called on the job's own thread).
    void join();
    [[nodiscard]] bool joinable() const noexcept { return thread_.joinable(); }
    [[nodiscard]] std::thread::id get_id() const noexcept { return thread_.get_id(); }

private:
    static result<job> start_task(std::string name, detail::task t);
    std::jthread thread_;
};

}  // namespace kithara::worker
