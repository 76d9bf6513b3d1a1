// Builders for HLS packed-audio test input, shared by the decode and hls tests: the ID3v2.4 tag
// with the PRIV frame com.apple.streaming.transportStreamTimestamp that starts every packed-audio
// segment (ADTS, MP3, AC-3), and a segment made of that tag and an elementary stream.
//
//   auto seg = kithara::test::packed_segment(900000, adts_bytes);  // tag + ADTS frames
//   auto tag = kithara::test::id3_priv(0x1'2345'6789, 3);          // declares 3 bytes too few
//
// Threads: any (pure functions). Buffers: returned vectors belong to the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kithara::test {

// An ID3v2.4 tag holding one PRIV frame transportStreamTimestamp: `value` as 8 bytes big endian
// (HLS uses the low 33 bits: a 90 kHz time; readers mask the rest). The tag header declares its
// size `short_by` bytes short (a broken tag readers must resync after).
inline std::vector<std::byte> id3_priv(std::uint64_t value, std::size_t short_by = 0) {
    const std::string owner = "com.apple.streaming.transportStreamTimestamp";
    std::vector<std::uint8_t> frame(owner.begin(), owner.end());
    frame.push_back(0);
    for (int i = 7; i >= 0; --i) frame.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    std::vector<std::uint8_t> t = {'I', 'D', '3', 4, 0, 0};
    auto syncsafe = [&](std::size_t n) {
        for (int i = 3; i >= 0; --i) t.push_back(static_cast<std::uint8_t>((n >> (7 * i)) & 0x7f));
    };
    syncsafe(10 + frame.size() - short_by);
    t.insert(t.end(), {'P', 'R', 'I', 'V'});
    syncsafe(frame.size());
    t.push_back(0);
    t.push_back(0);
    t.insert(t.end(), frame.begin(), frame.end());
    std::vector<std::byte> b(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) b[i] = static_cast<std::byte>(t[i]);
    return b;
}

// A packed-audio segment: the PRIV tag for `ts90k`, then the elementary stream.
inline std::vector<std::byte> packed_segment(std::uint64_t ts90k,
                                             std::span<const std::byte> elementary) {
    auto b = id3_priv(ts90k);
    b.insert(b.end(), elementary.begin(), elementary.end());
    return b;
}

}  // namespace kithara::test
