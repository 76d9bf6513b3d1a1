#include <kithara/net/client.hpp>

#include <condition_variable>
#include <mutex>

namespace kithara::net {

struct memory_sink::state {
    std::mutex mutex;  // guards everything below (written on the executor, read by wait())
    std::condition_variable done_cv;
    bool done = false;
    fetched value;
    std::optional<kithara::error> failure;
};

std::shared_ptr<memory_sink::state> memory_sink::make_state() {
    return std::make_shared<state>();
}

result<> memory_sink::on_response(const response_head& head) {
    std::lock_guard lock(state_->mutex);
    state_->value.head = head;
    if (head.length) state_->value.body.reserve(static_cast<std::size_t>(*head.length));
    return {};
}

result<> memory_sink::on_data(std::uint64_t offset, std::span<const std::byte> bytes) {
    std::lock_guard lock(state_->mutex);
    auto& v = state_->value;
    if (offset != v.head.body_offset + v.body.size())
        return fail(errc::protocol, "memory_sink: non-contiguous offset " + std::to_string(offset));
    v.body.insert(v.body.end(), bytes.begin(), bytes.end());
    return {};
}

result<> memory_sink::on_restart(const response_head& head) {
    std::lock_guard lock(state_->mutex);
    state_->value.head = head;
    state_->value.body.clear();
    return {};
}

void memory_sink::on_complete(result<transfer_stats> outcome) {
    {
        std::lock_guard lock(state_->mutex);
        if (outcome) {
            state_->value.stats = *outcome;
        } else {
            state_->failure = outcome.error();
        }
        state_->done = true;
    }
    state_->done_cv.notify_all();
}

result<fetched> memory_sink::wait() {
    std::unique_lock lock(state_->mutex);
    state_->done_cv.wait(lock, [&] { return state_->done; });
    if (state_->failure) return fail(*state_->failure);
    return std::move(state_->value);
}

result<fetched> fetch(client& c, request req) {
    auto s = std::make_shared<memory_sink>();
    c.start(std::move(req), s);
    return s->wait();
}

}  // namespace kithara::net
