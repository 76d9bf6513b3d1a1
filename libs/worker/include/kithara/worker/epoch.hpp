// Epochs: a seek bumps the epoch; work and results tagged with an older epoch are stale.
//
//   kithara::worker::epoch_counter seeks;                 // e.g. a reader's seek generation
//   auto cmd = kithara::worker::stamped<fetch>{seeks.bump(), {offset, len}};
//   if (!seeks.is_current(cmd.epoch)) return;              // prefetcher: abandon stale work
//
// stamped<T> is a plain value (owned by whoever holds it). epoch_counter is lock-free and may be
// used from any thread; it gives a hint only. To drop stale results atomically with the bump,
// queue them in an epoch_channel (channel.hpp), whose epoch is checked under the channel's lock.
#pragma once

#include <atomic>
#include <cstdint>

namespace kithara::worker {

using epoch_t = std::uint64_t;

// An item or command tagged with the epoch it belongs to.
template <class T>
struct stamped {
    epoch_t epoch = 0;
    T value;
};

class epoch_counter {
public:
    explicit epoch_counter(epoch_t start = 0) noexcept : current_(start) {}
    [[nodiscard]] epoch_t current() const noexcept {
        return current_.load(std::memory_order_acquire);
    }
    // Starts a new epoch and returns it.
    epoch_t bump() noexcept { return current_.fetch_add(1, std::memory_order_acq_rel) + 1; }
    [[nodiscard]] bool is_current(epoch_t e) const noexcept { return e >= current(); }

private:
    std::atomic<epoch_t> current_;
};

}  // namespace kithara::worker
