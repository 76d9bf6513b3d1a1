// ts_metadata_scanner: timed-metadata ID3 tags and the first audio PTS of an MPEG-TS segment
// (ISO/IEC 13818-1 packets, PAT, PMT and PES headers; the HLS timed-metadata PMT entry).
#include "detail/ts_scanner.hpp"

#include <kithara/hls/error.hpp>

#include <algorithm>
#include <cstring>
#include <string>

namespace kithara::hls::detail {

namespace {

constexpr std::size_t max_audio_pids = 8;
constexpr std::uint64_t pts_wrap = std::uint64_t{1} << 33;
// The fixed part of a PES header with the optional fields (start code, stream id, length, two
// flag bytes, header length) and the largest optional part (a header length is one byte).
constexpr std::size_t pes_fixed = 9;
constexpr std::size_t max_pes_bytes = max_id3_tag_bytes + pes_fixed + 255;

bool is_audio_type(std::uint8_t t) {
    switch (t) {
        case 0x03:  // MPEG-1 audio
        case 0x04:  // MPEG-2 audio
        case 0x0F:  // AAC in ADTS
        case 0x11:  // AAC in LATM
        case 0x81:  // AC-3 (ATSC)
        case 0x87:  // E-AC-3 (ATSC)
        case 0xCF:  // SAMPLE-AES AAC
        case 0xC1:  // SAMPLE-AES AC-3
        case 0xC2:  // SAMPLE-AES E-AC-3
            return true;
        default:
            return false;
    }
}

bool names_id3(std::span<const std::uint8_t> descriptors) {
    static constexpr std::uint8_t id3[] = {'I', 'D', '3', ' '};
    return std::search(descriptors.begin(), descriptors.end(), std::begin(id3), std::end(id3)) !=
           descriptors.end();
}

// Stream ids whose PES packets carry no optional header (13818-1 table 2-21).
bool has_optional_header(std::uint8_t stream_id) {
    return stream_id != 0xBC && stream_id != 0xBE && stream_id != 0xBF && stream_id != 0xF0 &&
           stream_id != 0xF1 && stream_id != 0xF2 && stream_id != 0xF8 && stream_id != 0xFF;
}

// The PTS of the PES header at the start of `b`, when it has one and `b` holds it.
std::optional<std::uint64_t> pes_pts(std::span<const std::uint8_t> b) {
    if (b.size() < pes_fixed + 5 || b[0] != 0 || b[1] != 0 || b[2] != 1) return std::nullopt;
    if (!has_optional_header(b[3]) || (b[7] & 0x80) == 0 || b[8] < 5) return std::nullopt;
    const std::uint8_t* p = b.data() + pes_fixed;
    return (static_cast<std::uint64_t>((p[0] >> 1) & 0x07) << 30) |
           (static_cast<std::uint64_t>(p[1]) << 22) |
           (static_cast<std::uint64_t>(p[2] >> 1) << 15) | (static_cast<std::uint64_t>(p[3]) << 7) |
           static_cast<std::uint64_t>(p[4] >> 1);
}

}  // namespace

double pts_seconds(std::uint64_t pts, std::uint64_t base) noexcept {
    const std::uint64_t d = (pts - base) & (pts_wrap - 1);
    if (d >= pts_wrap / 2) return 0;  // before base
    return static_cast<double>(d) / 90000.0;
}

result<> ts_metadata_scanner::feed(std::span<const std::uint8_t> bytes, std::vector<ts_tag>& out) {
    if (lost_) return {};
    while (!bytes.empty()) {
        if (partial_n_ > 0 || bytes.size() < packet_size) {
            const auto take = std::min(packet_size - partial_n_, bytes.size());
            std::memcpy(partial_.data() + partial_n_, bytes.data(), take);
            partial_n_ += take;
            bytes = bytes.subspan(take);
            if (partial_n_ < packet_size) return {};  // the rest of the packet comes later
            partial_n_ = 0;
            if (partial_[0] != 0x47) {
                lost_ = true;
                break;
            }
            packet(partial_.data(), out);
        } else {
            if (bytes[0] != 0x47) {
                lost_ = true;
                break;
            }
            packet(bytes.data(), out);
            bytes = bytes.subspan(packet_size);
        }
        offset_ += packet_size;
    }
    if (!lost_) return {};
    in_pes_ = false;
    pes_.clear();
    return fail(errc::bad_metadata,
                "MPEG-TS packet sync lost at offset " + std::to_string(offset_));
}

void ts_metadata_scanner::finish(std::vector<ts_tag>& out) {
    if (in_pes_) end_pes(out);
}

void ts_metadata_scanner::packet(const std::uint8_t* p, std::vector<ts_tag>& out) {
    if (p[1] & 0x80) return;  // transport_error_indicator: the packet is damaged
    const bool start = (p[1] & 0x40) != 0;
    const int pid = ((p[1] & 0x1F) << 8) | p[2];
    const int control = (p[3] >> 4) & 0x03;
    if ((control & 0x01) == 0) return;  // no payload
    std::size_t at = 4;
    if (control & 0x02) at += 1 + std::size_t{p[4]};
    if (at >= packet_size) return;
    const std::uint8_t* payload = p + at;
    const std::size_t n = packet_size - at;

    if (pid == 0 || pid == pmt_pid_) {
        if (start) section(payload, n, pid == 0);
        return;
    }
    if (pid == meta_pid_) {
        if (start) {
            if (in_pes_) end_pes(out);
            in_pes_ = true;
            pes_too_long_ = false;
            pes_.clear();
            pes_offset_ = offset_;
        }
        if (!in_pes_ || pes_too_long_) return;
        if (pes_.size() + n > max_pes_bytes) {
            pes_too_long_ = true;
            pes_.clear();
            out.push_back({pes_offset_, std::nullopt,
                           fail(errc::bad_metadata, "MPEG-TS timed-metadata PES at offset " +
                                                        std::to_string(pes_offset_) + " over " +
                                                        std::to_string(max_pes_bytes) + " bytes")});
            return;
        }
        pes_.insert(pes_.end(), payload, payload + n);
        // A stated length ends the PES as soon as it is whole (no wait for the next one).
        if (pes_.size() >= 6) {
            const std::size_t len = (std::size_t{pes_[4]} << 8) | pes_[5];
            if (len > 0 && pes_.size() >= 6 + len) end_pes(out);
        }
        return;
    }
    if (start && !audio_pts_ &&
        std::find(audio_pids_.begin(), audio_pids_.end(), pid) != audio_pids_.end())
        audio_pts_ = pes_pts({payload, n});
}

void ts_metadata_scanner::section(const std::uint8_t* payload, std::size_t n, bool pat) {
    // pointer_field, then the section; one that does not fit in this packet is left for the
    // next repetition of the table.
    const std::size_t at = 1 + std::size_t{payload[0]};
    if (at + 3 > n) return;
    const std::uint8_t* s = payload + at;
    const std::size_t len = ((std::size_t{s[1]} & 0x0F) << 8) | s[2];
    if (at + 3 + len > n || len < 9) return;
    const std::size_t end = 3 + len - 4;  // before the CRC
    if (pat) {
        if (s[0] != 0x00) return;
        for (std::size_t i = 8; i + 4 <= end; i += 4) {
            const int program = (s[i] << 8) | s[i + 1];
            if (program == 0) continue;  // the network PID
            pmt_pid_ = ((s[i + 2] & 0x1F) << 8) | s[i + 3];
            return;
        }
        return;
    }
    if (s[0] != 0x02 || len < 13) return;
    const std::size_t info = ((std::size_t{s[10]} & 0x0F) << 8) | s[11];
    audio_pids_.clear();
    meta_pid_ = -1;
    for (std::size_t i = 12 + info; i + 5 <= end;) {
        const std::uint8_t type = s[i];
        const int pid = ((s[i + 1] & 0x1F) << 8) | s[i + 2];
        const std::size_t es_info = ((std::size_t{s[i + 3]} & 0x0F) << 8) | s[i + 4];
        if (i + 5 + es_info > end) break;
        const std::span<const std::uint8_t> descriptors(s + i + 5, es_info);
        const bool id3 = names_id3(descriptors);
        if ((type == 0x15 && (id3 || es_info == 0)) || (type == 0x06 && id3)) {
            if (meta_pid_ < 0) meta_pid_ = pid;
        } else if (is_audio_type(type) && audio_pids_.size() < max_audio_pids) {
            audio_pids_.push_back(static_cast<std::uint16_t>(pid));
        }
        i += 5 + es_info;
    }
}

void ts_metadata_scanner::end_pes(std::vector<ts_tag>& out) {
    in_pes_ = false;
    if (pes_too_long_) return;
    std::span<const std::uint8_t> b(pes_);
    const auto where = "MPEG-TS timed-metadata PES at offset " + std::to_string(pes_offset_);
    if (b.size() < 6 || b[0] != 0 || b[1] != 0 || b[2] != 1) {
        out.push_back(
            {pes_offset_, std::nullopt, fail(errc::bad_metadata, where + ": no start code")});
        return;
    }
    const std::size_t len = (std::size_t{b[4]} << 8) | b[5];
    if (len > 0 && 6 + len < b.size()) b = b.first(6 + len);
    std::size_t body = 6;
    if (has_optional_header(b[3])) {
        if (b.size() < pes_fixed || pes_fixed + b[8] > b.size()) {
            out.push_back({pes_offset_, std::nullopt,
                           fail(errc::bad_metadata, where + ": truncated header")});
            return;
        }
        body = pes_fixed + b[8];
    }
    const auto pts = pes_pts(b);
    // The payload: one ID3 tag, or several back to back.
    std::size_t at = body;
    while (b.size() - at >= 10) {
        const auto size = id3_tag_size(b.subspan(at, 10));
        if (!size) {
            out.push_back({pes_offset_ + at, pts,
                           fail(errc::bad_metadata,
                                where + ": no ID3 tag at its byte " + std::to_string(at))});
            break;
        }
        out.push_back({pes_offset_ + at, pts, parse_id3(b.subspan(at), pes_offset_ + at)});
        at += std::min(*size, b.size() - at);
    }
    pes_.clear();
}

}  // namespace kithara::hls::detail
