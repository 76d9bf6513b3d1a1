// The context's decode pool: a few threads that run streams' turns (one chunk decoded each) in
// FIFO order. A stream is in the run queue at most once (its own state makes sure), so the queue
// holds at most one entry per open stream: bounded by the streams, with no ring to preallocate.
// Round-robin fairness follows: a stream that wants another turn goes to the back.
//
// Threads: submit() from any thread (the io thread's event callbacks, the pool's own threads,
// application threads); turns run on the pool's threads. Lock: m_ guards the queue and the stop
// flag, never held while a turn runs.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace kithara::detail {

class turn_task {
public:
    virtual ~turn_task() = default;
    virtual void run_turn() = 0;  // on a pool thread; never throws
};

class turn_pool {
public:
    explicit turn_pool(unsigned threads);
    ~turn_pool();  // runs no more turns; joins (queued turns are dropped: their streams are gone)
    turn_pool(const turn_pool&) = delete;
    turn_pool& operator=(const turn_pool&) = delete;

    void submit(std::shared_ptr<turn_task> t);
    [[nodiscard]] unsigned threads() const noexcept {
        return static_cast<unsigned>(threads_.size());
    }

private:
    void loop();

    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<turn_task>> queue_;  // guarded by m_
    bool stop_ = false;                             // guarded by m_
    std::vector<std::jthread> threads_;
};

}  // namespace kithara::detail
