#include "detail/flac_framer.hpp"

extern "C" {
#include <libavcodec/packet.h>
#include <libavformat/avio.h>
#include <libavutil/error.h>
}

#include <algorithm>
#include <array>
#include <cstring>

namespace kithara::decode::detail {
namespace {

constexpr std::size_t max_header_bytes = 16;  // 4 + 7 (number) + 2 (block) + 2 (rate) + 1 (CRC)
constexpr std::size_t read_bytes = 16 * 1024;

constexpr std::array<std::uint8_t, 256> crc8_table = [] {
    std::array<std::uint8_t, 256> t{};
    for (unsigned i = 0; i < 256; ++i) {
        unsigned c = i;
        for (int b = 0; b < 8; ++b) c = (c & 0x80) != 0 ? ((c << 1) ^ 0x07) : (c << 1);
        t[i] = static_cast<std::uint8_t>(c);
    }
    return t;
}();

// CRC-16 (polynomial 0x8005, FLAC's frame footer); over a whole frame, footer included, it is 0.
std::uint16_t crc16(const std::uint8_t* p, std::size_t n) {
    unsigned crc = 0;
    for (std::size_t i = 0; i < n; ++i) {
        crc ^= static_cast<unsigned>(p[i]) << 8;
        for (int b = 0; b < 8; ++b) crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x8005) : (crc << 1);
    }
    return static_cast<std::uint16_t>(crc & 0xFFFF);
}

// Channel assignment 0-7: that many channels minus one; 8-10: stereo decorrelation modes, which
// may change from frame to frame.
unsigned flac_channels(unsigned code) {
    return code < 8 ? code + 1 : 2;
}

bool is_sync(const std::uint8_t* p) {
    return p[0] == 0xFF && (p[1] & 0xFE) == 0xF8;
}

}  // namespace

std::optional<flac_frame_header> parse_flac_frame_header(const std::uint8_t* p, std::size_t n) {
    if (n < 6 || !is_sync(p)) return std::nullopt;
    flac_frame_header h;
    h.variable = (p[1] & 1) != 0;
    const unsigned bs_code = p[2] >> 4;
    h.rate_code = static_cast<std::uint8_t>(p[2] & 15);
    h.channel_code = static_cast<std::uint8_t>(p[3] >> 4);
    const unsigned sample_size = (p[3] >> 1) & 7;
    if (bs_code == 0 || h.rate_code == 15 || h.channel_code > 10 || sample_size == 3 ||
        (p[3] & 1) != 0)
        return std::nullopt;
    // The coded number: UTF-8-like, 1 to 7 bytes.
    std::size_t i = 4;
    const std::uint8_t lead = p[i++];
    std::size_t extra = 0;
    std::uint64_t v = 0;
    if ((lead & 0x80) == 0) {
        v = lead;
    } else if (lead == 0xFE) {
        extra = 6;
    } else {
        unsigned ones = 0;
        while (ones < 8 && (lead & (0x80u >> ones)) != 0) ++ones;
        if (ones < 2 || ones > 6) return std::nullopt;  // a continuation byte, or 0xFF
        extra = ones - 1;
        v = lead & (0xFFu >> (ones + 1));
    }
    if (extra > 5 && !h.variable) return std::nullopt;  // frame numbers fit 31 bits
    if (n < i + extra + 1) return std::nullopt;
    for (std::size_t k = 0; k < extra; ++k) {
        const std::uint8_t c = p[i++];
        if ((c & 0xC0) != 0x80) return std::nullopt;
        v = (v << 6) | (c & 0x3F);
    }
    h.number = v;
    if (bs_code == 1) {
        h.block = 192;
    } else if (bs_code <= 5) {
        h.block = 576u << (bs_code - 2);
    } else if (bs_code == 6) {
        if (n < i + 1) return std::nullopt;
        h.block = p[i++] + 1u;
    } else if (bs_code == 7) {
        if (n < i + 2) return std::nullopt;
        h.block = ((static_cast<unsigned>(p[i]) << 8) | p[i + 1]) + 1u;
        i += 2;
    } else {
        h.block = 256u << (bs_code - 8);
    }
    if (h.rate_code == 12) {
        i += 1;
    } else if (h.rate_code == 13 || h.rate_code == 14) {
        i += 2;
    }
    if (n < i + 1) return std::nullopt;
    std::uint8_t crc = 0;
    for (std::size_t k = 0; k < i; ++k) crc = crc8_table[crc ^ p[k]];
    if (crc != p[i]) return std::nullopt;
    return h;
}

