// kithara::test::timing_sink: a net::memory_sink for cancellation tests. It signals when a body
// byte at or past `signal_at` arrived and records when the transfer completed.
//
//   auto s = std::make_shared<kithara::test::timing_sink>(1'000'000);
//   auto reached = s->reached();  client.start(req, s);  reached.wait();  handle.cancel();
//   EXPECT_LT(s->completed_at() - t0, 100ms);
//
// Threads: callbacks run on the client's executor; reached() and completed_at() from the test
// thread (completed_at() only after wait(), which synchronises).
#pragma once

#include <kithara/net/client.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>

namespace kithara::test {

class timing_sink : public net::memory_sink {
public:
    using clock = std::chrono::steady_clock;

    explicit timing_sink(std::uint64_t signal_at = 0) : signal_at_(signal_at) {}

    result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) override {
        if (offset + bytes.size() > signal_at_ && !signalled_.exchange(true)) reached_.set_value();
        return memory_sink::on_data(offset, bytes);
    }
    void on_complete(result<net::transfer_stats> outcome) override {
        completed_at_ = clock::now();
        memory_sink::on_complete(std::move(outcome));
    }

    [[nodiscard]] std::future<void> reached() { return reached_.get_future(); }
    [[nodiscard]] clock::time_point completed_at() const { return completed_at_; }

private:
    std::uint64_t signal_at_;
    std::atomic<bool> signalled_{false};
    std::promise<void> reached_;
    clock::time_point completed_at_{};
};

}  // namespace kithara::test
