// kithara::decode value types: options, PCM chunks, stream info, stats.
//
//   kithara::decode::decoder_options opts;
//   opts.sample_rate = 48000; opts.channels = 2;
//   opts.quality = kithara::decode::resample_quality::medium;
//   auto dec = kithara::decode::decoder::open(src, opts).value();
//
// Plain values; any thread. A pcm_chunk owns its samples (a pooled buffer from bufpool's sample
// pool, returned to the pool when the chunk dies).
#pragma once

#include <kithara/bufpool/pool.hpp>
#include <kithara/stream/reader.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace kithara::decode {

// libsamplerate converters, best to cheapest.
enum class resample_quality { best, medium, fastest, linear, zero_order_hold };

struct decoder_options {
    std::uint32_t sample_rate = 0;  // output rate; 0: the source's native rate
    std::uint32_t channels = 0;     // output channels (1..32); 0: native (up/downmix otherwise)
    resample_quality quality = resample_quality::medium;
    std::size_t chunk_frames = 4096;  // frames per chunk (the last one before a change is shorter)
    // The first chunk after open or a seek comes as soon as this many frames are decoded, so
    // playback can start before a whole chunk's worth of bytes arrived (0: chunk_frames).
    std::size_t start_chunk_frames = 0;
    // Chunk pool; nullptr: bufpool::default_sample_pool() (lives forever). Not owned: a pool given
    // here must outlive the decoder or session using it and every pcm_chunk they returned, since a
    // chunk gives its samples back to the pool when it dies (asserted in debug builds).
    bufpool::sample_pool* pool = nullptr;
    // FFmpeg decoder threads (frame threading, e.g. FLAC/ALAC); 0: FFmpeg's automatic choice (as
    // the ffmpeg CLI does). 1 keeps all decoding on the calling thread.
    unsigned codec_threads = 1;
    stream::reader_options reader;  // read-ahead, per-read timeout, stop token
    // Sequential input (HLS segments, a stream being downloaded in order): the demuxer sees a
    // non-seekable input, so it never reads the tail (MP4 atom walk and mfra, TS duration from
    // the last PTS, ID3v1/APE tags, the Ogg duration page) and decodes from the head with reads
    // only moving forward. With a container hint it also skips the stream analysis when the
    // header names the codec (TS: the PMT): the first frame tells rate and channels. No duration
    // is reported. seek() still works (it may read backwards). See docs/DECODE.md.
    bool sequential = false;
    // Added to every chunk's start: chunk times are start_offset + samples decoded / rate (a
    // segment's presentation time in a playlist). seek() positions stay relative to the input.
    std::chrono::nanoseconds start_offset{0};
    // Pre-roll: the input's first preroll_bytes are media that precede its real start (e.g. the
    // end of the previous HLS segment), given so the codec is primed when the real start comes:
    // an AAC frame overlaps the one before it, so a decoder started cold gets the first 1024
    // samples wrong. Frames decoded from packets that start before this offset are dropped; the
    // output (chunk times from start_offset, seek positions, info().duration aside) starts at
    // the first frame of a packet at or after it. The pre-roll must be whole units the demuxer
    // resyncs on, ending where the real input starts (MPEG-TS: 188-byte packets from the end of
    // the previous segment, holding a PES start). First container only. See docs/DECODE.md.
    std::uint64_t preroll_bytes = 0;
};

// One block of interleaved float32 PCM in [-1, 1] (nominal).
struct pcm_chunk {
    bufpool::sample_buffer samples;  // frames() * channels interleaved samples
    std::uint32_t sample_rate = 0;   // of `samples`
    std::uint32_t channels = 0;
    std::chrono::nanoseconds start{0};  // stream time of the first frame
    std::uint64_t epoch = 0;            // seek generation; bumps on every seek
    bool format_changed = false;    // first chunk after the source's rate/channels/codec changed
    std::uint32_t source_rate = 0;  // native format that produced this chunk
    std::uint32_t source_channels = 0;

    [[nodiscard]] std::size_t frames() const noexcept {
        return channels == 0 ? 0 : samples.size() / channels;
    }
};

struct stream_info {
    std::string container;  // FFmpeg demuxer name, e.g. "mp3", "mov,mp4,m4a,3gp,3g2,mj2"
    std::string codec;      // FFmpeg decoder name, e.g. "mp3float", "aac", "flac"
    std::uint32_t source_rate = 0;
    std::uint32_t source_channels = 0;
    std::uint32_t output_rate = 0;
    std::uint32_t output_channels = 0;
    std::chrono::nanoseconds duration{-1};  // -1: unknown
    // The duration is an estimate (or unknown) until the input's tail arrives: a progressive Ogg
    // opened without reading its last page. Re-read info() as chunks come; false once settled.
    bool duration_provisional = false;
    bool seekable = false;
};

struct decode_stats {
    std::uint64_t codec_frames = 0;     // frames (access units) the codec returned
    std::uint64_t pcm_frames = 0;       // PCM frames delivered (per channel)
    std::uint64_t packets = 0;          // packets sent to the codec
    std::uint64_t packets_dropped = 0;  // corrupt packets skipped
    std::uint64_t underruns = 0;        // reads that had to wait for the source
    std::uint64_t format_changes = 0;
    std::uint64_t seeks = 0;
    std::uint64_t buffer_growths = 0;  // internal scratch reallocations (0 in steady state)
};

}  // namespace kithara::decode
