// Builders for timed-metadata test input: ID3v2.2/2.3/2.4 frames and tags byte by byte, emsg boxes,
// and the files make_metadata_fixtures.sh wrote (KITHARA_METADATA_FIXTURES).
//
//   auto tag = id3::tag(4, id3::frame(4, "TIT2", id3::text(3, "Song")));
//   auto box = emsg_v0("https://aomedia.org/emsg/ID3", "1", 90000, 4500, 0, 7, tag);
//
// Threads: any (pure functions). Buffers: returned vectors belong to the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::hls::test {

using bytes = std::vector<std::uint8_t>;

inline bytes operator+(bytes a, const bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

inline bytes str(std::string_view s) {
    return bytes(s.begin(), s.end());
}

inline void put_be(bytes& b, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

inline void put_syncsafe(bytes& b, std::size_t n) {
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>((n >> (7 * i)) & 0x7f));
}

namespace id3 {

// A text frame's content: encoding byte and text (given already encoded).
inline bytes text(std::uint8_t encoding, std::string_view encoded) {
    return bytes{encoding} + str(encoded);
}

// A frame: ID3v2.2 (3-letter id, 24-bit size), 2.3 (32-bit size, flags), 2.4 (syncsafe size).
inline bytes frame(int version, std::string_view id, const bytes& data, std::uint16_t flags = 0) {
    bytes f = str(id);
    if (version == 2) {
        put_be(f, data.size(), 3);
    } else {
        if (version == 3) {
            put_be(f, data.size(), 4);
        } else {
            put_syncsafe(f, data.size());
        }
        put_be(f, flags, 2);
    }
    return f + data;
}

// A tag around `body` (frames, padding) with header flags; a v2.4 footer when flags has 0x10.
inline bytes tag(int version, const bytes& body, std::uint8_t flags = 0) {
    bytes t = {'I', 'D', '3', static_cast<std::uint8_t>(version), 0, flags};
    put_syncsafe(t, body.size());
    t = t + body;
    if (flags & 0x10) {
        bytes footer = {'3', 'D', 'I', static_cast<std::uint8_t>(version), 0, flags};
        put_syncsafe(footer, body.size());
        t = t + footer;
    }
    return t;
}

// Unsynchronisation: a 0x00 after every 0xFF that precedes 0x00 or a byte >= 0xE0 (and after a
// final 0xFF).
inline bytes unsync(const bytes& in) {
    bytes out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        out.push_back(in[i]);
        if (in[i] == 0xFF && (i + 1 == in.size() || in[i + 1] == 0 || in[i + 1] >= 0xE0))
            out.push_back(0);
    }
    return out;
}

}  // namespace id3

inline bytes emsg_v0(std::string_view scheme, std::string_view value, std::uint32_t timescale,
                     std::uint32_t delta, std::uint32_t duration, std::uint32_t id,
                     const bytes& message) {
    bytes p = {0, 0, 0, 0};
    p = p + str(scheme) + bytes{0} + str(value) + bytes{0};
    put_be(p, timescale, 4);
    put_be(p, delta, 4);
    put_be(p, duration, 4);
    put_be(p, id, 4);
    p = p + message;
    bytes b;
    put_be(b, p.size() + 8, 4);
    return b + str("emsg") + p;
}

inline bytes emsg_v1(std::string_view scheme, std::string_view value, std::uint32_t timescale,
                     std::uint64_t time, std::uint32_t duration, std::uint32_t id,
                     const bytes& message) {
    bytes p = {1, 0, 0, 0};
    put_be(p, timescale, 4);
    put_be(p, time, 8);
    put_be(p, duration, 4);
    put_be(p, id, 4);
    p = p + str(scheme) + bytes{0} + str(value) + bytes{0} + message;
    bytes b;
    put_be(b, p.size() + 8, 4);
    return b + str("emsg") + p;
}

inline bytes read_fixture(const std::string& name) {
    std::ifstream f(std::string(KITHARA_METADATA_FIXTURES) + "/" + name, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(f), {});
}

inline std::size_t fixture_packets(const std::string& name) {
    std::ifstream f(std::string(KITHARA_METADATA_FIXTURES) + "/" + name + ".packets");
    std::size_t n = 0;
    f >> n;
    return n;
}

}  // namespace kithara::hls::test
