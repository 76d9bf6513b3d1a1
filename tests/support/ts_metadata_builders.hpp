// Builders for MPEG-TS test input with HLS timed metadata, shared by the hls unit and
// integration tests: a transport stream (as ffmpeg writes an audio segment) rewritten with a
// timed-metadata stream added, as Apple's "Timed Metadata for HTTP Live Streaming" lays it out:
// a PMT entry of stream_type 0x15 with a metadata_descriptor naming "ID3 ", and PES packets
// (private_stream_1, one ID3 tag each, with a PTS) placed before the first audio packet at or
// after their time.
//
//   auto ts = load("seg_001.ts");
//   auto tagged = kithara::test::ts_with_id3(ts, {{0.5, tag_a}, {1.25, tag_b}});
//   // tag_a's PES has PTS = the segment's first audio PTS + 0.5 s
//
// Threads: any (pure functions). Buffers: returned vectors belong to the caller.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace kithara::test {

// CRC-32/MPEG-2 (polynomial 0x04C11DB7, no reflection, initial 0xFFFFFFFF, no final xor).
inline std::uint32_t crc32_mpeg(const std::uint8_t* p, std::size_t n) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= static_cast<std::uint32_t>(p[i]) << 24;
        for (int k = 0; k < 8; ++k) crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
    }
    return crc;
}

struct ts_id3_at {
    double seconds;  // after the segment's first audio PTS
    std::vector<std::byte> tag;
};

namespace detail_ts {

inline int pid_of(const std::uint8_t* p) {
    return ((p[1] & 0x1F) << 8) | p[2];
}
inline std::size_t payload_at(const std::uint8_t* p) {
    std::size_t at = 4;
    if (p[3] & 0x20) at += 1 + std::size_t{p[4]};
    return at;
}
inline std::optional<std::uint64_t> pes_pts(const std::uint8_t* b, std::size_t n) {
    if (n < 14 || b[0] != 0 || b[1] != 0 || b[2] != 1 || (b[7] & 0x80) == 0) return std::nullopt;
    const std::uint8_t* p = b + 9;
    return (static_cast<std::uint64_t>((p[0] >> 1) & 7) << 30) |
           (static_cast<std::uint64_t>(p[1]) << 22) |
           (static_cast<std::uint64_t>(p[2] >> 1) << 15) | (static_cast<std::uint64_t>(p[3]) << 7) |
           (p[4] >> 1);
}

// The packets of one PES on `pid`: the first with payload_unit_start, the last padded with an
// adaptation field of stuffing.
inline std::vector<std::uint8_t> pes_packets(int pid, const std::vector<std::uint8_t>& pes,
                                             int& cc) {
    std::vector<std::uint8_t> out;
    for (std::size_t at = 0; at < pes.size();) {
        const std::size_t left = pes.size() - at;
        std::uint8_t pk[188];
        pk[0] = 0x47;
        pk[1] = static_cast<std::uint8_t>((at == 0 ? 0x40 : 0) | ((pid >> 8) & 0x1F));
        pk[2] = static_cast<std::uint8_t>(pid & 0xFF);
        std::size_t body = 184;
        if (left >= 184) {
            pk[3] = static_cast<std::uint8_t>(0x10 | (cc & 0x0F));
        } else {
            pk[3] = static_cast<std::uint8_t>(0x30 | (cc & 0x0F));
            const std::size_t af = 184 - left;  // adaptation field: length byte + flags + stuffing
            pk[4] = static_cast<std::uint8_t>(af - 1);
            if (af >= 2) {
                pk[5] = 0x00;
                std::fill(pk + 6, pk + 4 + af, std::uint8_t{0xFF});
            }
            body = left;
        }
        std::copy(pes.begin() + static_cast<std::ptrdiff_t>(at),
                  pes.begin() + static_cast<std::ptrdiff_t>(at + body), pk + 188 - body);
        out.insert(out.end(), pk, pk + 188);
        at += body;
        cc = (cc + 1) & 0x0F;
    }
    return out;
}

}  // namespace detail_ts

