// Internal: a growable float FIFO of interleaved frames that reuses its storage (grows only when a
// larger burst arrives; compacts in place), and a grow-only vector helper. One thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace kithara::decode::detail {

inline void ensure_size(std::vector<float>& v, std::size_t n, std::uint64_t& growths) {
    if (v.size() < n) {
        if (v.capacity() < n) ++growths;
        v.resize(std::max(n, v.size() * 2));
    }
}

class sample_fifo {
public:
    [[nodiscard]] std::size_t frames(std::size_t channels) const noexcept {
        return channels == 0 ? 0 : (tail_ - head_) / channels;
    }
    void clear() noexcept { head_ = tail_ = 0; }

    // Makes room for `frames` more frames after the tail.
    void reserve_frames(std::size_t frames, std::size_t channels, std::uint64_t& growths) {
        const std::size_t need = frames * channels;
        if (tail_ + need <= buf_.size()) return;
        if (head_ > 0) {
            std::memmove(buf_.data(), buf_.data() + head_, (tail_ - head_) * sizeof(float));
            tail_ -= head_;
            head_ = 0;
        }
        if (tail_ + need > buf_.size()) ensure_size(buf_, tail_ + need, growths);
    }
    [[nodiscard]] float* write_ptr() noexcept { return buf_.data() + tail_; }
    void commit_frames(std::size_t frames, std::size_t channels) noexcept {
        tail_ += frames * channels;
    }
    void push(const float* in, std::size_t frames, std::size_t channels, std::uint64_t& growths) {
        reserve_frames(frames, channels, growths);
        std::memcpy(write_ptr(), in, frames * channels * sizeof(float));
        commit_frames(frames, channels);
    }
    void pop(float* out, std::size_t frames, std::size_t channels) noexcept {
        const std::size_t n = frames * channels;
        std::memcpy(out, buf_.data() + head_, n * sizeof(float));
        head_ += n;
        if (head_ == tail_) head_ = tail_ = 0;
    }

private:
    std::vector<float> buf_;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

}  // namespace kithara::decode::detail
