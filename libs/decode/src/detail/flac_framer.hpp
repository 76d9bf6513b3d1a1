// Internal: splits a native FLAC stream into whole frames, in place of FFmpeg's FLAC parser, which
// buffers ten frame headers (~100 KB at CD quality) before it returns the first frame. A frame
// ends where the next valid frame header starts: sync code, CRC-8 and the expected frame or sample
// number. In a cut or corrupt stream, where no such header follows within the frame's size bound
// (its samples stored verbatim), the frame ends at the first valid header with a higher number,
// else at the bound (the decoder rejects it and the next call resyncs). The FLAC decoder checks
// each frame's CRC-16 itself. Packets carry the header's sample position as pts (1/rate units).
// One thread (the decoder's); the buffer is owned here and grows to the largest frame seen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

struct AVIOContext;
struct AVPacket;

namespace kithara::decode::detail {

struct flac_frame_header {
    bool variable = false;          // blocking strategy: the coded number is a sample number
    std::uint64_t number = 0;       // frame number (fixed) or first sample number (variable)
    std::uint32_t block = 0;        // samples per channel in this frame
    std::uint8_t rate_code = 0;     // must stay the same within a stream
    std::uint8_t channel_code = 0;  // channel count and stereo mode (the mode varies by frame)
};

// Parses the header at p (n bytes available); nullopt when it is not a valid header (or n is too
// short to tell).
std::optional<flac_frame_header> parse_flac_frame_header(const std::uint8_t* p, std::size_t n);

class flac_framer {
public:
    // fixed_block: the stream's block size for fixed-blocksize streams (STREAMINFO), 0: unknown.
    explicit flac_framer(std::uint32_t fixed_block) : fixed_block_(fixed_block) {}

    // Drops buffered bytes (after the demuxer repositioned pb at a frame start).
    void reset();

    // The next whole frame from pb into pkt (stream_index set, pts = first sample). AVERROR_EOF
    // at the end; another negative value is pb's error.
    int next(AVIOContext* pb, AVPacket* pkt, int stream_index);

    static constexpr std::size_t max_frame_bytes = 4 << 20;

private:
    int fill(AVIOContext* pb);  // appends >= 1 byte; AVERROR_EOF or an error otherwise
    [[nodiscard]] std::size_t size() const { return end_ - begin_; }

    std::uint32_t fixed_block_;
    std::vector<std::uint8_t> buf_;
    std::size_t begin_ = 0;  // [begin_, end_) holds unread bytes
    std::size_t end_ = 0;
    bool eof_ = false;
};

}  // namespace kithara::decode::detail
