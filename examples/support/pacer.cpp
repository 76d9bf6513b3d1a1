#include "pacer.hpp"

#include <thread>

namespace kithara::examples {

pacer::pacer(std::uint32_t rate, double speed, clock::duration slack) noexcept
    : rate_(rate == 0 ? 1 : rate), speed_(speed > 0 ? speed : 1.0), slack_(slack) {}

pacer::clock::time_point pacer::due() const noexcept {
    const auto ns = static_cast<std::int64_t>(static_cast<double>(frames_) * 1e9 /
                                              (static_cast<double>(rate_) * speed_));
    return anchor_ + std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(ns));
}

void pacer::wait(std::uint64_t frames) {
    const auto now = clock::now();
    if (!started_) {
        started_ = true;
        anchor_ = now;
        frames_ = 0;
    }
    const auto at = due();
    if (now > at + slack_) {
        ++underruns_;
        late_ += now - at;
        anchor_ = now;
        frames_ = 0;
    } else if (now < at) {
        std::this_thread::sleep_until(at);
    }
    frames_ += frames;
}

void pacer::set_rate(std::uint32_t rate) noexcept {
    if (rate == 0 || rate == rate_) return;
    if (started_) {
        anchor_ = due();
        frames_ = 0;
    }
    rate_ = rate;
}

}  // namespace kithara::examples
