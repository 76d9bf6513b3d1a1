// Cancellation and deadlines around std::stop_token: waits that end on a notification, a stop
// request or a deadline, whichever comes first, and a stop source linked to parent tokens.
//
//   std::unique_lock lk(m);
//   auto s = kithara::worker::wait_until(cv, lk, stop, kithara::worker::deadline_after(2s),
//                                        [&] { return ready; });   // ready/cancelled/timed_out
//
// Tokens are std::stop_token; deadlines are steady_clock time points (no_deadline = wait
// forever). Everything here is header-only and callable from any thread; the waits block the
// caller, so never call them on an io thread. linked_stop_source owns its stop_source; its
// callbacks run on the thread that requests stop on a parent.
#pragma once

#include <kithara/core/deadline.hpp>
#include <kithara/core/result.hpp>
#include <kithara/worker/error.hpp>

#include <chrono>
#include <condition_variable>
#include <stop_token>
#include <string>

namespace kithara::worker {

using clock = std::chrono::steady_clock;
using kithara::deadline;  // the same type as storage::deadline and stream::deadline
using kithara::deadline_after;
using kithara::no_deadline;

enum class wait_status { ready, cancelled, timed_out };

// Waits on cv until pred() holds, stop is requested, or the deadline passes. pred is checked
// under lock, first before any wait; a stop request wins over a passed deadline.
template <class Lock, class Pred>
[[nodiscard]] wait_status wait_until(std::condition_variable_any& cv, Lock& lock,
                                     std::stop_token stop, deadline until, Pred pred) {
    if (until == no_deadline) {
        return cv.wait(lock, stop, std::move(pred)) ? wait_status::ready : wait_status::cancelled;
    }
    if (cv.wait_until(lock, stop, until, std::move(pred))) return wait_status::ready;
    return stop.stop_requested() ? wait_status::cancelled : wait_status::timed_out;
}

// The error for a wait that did not become ready: cancelled or timed_out, with context.
[[nodiscard]] inline error wait_error(wait_status s, std::string context) {
    return error(s == wait_status::cancelled ? errc::cancelled : errc::timed_out,
                 std::move(context));
}

// A stop_source that is also stopped when either parent token is (e.g. a session's token and
// one operation's token). Neither copyable nor movable: the parents' callbacks point at it.
class linked_stop_source {
public:
    linked_stop_source(std::stop_token a, std::stop_token b = {})
        : a_(std::move(a), forward{&source_}), b_(std::move(b), forward{&source_}) {}
    linked_stop_source(const linked_stop_source&) = delete;
    linked_stop_source& operator=(const linked_stop_source&) = delete;

    [[nodiscard]] std::stop_token get_token() const noexcept { return source_.get_token(); }
    bool request_stop() noexcept { return source_.request_stop(); }
    [[nodiscard]] bool stop_requested() const noexcept { return source_.stop_requested(); }

private:
    struct forward {
        std::stop_source* source;
        void operator()() const noexcept { source->request_stop(); }
    };
    std::stop_source source_;  // declared first: constructed before the callbacks that use it
    std::stop_callback<forward> a_;
    std::stop_callback<forward> b_;
};

}  // namespace kithara::worker
