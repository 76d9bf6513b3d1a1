// progress_line: one status line on stderr, rewritten in place (`\r`) at most every `every`,
// only when stderr is a terminal and the run is not --quiet; done() ends it with a newline so
// the summary starts on a clean line.
//
//   progress_line line(!quiet);
//   if (line.due()) line.show("12.3 / 60.0 s  ...");
//   line.done();
//
// Threads: one thread at a time. Locks: none. Buffers: none.
#pragma once

#include <chrono>
#include <string>

namespace kithara::examples {

class progress_line {
public:
    using clock = std::chrono::steady_clock;
    // enabled: false for --quiet; the line also stays off when stderr is not a terminal.
    explicit progress_line(bool enabled, clock::duration every = std::chrono::milliseconds(200));

    [[nodiscard]] bool enabled() const noexcept { return enabled_; }
    // True when enabled and `every` has passed since the last show().
    [[nodiscard]] bool due() const noexcept;
    void show(const std::string& text);
    // Ends the line (newline) if one was shown; safe to call twice.
    void done();

private:
    bool enabled_;
    clock::duration every_;
    clock::time_point last_{};
    std::size_t width_ = 0;  // of the last text, to blank a shorter one
    bool shown_ = false;
};

}  // namespace kithara::examples
