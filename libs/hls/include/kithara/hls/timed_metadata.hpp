// kithara::hls::timed_metadata: one item of HLS timed metadata (an ID3 tag in packed audio or in
// an fMP4 `emsg` box, an EXT-X-DATERANGE, an EXTINF title) placed at its presentation time on the
// stream timeline, with the raw ID3 frames; and what a media playlist alone says about it
// (playlist_metadata: DATERANGE mapped through EXT-X-PROGRAM-DATE-TIME, EXTINF titles).
//
//   auto found = kithara::hls::playlist_metadata(media, 0.0);  // segment 0 starts at 0 s
//   for (const auto& m : found.items)
//       if (!m.title.empty()) show(m.time, m.artist, m.title);
//   for (const auto& f : found.items.front().frames)
//       if (f.id == "TALB") album = kithara::hls::frame_text(f).value_or("");
//
// Threads: plain values and pure functions, any thread; no locks. Buffers: every string and byte
// vector is owned by the value (frames are copies of the tag's bytes, never views of a segment).
#pragma once

#include <kithara/hls/export.hpp>
#include <kithara/hls/playlist.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls {

// One ID3v2 frame. `id` as written ("TIT2", "PRIV"; ID3v2.2's three letters, "TT2", are kept).
// `data` is the frame's content after unsynchronisation was undone and the flag bytes (grouping,
// encryption method, data length indicator) removed: a text frame's encoding byte and text, PRIV's
// owner, NUL and data, APIC's picture. A compressed or encrypted frame is kept as stored (opaque).
struct id3_frame {
    std::string id;
    std::vector<std::uint8_t> data;
    bool opaque = false;  // compressed or encrypted: `data` is not the frame's content
    friend bool operator==(const id3_frame&, const id3_frame&) = default;
};

// A DASH/CMAF event message (ISO/IEC 23009-1 `emsg`, version 0 or 1).
struct emsg_event {
    std::string scheme_id_uri;
    std::string value;
    std::uint32_t id = 0;
    std::uint32_t timescale = 0;  // ticks per second of the box's times (never 0)
    std::uint8_t version = 0;     // 0: time relative to the segment; 1: absolute
    std::vector<std::uint8_t> message_data;
    friend bool operator==(const emsg_event&, const emsg_event&) = default;
};

// An EXT-X-DATERANGE as it was mapped onto the stream timeline.
struct daterange_event {
    std::string id;
    std::string class_name;                         // CLASS, or empty
    std::string start_date;                         // START-DATE as written
    std::vector<date_range::attribute> attributes;  // X-* and SCTE35-*, as written
    std::size_t line = 0;                           // of the tag in the playlist
};

struct timed_metadata {
    enum class source { id3, emsg, daterange, extinf };
    source from = source::id3;
    double time = 0;                 // presentation time, seconds on the stream timeline
    std::optional<double> duration;  // seconds, when the source gives one
    // Filled when the source names them: ID3 TIT2/TPE1 (TT2/TP1), DATERANGE X-TITLE/X-ARTIST,
    // an EXTINF title, or ICY-style text StreamTitle='Artist - Title' in any of these.
    std::string title;
    std::string artist;
    std::vector<id3_frame> frames;             // ID3, and emsg whose message is an ID3 tag
    std::optional<emsg_event> emsg;            // source::emsg
    std::optional<daterange_event> daterange;  // source::daterange
};

// The text of a text frame (T***, TXXX's value, COMM's text, URL frames W***, WXXX's URL) as
// UTF-8, from any of ID3's four encodings; several values (ID3v2.4) joined by " / ". nullopt for
// other frames and opaque ones.
[[nodiscard]] KITHARA_HLS_EXPORT std::optional<std::string> frame_text(const id3_frame& f);

// What playlist_metadata() found, and what it could not place (one reason per item left out:
// "DATERANGE ID=ad1 (line 12): no EXT-X-PROGRAM-DATE-TIME to map START-DATE").
struct playlist_metadata_result {
    std::vector<timed_metadata> items;  // by time (stable)
    std::vector<std::string> skipped;
};

// The DATERANGEs and EXTINF titles of `m`, with segment 0 starting at `start` seconds on the
// stream timeline (segment i at start + the EXTINF durations before it). A DATERANGE's START-DATE
// is placed through the EXT-X-PROGRAM-DATE-TIME of the segments (the nearest dated segment at or
// before it, else the first dated one); its duration is DURATION, else END-DATE - START-DATE,
// else the next START-DATE of its CLASS for END-ON-NEXT, else PLANNED-DURATION. Consecutive
// segments with the same EXTINF title give one item lasting all of them.
[[nodiscard]] KITHARA_HLS_EXPORT playlist_metadata_result playlist_metadata(const media_playlist& m,
                                                                            double start = 0);

}  // namespace kithara::hls
