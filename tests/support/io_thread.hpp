// kithara::test::io_thread: an io_context run by one thread, for tests that need an executor.
//
//   kithara::test::io_thread io;
//   kithara::net::client c{io.executor()};
//   ... destroy users of the executor (the client) first; ~io_thread lets pending work finish.
//
// Threads: construct/destroy on one thread; executor() from any thread.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <optional>
#include <thread>

namespace kithara::test {

class io_thread {
public:
    io_thread() : guard_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
    ~io_thread() {
        guard_.reset();  // run() returns once pending handlers finished
        thread_.join();
    }
    io_thread(const io_thread&) = delete;
    io_thread& operator=(const io_thread&) = delete;

    asio::any_io_executor executor() { return io_.get_executor(); }

private:
    asio::io_context io_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
    std::thread thread_;
};

}  // namespace kithara::test
