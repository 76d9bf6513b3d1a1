// kithara::deadline: the one deadline type of every Kithara wait (storage range waits, stream
// reads, worker channels and waits): a std::chrono::steady_clock point; no_deadline waits forever.
//
//   kithara::deadline until = kithara::deadline_after(std::chrono::seconds(2));
//   bool late = std::chrono::steady_clock::now() >= until;
//   static_assert(kithara::no_deadline == kithara::deadline::max());
//
// Header-only values and pure functions: any thread, no locks, no buffers. Layers re-export it
// with using-declarations (storage::deadline, stream::deadline, worker::deadline are this type).
#pragma once

#include <chrono>

namespace kithara {

using deadline = std::chrono::steady_clock::time_point;
inline constexpr deadline no_deadline = deadline::max();

// now + d, saturating at no_deadline (a huge duration never wraps into the past).
template <class Rep, class Period>
[[nodiscard]] deadline deadline_after(std::chrono::duration<Rep, Period> d) noexcept {
    using clock = std::chrono::steady_clock;
    const auto now = clock::now();
    const auto left = std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(
        no_deadline - now);  // in d's units (truncated), so the compare cannot overflow
    if (d >= left) return no_deadline;
    return now + std::chrono::duration_cast<clock::duration>(d);
}

}  // namespace kithara
