// packed_audio_scanner: finds every ID3v2 tag in an HLS packed-audio segment (ADTS AAC, MPEG
// audio layers I-III, AC-3, E-AC-3) — the leading one and any between frames later — with the
// number of audio frames and samples before it, fed chunk by chunk as the segment downloads.
// Frames are walked by their real lengths (ADTS frame_length; MPEG bitrate, rate and padding;
// AC-3 frmsizecod; E-AC-3 frmsiz); a frame found outside sync is trusted only when the next frame
// (or a tag) follows it where its length says, and garbage is skipped byte by byte (counted).
//
//   detail::packed_audio_scanner scan;
//   std::vector<detail::scanned_tag> tags;
//   scan.feed(chunk, tags);                  // as bytes arrive; tags completed so far appended
//   scan.finish(tags);                       // the segment ended
//   for (auto& t : tags) place(segment_start + t.seconds_before, t.tag);
//
// Threads: one thread at a time per scanner (no locks). Buffers: the scanner keeps the bytes it
// has not decided yet: at most one fed chunk plus one tag (≤ max_tag_bytes) or one frame (≤ 8 KiB);
// a tag over the limit is skipped (reported as an error) without being buffered.
#pragma once

#include "detail/id3.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kithara::hls::detail {

enum class audio_codec { unknown, adts, mpeg_audio, ac3, eac3 };

struct audio_frame_header {
    audio_codec codec = audio_codec::unknown;
    std::size_t length = 0;         // bytes of the whole frame, header included
    std::uint32_t samples = 0;      // PCM frames it decodes to (0: an E-AC-3 dependent substream)
    std::uint32_t sample_rate = 0;  // as the header states (HE-AAC: the core rate)
    std::uint8_t channels = 0;      // as the header states (0: given elsewhere)
    std::uint8_t layer = 0;         // MPEG audio: 1, 2 or 3
    std::uint8_t version = 0;       // MPEG audio: 1, 2, or 25 (2.5)
};

// The audio frame header at the start of `head`, or nullopt. `head` needs 7 bytes for ADTS, 4 for
// MPEG audio, 6 for AC-3/E-AC-3; fewer give nullopt.
[[nodiscard]] std::optional<audio_frame_header> parse_audio_frame_header(
    std::span<const std::uint8_t> head);

struct scanned_tag {
    std::uint64_t offset = 0;          // of the tag in the segment
    std::size_t size = 0;              // bytes of the tag as declared (header to footer)
    std::uint64_t frames_before = 0;   // audio frames before it in the segment
    std::uint64_t samples_before = 0;  // PCM frames before it (at the headers' rates)
    double seconds_before = 0;         // sum over the frames before it of samples / rate
    result<id3_tag> tag;               // the parsed tag, or why it could not be
};

class packed_audio_scanner {
public:
    explicit packed_audio_scanner(std::size_t max_tag_bytes = max_id3_tag_bytes)
        : max_tag_bytes_(max_tag_bytes) {}

    // The segment's next bytes, in order. Tags complete in what was fed so far are appended to
    // `out` (a tag is reported once whole, or once known to be over the limit).
    void feed(std::span<const std::uint8_t> bytes, std::vector<scanned_tag>& out);
    void feed(std::span<const std::byte> bytes, std::vector<scanned_tag>& out) {
        feed(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), out);
    }
    // The segment ended: the bytes kept are decided (a tag cut short is reported as an error, a
    // last frame shorter than its header says is not counted).
    void finish(std::vector<scanned_tag>& out);

    [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }
    [[nodiscard]] std::uint64_t samples() const noexcept { return samples_; }
    [[nodiscard]] double seconds() const noexcept;
    [[nodiscard]] audio_codec codec() const noexcept { return locked_.codec; }
    [[nodiscard]] std::uint32_t sample_rate() const noexcept { return locked_.sample_rate; }
    [[nodiscard]] std::uint64_t bytes_seen() const noexcept { return seen_; }
    [[nodiscard]] std::uint64_t skipped_bytes() const noexcept { return skipped_; }  // garbage
    [[nodiscard]] std::uint64_t resyncs() const noexcept { return resyncs_; }        // sync lost
    // Whether the first MPEG audio frame was a Xing/Info/VBRI header (counted, 0 samples).
    [[nodiscard]] bool info_frame() const noexcept { return info_frame_; }

private:
    enum class boundary { yes, no, need_more };
    void process(bool at_end, std::vector<scanned_tag>& out);
    [[nodiscard]] boundary boundary_at(std::size_t at, bool at_end) const;
    [[nodiscard]] bool compatible(const audio_frame_header& h) const;
    void count(const audio_frame_header& h);
    void consume(std::size_t n);
    void garbage(std::size_t n);
    void report(std::vector<scanned_tag>& out, std::size_t size, result<id3_tag> tag) const;

    std::size_t max_tag_bytes_;
    std::vector<std::uint8_t> buf_;  // undecided bytes: buf_[head_..] is at segment offset pos_
    std::size_t head_ = 0;
    std::uint64_t pos_ = 0;
    std::uint64_t seen_ = 0;
    std::uint64_t skip_ = 0;  // bytes still to pass over (a counted frame, an oversize tag)
    bool synced_ = false;     // the previous frame or tag ended here
    std::optional<audio_frame_header> pending_;  // the frame being passed over, counted at its end
    audio_frame_header locked_;
    std::uint64_t frames_ = 0;
    std::uint64_t samples_ = 0;
    // seconds() = done_seconds_ + run_samples_ / run_rate_: exact sums per sample-rate run.
    double done_seconds_ = 0;
    std::uint64_t run_samples_ = 0;
    std::uint32_t run_rate_ = 0;
    std::uint64_t skipped_ = 0;
    std::uint64_t resyncs_ = 0;
    bool info_frame_ = false;
};

}  // namespace kithara::hls::detail
