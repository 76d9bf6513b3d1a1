// Packed audio: ID3 tags found between audio frames, walked by the frames' real lengths.
#include "detail/packed_scanner.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace kithara::hls::detail {

namespace {

constexpr std::size_t max_header_bytes = 7;  // the longest header parse_audio_frame_header reads
constexpr std::size_t id3v1_bytes = 128;

constexpr std::array<std::uint32_t, 13> adts_rates = {
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350};

// kbit/s by bitrate index 1-14: [MPEG-1 layer I, II, III, MPEG-2/2.5 layer I, layer II and III].
constexpr std::uint16_t mpeg_bitrates[5][14] = {
    {32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
    {32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
    {32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
    {32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
    {8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
};

// AC-3 kbit/s by frmsizecod / 2.
constexpr std::array<std::uint16_t, 19> ac3_bitrates = {
    32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640};
constexpr std::array<std::uint32_t, 3> ac3_rates = {48000, 44100, 32000};

std::optional<audio_frame_header> adts(std::span<const std::uint8_t> h) {
    if (h.size() < 7 || h[0] != 0xFF || (h[1] & 0xF6) != 0xF0) return std::nullopt;
    const unsigned rate_index = (h[2] >> 2) & 0x0F;
    if (rate_index >= adts_rates.size()) return std::nullopt;
    const std::size_t header = (h[1] & 1) ? 7 : 9;
    const std::size_t length =
        static_cast<std::size_t>(h[3] & 3) << 11 | static_cast<std::size_t>(h[4]) << 3 | h[5] >> 5;
    if (length < header) return std::nullopt;
    audio_frame_header f;
    f.codec = audio_codec::adts;
    f.length = length;
    f.samples = 1024u * ((h[6] & 3u) + 1u);
    f.sample_rate = adts_rates[rate_index];
    f.channels = static_cast<std::uint8_t>((h[2] & 1) << 2 | h[3] >> 6);
    return f;
}

std::optional<audio_frame_header> mpeg(std::span<const std::uint8_t> h) {
    if (h.size() < 4 || h[0] != 0xFF || (h[1] & 0xE0) != 0xE0) return std::nullopt;
    const unsigned version_bits = (h[1] >> 3) & 3;  // 0: 2.5, 1: reserved, 2: 2, 3: 1
    const unsigned layer_bits = (h[1] >> 1) & 3;    // 0: reserved, 1: III, 2: II, 3: I
    const unsigned bitrate_index = h[2] >> 4;
    const unsigned rate_index = (h[2] >> 2) & 3;
    if (version_bits == 1 || layer_bits == 0 || bitrate_index == 0 || bitrate_index == 15 ||
        rate_index == 3 || (h[3] & 3) == 2)
        return std::nullopt;  // reserved values, free format, reserved emphasis
    const unsigned layer = 4 - layer_bits;
    const bool mpeg1 = version_bits == 3;
    const unsigned table = mpeg1 ? layer - 1 : (layer == 1 ? 3 : 4);
    const std::uint32_t kbps = mpeg_bitrates[table][bitrate_index - 1];
    const std::uint32_t base_rates[3] = {44100, 48000, 32000};
    const std::uint32_t rate = base_rates[rate_index] >> (mpeg1 ? 0 : version_bits == 2 ? 1 : 2);
    const std::uint32_t padding = (h[2] >> 1) & 1;
    audio_frame_header f;
    f.codec = audio_codec::mpeg_audio;
    f.layer = static_cast<std::uint8_t>(layer);
    f.version = static_cast<std::uint8_t>(mpeg1 ? 1 : version_bits == 2 ? 2 : 25);
    f.sample_rate = rate;
    f.channels = (h[3] >> 6) == 3 ? 1 : 2;
    if (layer == 1) {
        f.samples = 384;
        f.length = (12 * kbps * 1000 / rate + padding) * 4;
    } else {
        f.samples = (layer == 3 && !mpeg1) ? 576 : 1152;
        const std::uint32_t k = (layer == 3 && !mpeg1) ? 72 : 144;
        f.length = k * kbps * 1000 / rate + padding;
    }
    if (f.length < 4) return std::nullopt;
    return f;
}

std::optional<audio_frame_header> dolby(std::span<const std::uint8_t> h) {
    if (h.size() < 6 || h[0] != 0x0B || h[1] != 0x77) return std::nullopt;
    const unsigned bsid = h[5] >> 3;
    audio_frame_header f;
    if (bsid <= 10) {  // AC-3 (9 and 10: half and quarter sample rate)
        const unsigned fscod = h[4] >> 6;
        const unsigned frmsizecod = h[4] & 0x3F;
        if (fscod == 3 || frmsizecod >= 2 * ac3_bitrates.size()) return std::nullopt;
        const std::uint32_t kbps = ac3_bitrates[frmsizecod / 2];
        std::uint32_t words = 0;  // 16-bit words: bitrate × 1536 samples / rate / 16
        if (fscod == 0) words = kbps * 2;
        if (fscod == 1) words = kbps * 320 / 147 + (frmsizecod & 1);
        if (fscod == 2) words = kbps * 3;
        f.codec = audio_codec::ac3;
        f.length = std::size_t{words} * 2;
        f.samples = 1536;
        f.sample_rate = ac3_rates[fscod] >> (bsid > 8 ? bsid - 8 : 0);
        return f;
    }
    if (bsid > 16) return std::nullopt;
    const unsigned strmtyp = h[2] >> 6;
    const unsigned substreamid = (h[2] >> 3) & 7;
    if (strmtyp == 3) return std::nullopt;
    const std::size_t frmsiz = static_cast<std::size_t>(h[2] & 7) << 8 | h[3];
    const unsigned fscod = h[4] >> 6;
    unsigned blocks = 6;
    if (fscod == 3) {
        const unsigned fscod2 = (h[4] >> 4) & 3;
        if (fscod2 == 3) return std::nullopt;
        const std::uint32_t reduced[3] = {24000, 22050, 16000};
        f.sample_rate = reduced[fscod2];
    } else {
        const unsigned numblks[4] = {1, 2, 3, 6};
        blocks = numblks[(h[4] >> 4) & 3];
        f.sample_rate = ac3_rates[fscod];
    }
    f.codec = audio_codec::eac3;
    f.length = (frmsiz + 1) * 2;
    // A dependent substream, or another programme's independent one, adds no time.
    f.samples = (strmtyp != 1 && substreamid == 0) ? 256 * blocks : 0;
    return f;
}

bool same_family(const audio_frame_header& a, const audio_frame_header& b) {
    auto family = [](audio_codec c) { return c == audio_codec::eac3 ? audio_codec::ac3 : c; };
    return family(a.codec) == family(b.codec) && a.sample_rate == b.sample_rate &&
           a.layer == b.layer && a.version == b.version;
}

// A Xing, Info or VBRI header in an MPEG layer III frame (decoders skip the frame).
bool is_info_frame(const audio_frame_header& h, std::span<const std::uint8_t> frame) {
    if (h.codec != audio_codec::mpeg_audio || h.layer != 3) return false;
    const std::size_t side =
        h.version == 1 ? (h.channels == 1 ? 17 : 32) : (h.channels == 1 ? 9 : 17);
    auto tag_at = [&](std::size_t at, const char* tag) {
        return frame.size() >= at + 4 && std::memcmp(frame.data() + at, tag, 4) == 0;
    };
    for (std::size_t at : {4 + side, 6 + side})
        if (tag_at(at, "Xing") || tag_at(at, "Info")) return true;
    return tag_at(36, "VBRI");
}

}  // namespace

std::optional<audio_frame_header> parse_audio_frame_header(std::span<const std::uint8_t> head) {
    if (head.size() < 4) return std::nullopt;
    if (head[0] == 0x0B) return dolby(head);
    if (head[0] != 0xFF) return std::nullopt;
    if ((head[1] & 0xF6) == 0xF0) return adts(head);
    return mpeg(head);
}

double packed_audio_scanner::seconds() const noexcept {
    return done_seconds_ + (run_rate_ ? static_cast<double>(run_samples_) / run_rate_ : 0.0);
}

void packed_audio_scanner::consume(std::size_t n) {
    head_ += n;
    pos_ += n;
}

void packed_audio_scanner::garbage(std::size_t n) {
    if (synced_) ++resyncs_;
    synced_ = false;
    skipped_ += n;
    consume(n);
}

void packed_audio_scanner::report(std::vector<scanned_tag>& out, std::size_t size,
                                  result<id3_tag> tag) const {
    out.push_back(scanned_tag{pos_, size, frames_, samples_, seconds(), std::move(tag)});
}

bool packed_audio_scanner::compatible(const audio_frame_header& h) const {
    return locked_.codec != audio_codec::unknown && same_family(h, locked_);
}

packed_audio_scanner::boundary packed_audio_scanner::boundary_at(std::size_t at,
                                                                 bool at_end) const {
    if (at > buf_.size()) return at_end ? boundary::no : boundary::need_more;
    const std::size_t avail = buf_.size() - at;
    if (avail == 0) return at_end ? boundary::yes : boundary::need_more;
    const std::span<const std::uint8_t> rest(buf_.data() + at, avail);
    if (avail < id3_header_bytes && !at_end) return boundary::need_more;
    if (id3_tag_size(rest)) return boundary::yes;
    if (avail < max_header_bytes && at_end) return boundary::yes;  // a few trailing bytes
    return boundary::no;
}

void packed_audio_scanner::feed(std::span<const std::uint8_t> bytes,
                                std::vector<scanned_tag>& out) {
    seen_ += bytes.size();
    if (head_ == buf_.size() && skip_ > 0) {  // pass over without copying
        const auto d = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, bytes.size()));
        pos_ += d;
        skip_ -= d;
        bytes = bytes.subspan(d);
        if (skip_ == 0 && pending_) {
            count(*pending_);
            pending_.reset();
        }
    }
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
    process(false, out);
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
}

void packed_audio_scanner::finish(std::vector<scanned_tag>& out) {
    process(true, out);
    pending_.reset();  // a last frame cut short is not counted
    buf_.clear();
    head_ = 0;
}

void packed_audio_scanner::count(const audio_frame_header& h) {
    ++frames_;
    samples_ += h.samples;
    if (h.sample_rate != run_rate_) {
        done_seconds_ = seconds();
        run_rate_ = h.sample_rate;
        run_samples_ = 0;
    }
    run_samples_ += h.samples;
}

void packed_audio_scanner::process(bool at_end, std::vector<scanned_tag>& out) {
    for (;;) {
        const std::size_t avail = buf_.size() - head_;
        if (skip_ > 0) {
            const auto d = static_cast<std::size_t>(std::min<std::uint64_t>(skip_, avail));
            consume(d);
            skip_ -= d;
            if (skip_ > 0) return;
            if (pending_) {
                count(*pending_);
                pending_.reset();
            }
            continue;
        }
        if (avail == 0) return;
        const std::span<const std::uint8_t> rest(buf_.data() + head_, avail);
        if (rest[0] == 'I' && (avail < 2 || rest[1] == 'D') && (avail < 3 || rest[2] == '3')) {
            if (avail < id3_header_bytes && !at_end) return;
            if (avail < id3_header_bytes && avail >= 3) {  // a tag header cut by the end
                report(out, avail, parse_id3(rest, pos_));
                consume(avail);
                return;
            }
            if (avail >= id3_header_bytes) {
                const auto size = id3_tag_size(rest);
                if (!size) {  // "ID3" and a broken header: reported, then passed over as garbage
                    report(out, id3_header_bytes, parse_id3(rest.first(id3_header_bytes), pos_));
                    garbage(1);
                    continue;
                }
                if (*size > max_tag_bytes_) {  // reported and skipped, never buffered
                    report(out, *size,
                           parse_id3(rest.first(id3_header_bytes), pos_, max_tag_bytes_));
                    const std::size_t d = std::min(*size, avail);
                    consume(d);
                    skip_ = *size - d;
                    synced_ = true;
                    continue;
                }
                // The bytes just after the tag too: a tag declared short takes its last frame's
                // end from there (the scanner then resyncs over them).
                const std::size_t with_slack = *size + id3_short_tag_slack;
                if (avail < with_slack && !at_end) return;
                report(out, *size,
                       parse_id3(rest.first(std::min(with_slack, avail)), pos_, max_tag_bytes_,
                                 id3_short_tag_slack));
                consume(std::min(*size, avail));
                synced_ = true;
                continue;
            }
        }
        if (avail < max_header_bytes && !at_end) return;
        // An ID3v1 tag (128 bytes from "TAG") ends an MP3 stream: not audio, not garbage. Until
        // the end is known, bytes that could be one wait.
        if (avail >= 3 && avail <= id3v1_bytes && std::memcmp(rest.data(), "TAG", 3) == 0) {
            if (!at_end) return;
            if (avail == id3v1_bytes) {
                consume(avail);
                return;
            }
        }
        const auto h = parse_audio_frame_header(rest);
        if (!h) {
            garbage(1);
            continue;
        }
        if (!(synced_ && compatible(*h))) {
            // Outside sync: trusted only when a frame of the same stream or a tag follows it.
            const std::size_t next = head_ + h->length;
            boundary b = boundary_at(next, at_end);
            if (b == boundary::no && next + max_header_bytes <= buf_.size()) {
                const auto n = parse_audio_frame_header(
                    std::span<const std::uint8_t>(buf_.data() + next, buf_.size() - next));
                if (n && same_family(*n, *h)) b = boundary::yes;
            } else if (b == boundary::no && next < buf_.size() && !at_end) {
                b = boundary::need_more;
            }
            if (b == boundary::need_more) return;
            if (b == boundary::no) {
                garbage(1);
                continue;
            }
        }
        audio_frame_header counted = *h;
        if (frames_ == 0 && !pending_ &&
            is_info_frame(*h, rest.first(std::min(avail, h->length)))) {
            counted.samples = 0;
            info_frame_ = true;
        }
        locked_ = *h;
        synced_ = true;
        pending_ = counted;
        skip_ = h->length;
    }
}

}  // namespace kithara::hls::detail
