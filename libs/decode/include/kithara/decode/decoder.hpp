// kithara::decode::decoder: FFmpeg demux + decode over a stream::source, converted to interleaved
// float32 at the requested rate/channels, synchronously on the caller's thread.
//
//   auto dec = kithara::decode::decoder::open(src, opts).value();
//   while (auto c = dec->next()) { if (!*c) break; play((*c)->samples); }   // nullopt: end
//   dec->seek(std::chrono::seconds(30));   // next chunk starts exactly at 30 s (see below)
//
// Reading: a custom AVIOContext whose read callback fills FFmpeg's own buffer from a
// stream::reader (no temp file, no whole-file buffer); its seek callback answers AVSEEK_SIZE from
// the source length. Source hints (container, codec) select the demuxer without probing, and
// skip FFmpeg's stream analysis when the header names codec and duration (docs/DECODE.md).
// Format boundaries declared by the source end the current demuxer at the boundary and open a new
// one there; a change of rate, channels or codec (also inside one stream, e.g. concatenated ADTS)
// reconfigures the converter without dropping or repeating samples and flags the next chunk.
// Seeking: container seek (backwards, minus the codec's pre-roll), then decode and discard up to
// the target, so the first frame delivered is the target (sample-exact where timestamps are, e.g.
// PCM, FLAC; lossy within a codec frame). Gapless: FFmpeg's skip-samples (LAME/Xing, Opus
// pre-skip, MP4 edit list start) plus the MP4 edit-list end. Corrupt packets are skipped and
// counted; a stream that stops before its declared duration fails with errc::truncated.
//
// Threads: one thread at a time (not thread-safe); stats() too. Buffers: chunks are pooled
// (options.pool) and owned by the caller once returned; scratch buffers grow to the largest codec
// frame and are then reused, so steady-state decoding allocates no chunk memory.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/decode/export.hpp>
#include <kithara/decode/types.hpp>
#include <kithara/stream/source.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace kithara::decode {

class KITHARA_DECODE_EXPORT decoder {
public:
    // Opens the first container of `src` and its best audio stream.
    // Errors: open_failed, no_audio_stream, unsupported_codec, invalid_argument, source errors.
    [[nodiscard]] static result<std::unique_ptr<decoder>> open(std::shared_ptr<stream::source> src,
                                                               decoder_options options = {});
    ~decoder();
    decoder(const decoder&) = delete;
    decoder& operator=(const decoder&) = delete;

    // The next chunk; nullopt at the proven end of the stream.
    [[nodiscard]] result<std::optional<pcm_chunk>> next();

    // Repositions to `position` from the stream start. Bumps the epoch.
    result<> seek(std::chrono::nanoseconds position);

    [[nodiscard]] const stream_info& info() const noexcept;
    [[nodiscard]] decode_stats stats() const noexcept;
    [[nodiscard]] std::uint64_t epoch() const noexcept;

    struct impl;

private:
    explicit decoder(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace kithara::decode
