// Internal: the sample converter. libswresample turns a decoded frame (any sample format and
// layout) into interleaved float32 at the frame's own rate (a mono source is converted once and
// fanned out to every output channel); libsamplerate then converts the rate when the output rate
// differs. Output goes into a sample_fifo. configure() sets it up for one native format; a new
// native format needs configure() again (after drain()). One thread: the decoder's. Scratch
// buffers are owned here and grow to the largest codec frame (growths are counted).
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/decode/types.hpp>

#include "detail/fifo.hpp"

#include <cstdint>
#include <vector>

struct AVFrame;
struct SwrContext;
typedef struct SRC_STATE_tag SRC_STATE;

namespace kithara::decode::detail {

class converter {
public:
    explicit converter(resample_quality q) : quality_(q) {}
    ~converter();
    converter(const converter&) = delete;
    converter& operator=(const converter&) = delete;

    // Set up for f's native format (rate, channels, sample format) and the given output.
    result<> configure(const AVFrame* f, std::uint32_t out_rate, std::uint32_t out_channels);

    // True when configured for exactly f's native format.
    [[nodiscard]] bool accepts(const AVFrame* f) const;
    [[nodiscard]] bool configured() const noexcept { return in_rate_ != 0; }

    // Converts frames [skip, skip + count) of f into `out`.
    result<> convert(const AVFrame* f, int skip, int count, sample_fifo& out,
                     std::uint64_t& growths);

    // Drains libsamplerate's tail (end of input) into `out`, then resets it.
    result<> drain(sample_fifo& out, std::uint64_t& growths);

    // Forgets libsamplerate's history (after a seek).
    void reset();

    [[nodiscard]] std::uint32_t in_rate() const noexcept { return in_rate_; }
    [[nodiscard]] std::uint32_t in_channels() const noexcept { return in_channels_; }

private:
    resample_quality quality_;
    std::uint32_t in_rate_ = 0;
    std::uint32_t in_channels_ = 0;
    int in_format_ = -1;
    std::uint32_t out_rate_ = 0;
    std::uint32_t out_channels_ = 0;
    SwrContext* swr_ = nullptr;
    bool mono_fanout_ = false;  // mono source duplicated to every output channel
    SRC_STATE* sr_ = nullptr;
    std::vector<float> scratch_;  // native-rate float frames of one codec frame
    std::vector<float> fanout_;   // scratch_ fanned out to every channel
};

}  // namespace kithara::decode::detail
