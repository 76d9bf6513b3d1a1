// ts_metadata_scanner: the ID3 tags of an MPEG-2 transport stream segment's timed-metadata
// stream (HLS timed metadata: a PMT entry of stream_type 0x15, or a private stream 0x06 whose
// descriptors name "ID3 "), each with its PES presentation time stamp, and the first PTS of the
// segment's audio, so a tag can be placed on the stream timeline relative to the audio. It sees
// the segment's bytes once, in order, in pieces of any size.
//
//   detail::ts_metadata_scanner ts;
//   std::vector<detail::ts_tag> tags;
//   if (auto r = ts.feed(bytes, tags); !r) log(r.error().message());  // not TS: scan over
//   ts.finish(tags);                                                   // at the segment's end
//   for (auto& t : tags) if (t.tag && t.pts && ts.first_audio_pts())
//       place(*t.tag, detail::pts_seconds(*t.pts, *ts.first_audio_pts()));
//
// Threads: one at a time (no locks of its own). Buffers: one partial packet (188 bytes) and one
// metadata PES being assembled (at most max_id3_tag_bytes plus its header; a longer one is left
// out whole).
#pragma once

#include "detail/id3.hpp"

#include <kithara/core/result.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace kithara::hls::detail {

struct ts_tag {
    std::uint64_t offset = 0;          // of the metadata PES in the segment
    std::optional<std::uint64_t> pts;  // 90 kHz, 33 bits, when the PES carries one
    result<id3_tag> tag;               // the parsed tag, or why it could not be
};

// Seconds from `base` to `pts` on the 33-bit 90 kHz clock (the wrap taken into account); a time
// before `base` (a tag stamped a little ahead of the audio) is 0.
[[nodiscard]] double pts_seconds(std::uint64_t pts, std::uint64_t base) noexcept;

class ts_metadata_scanner {
public:
    static constexpr std::size_t packet_size = 188;

    // Scans the next bytes of the segment. Tags whose PES is complete go to `out`. Fails (and
    // then ignores what follows) when the bytes lose the transport stream's packet sync.
    result<> feed(std::span<const std::uint8_t> bytes, std::vector<ts_tag>& out);
    // The segment ended: a metadata PES of unstated length ends with it.
    void finish(std::vector<ts_tag>& out);

    // The PTS of the first audio PES seen (the segment's first audio sample), once seen.
    [[nodiscard]] std::optional<std::uint64_t> first_audio_pts() const noexcept {
        return audio_pts_;
    }
    // Whether the PMT named a timed-metadata stream (false until the PMT was seen).
    [[nodiscard]] bool has_metadata_stream() const noexcept { return meta_pid_ >= 0; }

private:
    void packet(const std::uint8_t* p, std::vector<ts_tag>& out);
    void section(const std::uint8_t* payload, std::size_t n, bool pat);
    void end_pes(std::vector<ts_tag>& out);

    std::array<std::uint8_t, packet_size> partial_{};
    std::size_t partial_n_ = 0;
    std::uint64_t offset_ = 0;  // bytes of the segment fed so far
    bool lost_ = false;
    int pmt_pid_ = -1;
    int meta_pid_ = -1;
    std::vector<std::uint16_t> audio_pids_;  // ≤ max_audio_pids
    std::optional<std::uint64_t> audio_pts_;
    std::vector<std::uint8_t> pes_;  // the metadata PES being assembled, header included
    std::uint64_t pes_offset_ = 0;
    bool in_pes_ = false;
    bool pes_too_long_ = false;
};

}  // namespace kithara::hls::detail
