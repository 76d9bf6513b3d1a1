#include <kithara/worker/io_runtime.hpp>

#include <kithara/detail/log.hpp>
#include <kithara/worker/error.hpp>
#include <kithara/worker/thread.hpp>

#include <cassert>
#include <exception>
#include <string>
#include <system_error>

namespace kithara::worker {
namespace {

// The runtime whose io thread this is (nullptr elsewhere).
thread_local const io_runtime* tls_runtime = nullptr;

}  // namespace

io_runtime::io_runtime(io_runtime_options options)
    : options_(std::move(options)), context_(static_cast<int>(options_.threads)) {
    assert(options_.threads >= 1);
    if (options_.threads == 0) options_.threads = 1;
}

io_runtime::~io_runtime() {
    shutdown();
}

result<void> io_runtime::start() {
    std::lock_guard lk(mutex_);
    if (stopping_ || joining_) return fail(errc::stopped, "io_runtime::start: stop not joined yet");
    if (!threads_.empty()) return {};
    context_.restart();
    guard_.emplace(context_.get_executor());
    stopping_ = false;
    try {
        threads_.reserve(options_.threads);
        for (unsigned i = 0; i < options_.threads; ++i) {
            threads_.emplace_back([this, i] { thread_main(i); });
        }
    } catch (const std::system_error& e) {
        KITHARA_LOG_ERROR("io_runtime '{}': starting thread {} failed: {}", options_.name,
                          threads_.size(), e.what());
        stopping_ = true;
        guard_.reset();
        context_.stop();
        return fail(e.code(), "io_runtime::start: creating io thread of " + options_.name);
    }
    return {};
}

void io_runtime::stop() noexcept {
    std::lock_guard lk(mutex_);
    stopping_ = true;
    guard_.reset();
    context_.stop();
}

void io_runtime::join() {
    assert(!running_in_this_thread() && "io_runtime::join on its own io thread");
    if (running_in_this_thread()) return;
    std::unique_lock lk(mutex_);
    if (joining_) {  // another thread joins: wait for it to finish
        joined_.wait(lk, [&] { return !joining_; });
        return;
    }
    std::vector<std::thread> threads;
    threads.swap(threads_);
    joining_ = true;
    lk.unlock();
    for (auto& t : threads) t.join();
    lk.lock();
    joining_ = false;
    stopping_ = false;
    joined_.notify_all();
}

void io_runtime::shutdown() {
    stop();
    join();
}

bool io_runtime::running() const {
    std::lock_guard lk(mutex_);
    return !threads_.empty() && !stopping_;
}

bool io_runtime::running_in_this_thread() const noexcept {
    return tls_runtime == this;
}

void io_runtime::thread_main(unsigned index) {
    set_current_thread_name(options_.name + "-" + std::to_string(index));
    tls_runtime = this;
    for (;;) {
        try {
            context_.run();
            break;
        } catch (const std::exception& e) {
            KITHARA_LOG_ERROR("io_runtime '{}': a handler threw: {}", options_.name, e.what());
        } catch (...) {
            KITHARA_LOG_ERROR("io_runtime '{}': a handler threw a non-exception", options_.name);
        }
    }
    tls_runtime = nullptr;
}

}  // namespace kithara::worker
