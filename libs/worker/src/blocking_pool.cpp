#include <kithara/worker/blocking_pool.hpp>

#include <kithara/detail/log.hpp>
#include <kithara/worker/thread.hpp>

#include <cassert>
#include <exception>
#include <system_error>

namespace kithara::worker {
namespace {

thread_local const blocking_pool* tls_pool = nullptr;

void run_guarded(detail::task& t, std::stop_token stop, const std::string& where) {
    try {
        t(std::move(stop));
    } catch (const std::exception& e) {
        KITHARA_LOG_ERROR("{}: a task threw: {}", where, e.what());
    } catch (...) {
        KITHARA_LOG_ERROR("{}: a task threw a non-exception", where);
    }
}

}  // namespace

blocking_pool::blocking_pool(blocking_pool_options options)
    : options_(std::move(options)), queue_(channel_options{.max_items = options_.max_queued}) {
    assert(options_.threads >= 1);
    if (options_.threads == 0) options_.threads = 1;
    std::lock_guard lk(mutex_);
    try {
        threads_.reserve(options_.threads);
        for (unsigned i = 0; i < options_.threads; ++i) {
            threads_.emplace_back([this, i] { thread_main(i); });
        }
    } catch (const std::system_error& e) {
        KITHARA_LOG_ERROR("blocking_pool '{}': started {} of {} threads: {}", options_.name,
                          threads_.size(), options_.threads, e.what());
        if (threads_.empty()) queue_.close();  // submit() fails with stopped, never hangs
    }
}

blocking_pool::~blocking_pool() {
    shutdown(shutdown_mode::cancel);
}

result<void> blocking_pool::submit_task(detail::task t, std::stop_token stop, deadline until) {
    auto r = queue_.send(std::move(t), std::move(stop), until);
    if (!r && r.error() == errc::closed) return fail(errc::stopped, "blocking_pool::submit");
    return r;
}

result<void> blocking_pool::try_submit_task(detail::task t) {
    auto r = queue_.try_send(std::move(t));
    if (!r && r.error() == errc::closed) return fail(errc::stopped, "blocking_pool::try_submit");
    return r;
}

void blocking_pool::shutdown(shutdown_mode mode) {
    assert(!running_in_this_thread() && "blocking_pool::shutdown on its own thread");
    if (running_in_this_thread()) return;
    if (mode == shutdown_mode::cancel) stop_.request_stop();
    queue_.close();
    std::vector<std::thread> threads;
    {
        std::lock_guard lk(mutex_);
        threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    if (mode == shutdown_mode::cancel) {
        while (auto t = queue_.try_receive()) {
        }  // destroyed unrun
    }
}

bool blocking_pool::running_in_this_thread() const noexcept {
    return tls_pool == this;
}

void blocking_pool::thread_main(unsigned index) {
    set_current_thread_name(options_.name + "-" + std::to_string(index));
    tls_pool = this;
    const std::string where = "blocking_pool '" + options_.name + "'";
    const std::stop_token stop = stop_.get_token();
    for (;;) {
        auto t = queue_.receive(stop);           // closed and drained, or cancelled: exit
        if (!t || stop.stop_requested()) break;  // cancel shutdown: queued tasks are dropped
        run_guarded(*t, stop, where);
    }
    tls_pool = nullptr;
}

result<job> job::start_task(std::string name, detail::task t) {
    job j;
    try {
        j.thread_ =
            std::jthread([name = std::move(name), t = std::move(t)](std::stop_token stop) mutable {
                set_current_thread_name(name);
                run_guarded(t, std::move(stop), "job '" + name + "'");
            });
    } catch (const std::system_error& e) {
        return fail(e.code(), "job::start: creating its thread");
    }
    return j;
}

void job::request_stop() noexcept {
    thread_.request_stop();
}

std::stop_token job::get_stop_token() const noexcept {
    return thread_.get_stop_token();
}

void job::join() {
    assert(thread_.get_id() != std::this_thread::get_id() && "job::join on its own thread");
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace kithara::worker