void flac_framer::reset() {
    begin_ = end_ = 0;
    eof_ = false;
}

int flac_framer::fill(AVIOContext* pb) {
    if (eof_) return AVERROR_EOF;
    if (begin_ > 0 && (begin_ >= buf_.size() / 2 || end_ + read_bytes > buf_.size())) {
        std::memmove(buf_.data(), buf_.data() + begin_, size());
        end_ -= begin_;
        begin_ = 0;
    }
    if (buf_.size() < end_ + read_bytes) buf_.resize(end_ + read_bytes);
    const int n = avio_read_partial(pb, buf_.data() + end_, static_cast<int>(read_bytes));
    if (n > 0) {
        end_ += static_cast<std::size_t>(n);
        return n;
    }
    if (n == 0 || n == AVERROR_EOF || avio_feof(pb)) {
        eof_ = true;
        return AVERROR_EOF;
    }
    return n;
}

int flac_framer::next(AVIOContext* pb, AVPacket* pkt, int stream_index) {
    // A valid header at begin_; bytes before one (garbage after a cut, a seek's slack) are
    // skipped.
    std::optional<flac_frame_header> head;
    for (;;) {
        while (size() < max_header_bytes && !eof_) {
            if (int r = fill(pb); r < 0 && r != AVERROR_EOF) return r;
        }
        if (size() < 2) {
            begin_ = end_;
            return AVERROR_EOF;
        }
        if ((head = parse_flac_frame_header(buf_.data() + begin_, size()))) break;
        const auto* from = buf_.data() + begin_ + 1;
        const auto* ff = static_cast<const std::uint8_t*>(std::memchr(from, 0xFF, size() - 1));
        begin_ = ff == nullptr ? end_ : static_cast<std::size_t>(ff - buf_.data());
    }
    const std::uint64_t expected = head->variable ? head->number + head->block : head->number + 1;
    // No frame is longer than its samples stored verbatim (at most 32 bits each) plus headers.
    const unsigned channels = flac_channels(head->channel_code);
    const std::size_t bound =
        std::min<std::size_t>(max_frame_bytes, std::size_t{head->block} * channels * 4 + 1024);
    // The frame ends at the next header carrying the expected number (or, failing that, at the
    // first other valid header of the same stream), or at the end of the input.
    std::size_t p = begin_ + 6;
    std::optional<std::size_t> weak;
    std::size_t end = 0;
    for (;;) {
        if (p + max_header_bytes > end_ && !eof_) {
            const std::size_t off = p - begin_;
            const std::size_t weak_off = weak ? *weak - begin_ : 0;
            if (int r = fill(pb); r < 0 && r != AVERROR_EOF) return r;
            p = begin_ + off;  // fill may have moved the bytes
            if (weak) weak = begin_ + weak_off;
            continue;
        }
        if (p + 1 >= end_) {
            // The last frame, unless a header with another number cut it (a whole frame before
            // it: its CRC-16 holds).
            end = weak && crc16(buf_.data() + begin_, *weak - begin_) == 0 ? *weak : end_;
            break;
        }
        const auto* at =
            static_cast<const std::uint8_t*>(std::memchr(buf_.data() + p, 0xFF, end_ - p - 1));
        if (at == nullptr) {
            p = end_ - 1;
            continue;
        }
        p = static_cast<std::size_t>(at - buf_.data());
        if (p + max_header_bytes > end_ && !eof_) continue;  // read the whole candidate first
        if (auto h = parse_flac_frame_header(at, end_ - p);
            h && h->variable == head->variable && h->rate_code == head->rate_code &&
            flac_channels(h->channel_code) == channels) {
            if (h->number == expected) {
                end = p;
                break;
            }
            // Another number (a cut or a corrupt stream): the boundary if no expected header
            // follows within the bound.
            if (!weak && h->number > head->number) weak = p;
        }
        ++p;
        if (p - begin_ > bound) {
            end = weak.value_or(p);  // a damaged frame: the decoder rejects it, then resync
            break;
        }
    }
    const std::size_t n = end - begin_;
    if (int r = av_new_packet(pkt, static_cast<int>(n)); r < 0) return r;
    std::memcpy(pkt->data, buf_.data() + begin_, n);
    begin_ = end;
    const std::uint64_t block = fixed_block_ != 0 ? fixed_block_ : head->block;
    const std::uint64_t first = head->variable ? head->number : head->number * block;
    pkt->pts = pkt->dts = static_cast<std::int64_t>(first);
    pkt->duration = head->block;
    pkt->stream_index = stream_index;
    return 0;
}

}  // namespace kithara::decode::detail
