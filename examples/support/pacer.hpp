// pacer: paces PCM output like a sound card (`--realtime`): a chunk starting at frame N is
// released at start + N / rate, waited for with one sleep_until per chunk on the steady clock
// (no polling). Late by more than `slack` (the source could not keep up) counts as an underrun
// and re-anchors the clock, as a sound card restarts after an xrun; how late it was adds to late()
// (the time the listener heard nothing). speed k plays k seconds of audio per wall second.
//
//   pacer p(48000);  // pacer p(48000, 1.5): 1.5 times real time
//   for (auto& c : chunks) { p.wait(c.frames()); sink.write(c.samples); }
//
// Threads: one thread at a time. Locks: none. Buffers: none.
#pragma once

#include <chrono>
#include <cstdint>

namespace kithara::examples {

class pacer {
public:
    using clock = std::chrono::steady_clock;
    explicit pacer(std::uint32_t rate, double speed = 1.0,
                   clock::duration slack = std::chrono::milliseconds(100)) noexcept;

    // Blocks until the next `frames` frames are due; the first call starts the clock.
    void wait(std::uint64_t frames);
    // A new rate (format change): keeps the time already played.
    void set_rate(std::uint32_t rate) noexcept;

    [[nodiscard]] std::uint64_t underruns() const noexcept { return underruns_; }
    // Summed lateness of the underruns: the silence a sound card would have played.
    [[nodiscard]] clock::duration late() const noexcept { return late_; }

private:
    [[nodiscard]] clock::time_point due() const noexcept;

    std::uint32_t rate_;
    double speed_;
    clock::duration slack_;
    bool started_ = false;
    clock::time_point anchor_{};  // when frame 0 (since the last re-anchor) was due
    std::uint64_t frames_ = 0;    // frames released since anchor_
    std::uint64_t underruns_ = 0;
    clock::duration late_{};
};

}  // namespace kithara::examples
