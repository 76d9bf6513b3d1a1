// io_runtime: an owned asio::io_context running on its own thread(s), for libcurl (net) and
// storage's async waits. A work guard keeps it running while idle.
//
//   kithara::worker::io_runtime io;                  // options: thread count, thread name
//   if (auto r = io.start(); !r) return r;           // threads "kithara-io-0"...
//   asio::post(io.executor(), [] { /* runs on an io thread */ });
//
// Threads: every member may be called from any thread, except join()/shutdown()/destruction,
// which must not run on one of this runtime's io threads (asserted; it would join itself).
// stop() from an io thread is fine. Handlers must not block: blocking work goes to a
// blocking_pool. Stopped means: run() returned; handlers queued meanwhile are kept and run after
// a restart, or destroyed without running when the runtime is destroyed. A handler that throws
// is logged and the thread keeps running. Lock: mutex_ guards the thread list and the state; it
// is never held while joining or running handlers; joined_ signals the end of a join.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/worker/export.hpp>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kithara::worker {

struct io_runtime_options {
    unsigned threads = 1;             // io threads calling io_context::run (>= 1)
    std::string name = "kithara-io";  // thread names: "<name>-<index>", truncated to 15 chars
};

class KITHARA_WORKER_EXPORT io_runtime {
public:
    using executor_type = asio::io_context::executor_type;

    explicit io_runtime(io_runtime_options options = {});
    ~io_runtime();  // stop() + join(); pending handlers are destroyed without running
    io_runtime(const io_runtime&) = delete;
    io_runtime& operator=(const io_runtime&) = delete;

    // Starts the threads (restarts after stop()+join()). Ok if already running; fails with
    // errc::stopped while a stop has been requested but not joined yet, or if no thread starts.
    result<void> start();

    // Asks the io threads to return as soon as their current handler ends. Does not wait.
    void stop() noexcept;

    // Waits for the io threads to exit; they exit only after stop(). Concurrent callers all wait.
    void join();

    // stop() + join().
    void shutdown();

    [[nodiscard]] bool running() const;
    [[nodiscard]] unsigned thread_count() const noexcept { return options_.threads; }

    // True when the caller is one of this runtime's io threads.
    [[nodiscard]] bool running_in_this_thread() const noexcept;

    [[nodiscard]] executor_type executor() noexcept { return context_.get_executor(); }
    [[nodiscard]] asio::io_context& context() noexcept { return context_; }

private:
    void thread_main(unsigned index);

    io_runtime_options options_;
    asio::io_context context_;
    mutable std::mutex mutex_;
    std::optional<asio::executor_work_guard<executor_type>> guard_;  // guarded by mutex_
    std::vector<std::thread> threads_;                               // guarded by mutex_
    bool stopping_ = false;  // stop() called, join() not finished; guarded by mutex_
    bool joining_ = false;   // a join() is waiting for the threads; guarded by mutex_
    std::condition_variable joined_;
};

}  // namespace kithara::worker
