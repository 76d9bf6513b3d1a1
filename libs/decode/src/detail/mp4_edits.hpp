// Internal: what an MP4 header says about a track's end, read from the head of the file (the
// bytes FFmpeg's mov demuxer read at open), because FFmpeg 5.1 does not export the edit list.
// The decoder cuts the encoder padding at the track's end only where the file declares that end
// (see docs/DECODE.md, "Gapless"). One thread: the decoder's; no state.
#pragma once

#include <cstddef>
#include <span>

namespace kithara::decode::detail {

enum class mp4_end {
    unknown,     // no complete moov in the bytes given, or not MP4: keep the default behaviour
    declared,    // not fragmented, or an edit of the track has a duration: the track has an end
    open_ended,  // fragmented (moov/mvex) and no edit of the track has a duration: the edit
                 // list (ISO/IEC 14496-12 8.6.6, segment_duration 0) runs to the end of the media
};

// Reads the top-level boxes of `head` (the first bytes of the file) up to a complete moov, and
// the edit list of the trak whose tkhd track_ID is `track_id`.
mp4_end mp4_track_end(std::span<const std::byte> head, int track_id);

}  // namespace kithara::decode::detail
