#include "detail/turn_pool.hpp"

#include <pthread.h>

#include <string>
#include <utility>

namespace kithara::detail {

turn_pool::turn_pool(unsigned threads) {
    if (threads == 0) threads = 1;
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
        threads_.emplace_back([this] { loop(); });
        const std::string name = "kithara-dec-" + std::to_string(i);
        pthread_setname_np(threads_.back().native_handle(), name.substr(0, 15).c_str());
    }
}

turn_pool::~turn_pool() {
    {
        std::lock_guard lk(m_);
        stop_ = true;
        queue_.clear();
    }
    cv_.notify_all();
    threads_.clear();  // joins
}

void turn_pool::submit(std::shared_ptr<turn_task> t) {
    {
        std::lock_guard lk(m_);
        if (stop_) return;
        queue_.push_back(std::move(t));
    }
    cv_.notify_one();
}

void turn_pool::loop() {
    for (;;) {
        std::shared_ptr<turn_task> t;
        {
            std::unique_lock lk(m_);
            cv_.wait(lk, [this] { return stop_ || !queue_.empty(); });
            if (stop_) return;
            t = std::move(queue_.front());
            queue_.pop_front();
        }
        t->run_turn();
    }
}

}  // namespace kithara::detail
