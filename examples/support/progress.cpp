#include "progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace kithara::examples {

progress_line::progress_line(bool enabled, clock::duration every)
    : enabled_(enabled && ::isatty(2) != 0), every_(every) {}

bool progress_line::due() const noexcept {
    return enabled_ && (!shown_ || clock::now() - last_ >= every_);
}

void progress_line::show(const std::string& text) {
    if (!enabled_) return;
    const std::size_t pad = width_ > text.size() ? width_ - text.size() : 0;
    std::fprintf(stderr, "\r%s%*s", text.c_str(), static_cast<int>(pad), "");
    std::fflush(stderr);
    width_ = text.size();
    last_ = clock::now();
    shown_ = true;
}

void progress_line::done() {
    if (!shown_) return;
    std::fputc('\n', stderr);
    shown_ = false;
    width_ = 0;
}

}  // namespace kithara::examples
