// Internal: one container of the source's byte space: its io_window, demuxer and decoder, and
// what the decoder's clock needs from it (start pts, gapless end, declared duration, seek
// preroll). open_segment opens the container at `begin`; with a container hint and a header that
// names codec and duration it skips the stream analysis and primes the first frame instead. One
// thread: the decoder's. A segment owns its FFmpeg contexts; the reader and source outlive it.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/decode/types.hpp>
#include <kithara/stream/reader.hpp>
#include <kithara/stream/source.hpp>

#include "detail/avio_window.hpp"
#include "detail/flac_framer.hpp"

#include <cstdint>
#include <memory>
#include <optional>

struct AVCodecContext;
struct AVFrame;
struct AVPacket;
struct AVStream;

namespace kithara::decode::detail {

struct segment {
    io_window io;
    AVIOContext* avio = nullptr;
    AVFormatContext* fmt = nullptr;
    AVCodecContext* codec = nullptr;
    AVStream* st = nullptr;
    int stream_index = -1;
    std::int64_t start_pts = 0;                    // stream time base
    std::optional<std::int64_t> end_sample;        // gapless end (MP4 edit list), native samples
    std::optional<std::int64_t> duration_samples;  // declared duration, for truncation checks
    std::int64_t preroll = 0;                      // native samples decoded before a seek target
    AVFrame* primed = nullptr;        // the first frame, decoded at open to learn rate and channels
    std::optional<flac_framer> flac;  // native FLAC without stream analysis
    bool start_known = true;  // start_pts is final (else taken from the first demuxed packet)
    bool draining = false;
    // The mov demuxer, and the file declares the track's end (the edit-list end applies; not for
    // a fragmented file whose edit list runs to the end of the media, see mp4_edits.hpp).
    bool mp4 = false;
    // Ogg opened without its tail read: no duration yet (the decoder learns it from the tail).
    bool tail_deferred = false;

    // Sequential fragmented MP4 with a declared end: the track's end grows as fragments are read
    // (each sidx/trun extends st->duration); move the gapless end along so only the last
    // fragment's padding is cut.
    void refresh_end_sample();

    segment() = default;
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;
    ~segment();

    // The next packet: from the FLAC framer when there is one, else from the demuxer.
    int read(AVPacket* pkt);

    [[nodiscard]] std::uint32_t rate() const;
    [[nodiscard]] std::uint64_t byte_position() const;  // source offset of the demuxer's input
    [[nodiscard]] const char* container_name() const;   // FFmpeg's short name ("mp3", ...)
};

// What opening a segment borrows from the decoder.
struct segment_context {
    stream::reader& rd;
    stream::source& src;
    unsigned codec_threads;
    bool sequential;      // present the input as non-seekable (decoder_options::sequential)
    AVPacket* pkt;        // scratch packet for priming
    decode_stats& stats;  // packets and codec_frames read while priming
};

result<std::unique_ptr<segment>> open_segment(const segment_context& ctx, std::uint64_t begin,
                                              const stream::media_hints& hints);

}  // namespace kithara::decode::detail