// `ts` with a timed-metadata stream on PID `pid` holding `tags` (see the file comment). Throws
// std::runtime_error when `ts` is not a transport stream with a PAT, a PMT and an audio PES.
inline std::vector<std::byte> ts_with_id3(const std::vector<std::byte>& in,
                                          const std::vector<ts_id3_at>& tags, int pid = 0x1F0) {
    using namespace detail_ts;
    const auto* b = reinterpret_cast<const std::uint8_t*>(in.data());
    const std::size_t n = in.size() / 188;
    if (n == 0 || in.size() % 188 != 0) throw std::runtime_error("not 188-byte packets");
    int pmt = -1, audio = -1;
    std::optional<std::uint64_t> first_pts;
    for (std::size_t i = 0; i < n; ++i) {
        const auto* p = b + i * 188;
        if (p[0] != 0x47) throw std::runtime_error("sync lost");
        const int id = pid_of(p);
        const bool start = (p[1] & 0x40) != 0;
        const std::size_t at = payload_at(p);
        if (id == 0 && start && pmt < 0) {
            const auto* s = p + at + 1 + p[at];
            pmt = ((s[10] & 0x1F) << 8) | s[11];
        } else if (id == pmt && start && audio < 0) {
            const auto* s = p + at + 1 + p[at];
            const std::size_t info = ((std::size_t{s[10]} & 0x0F) << 8) | s[11];
            audio = ((s[12 + info + 1] & 0x1F) << 8) | s[12 + info + 2];
        } else if (id == audio && start && !first_pts) {
            first_pts = pes_pts(p + at, 188 - at);
        }
    }
    if (pmt < 0 || audio < 0 || !first_pts) throw std::runtime_error("no PAT, PMT or audio PTS");

    // The PES of each tag.
    struct pending {
        std::uint64_t pts;
        std::vector<std::uint8_t> pes;
    };
    std::vector<pending> todo;
    for (const auto& t : tags) {
        const auto pts = (*first_pts + static_cast<std::uint64_t>(t.seconds * 90000.0 + 0.5)) &
                         ((std::uint64_t{1} << 33) - 1);
        std::vector<std::uint8_t> pes = {0, 0, 1, 0xBD, 0, 0, 0x84, 0x80, 5};
        pes.push_back(static_cast<std::uint8_t>(0x21 | ((pts >> 29) & 0x0E)));
        pes.push_back(static_cast<std::uint8_t>(pts >> 22));
        pes.push_back(static_cast<std::uint8_t>(0x01 | ((pts >> 14) & 0xFE)));
        pes.push_back(static_cast<std::uint8_t>(pts >> 7));
        pes.push_back(static_cast<std::uint8_t>(0x01 | ((pts << 1) & 0xFE)));
        for (auto x : t.tag) pes.push_back(static_cast<std::uint8_t>(x));
        const std::size_t len = pes.size() - 6;
        pes[4] = static_cast<std::uint8_t>(len >> 8);
        pes[5] = static_cast<std::uint8_t>(len);
        todo.push_back({pts, std::move(pes)});
    }

    std::vector<std::uint8_t> out;
    int cc = 0;
    std::size_t next = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const auto* p = b + i * 188;
        const int id = pid_of(p);
        const bool start = (p[1] & 0x40) != 0;
        const std::size_t at = payload_at(p);
        if (id == audio && start) {
            const auto pts = pes_pts(p + at, 188 - at);
            while (next < todo.size() && pts && todo[next].pts <= *pts) {
                const auto pk = pes_packets(pid, todo[next++].pes, cc);
                out.insert(out.end(), pk.begin(), pk.end());
            }
        }
        std::uint8_t pk[188];
        std::copy(p, p + 188, pk);
        if (id == pmt && start) {
            // One more ES entry before the CRC: stream_type 0x15, `pid`, and a metadata_descriptor
            // (tag 0x26) naming "ID3 " as application format and format.
            auto* s = pk + at + 1 + pk[at];
            const std::size_t len = ((std::size_t{s[1]} & 0x0F) << 8) | s[2];
            const std::uint8_t entry[] = {0x15,
                                          static_cast<std::uint8_t>(0xE0 | (pid >> 8)),
                                          static_cast<std::uint8_t>(pid),
                                          0xF0,
                                          15,
                                          0x26,
                                          13,
                                          0xFF,
                                          0xFF,
                                          'I',
                                          'D',
                                          '3',
                                          ' ',
                                          0xFF,
                                          'I',
                                          'D',
                                          '3',
                                          ' ',
                                          0x00,
                                          0x0F};
            const std::size_t crc_at = 3 + len - 4;
            if (static_cast<std::size_t>(s - pk) + 3 + len + sizeof entry > 188)
                throw std::runtime_error("no room in the PMT packet");
            std::copy_backward(s + crc_at, s + crc_at + 4, s + crc_at + 4 + sizeof entry);
            std::copy(entry, entry + sizeof entry, s + crc_at);
            const std::size_t nlen = len + sizeof entry;
            s[1] = static_cast<std::uint8_t>((s[1] & 0xF0) | ((nlen >> 8) & 0x0F));
            s[2] = static_cast<std::uint8_t>(nlen);
            const auto crc = crc32_mpeg(s, 3 + nlen - 4);
            for (int k = 0; k < 4; ++k)
                s[3 + nlen - 4 + static_cast<std::size_t>(k)] =
                    static_cast<std::uint8_t>(crc >> (24 - 8 * k));
        }
        out.insert(out.end(), pk, pk + 188);
    }
    while (next < todo.size()) {
        const auto pk = pes_packets(pid, todo[next++].pes, cc);
        out.insert(out.end(), pk.begin(), pk.end());
    }
    std::vector<std::byte> r(out.size());
    std::transform(out.begin(), out.end(), r.begin(), [](std::uint8_t x) { return std::byte{x}; });
    return r;
}

}  // namespace kithara::test
