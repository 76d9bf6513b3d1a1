// libFuzzer target for the timed-metadata parsers: any bytes as an ID3 tag, as a packed-audio
// segment (scanned whole and again in chunks: the answers must be the same), as an MPEG-TS segment
// (its timed-metadata stream, whole against chunked), as an fMP4 segment's
// boxes (walked whole and again as it arrives: the same emsg boxes; the init's timescale and a
// moof's decode time read), or as a playlist whose
// DATERANGEs and titles are placed. Built in the asan preset only (clang, -fsanitize=fuzzer).
//
// Input: byte 0 mode (bits 0-1: 0 ID3, 1 packed audio, 2 emsg, 3 playlist; bit 2: small limits;
// bit 3: MPEG-TS, whatever bits 0-2 say),
// byte 1 the chunk size for the incremental passes, then the payload.
// Checks beyond "no crash, no sanitizer report": text comes out as valid UTF-8; parsed sizes stay
// within the input; chunked and whole passes agree.
#include "detail/emsg.hpp"
#include "detail/id3.hpp"
#include "detail/packed_scanner.hpp"
#include "detail/timed_metadata.hpp"
#include "detail/ts_scanner.hpp"

#include <kithara/hls/parser.hpp>
#include <kithara/hls/timed_metadata.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace {

using namespace kithara::hls;

// An invariant of the parsers: a failure names its line before aborting (the fuzzer's crash).
void check_at(bool ok, int line) {
    if (ok) return;
    std::fprintf(stderr, "metadata_fuzz.cpp:%d: invariant failed\n", line);
    std::abort();
}
#define check(ok) check_at((ok), __LINE__)

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        if (c >= 0x80) {
            if ((c & 0xE0) == 0xC0) {
                n = 1;
            } else if ((c & 0xF0) == 0xE0) {
                n = 2;
            } else if ((c & 0xF8) == 0xF0) {
                n = 3;
            } else {
                return false;
            }
        }
        if (s.size() - i < n + 1) return false;
        for (std::size_t k = 1; k <= n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

void check_tag(const detail::id3_tag& t, std::size_t input) {
    check(t.size <= input && t.frames.size() <= detail::max_id3_frames);
    for (const auto& f : t.frames) {
        check(f.data.size() <= t.size);
        if (auto text = frame_text(f)) check(valid_utf8(*text));
    }
    (void)detail::transport_stream_timestamp(t);
    const auto m = detail::id3_metadata(t, 0);
    check(valid_utf8(m.title) && valid_utf8(m.artist));
}

void fuzz_id3(std::span<const std::uint8_t> in, bool small) {
    const std::size_t limit = small ? 256 : detail::max_id3_tag_bytes;
    auto t = detail::parse_id3(in, 7, limit);
    if (t) {
        check(t->size <= limit);
        check_tag(*t, in.size());
    } else {
        check(!t.error().message().empty());
    }
}

struct scan_out {
    std::vector<detail::scanned_tag> tags;
    std::uint64_t frames, samples, skipped, resyncs;
};

scan_out scan(std::span<const std::uint8_t> in, std::size_t chunk, std::size_t limit) {
    detail::packed_audio_scanner s(limit);
    scan_out o{};
    for (std::size_t at = 0; at < in.size(); at += chunk)
        s.feed(in.subspan(at, std::min(chunk, in.size() - at)), o.tags);
    s.finish(o.tags);
    check(s.bytes_seen() == in.size());
    o.frames = s.frames();
    o.samples = s.samples();
    o.skipped = s.skipped_bytes();
    o.resyncs = s.resyncs();
    return o;
}

void fuzz_packed(std::span<const std::uint8_t> in, std::size_t chunk, bool small) {
    const std::size_t limit = small ? 200 : detail::max_id3_tag_bytes;
    auto whole = scan(in, in.size() + 1, limit);
    const auto parts = scan(in, chunk, limit);
    check(whole.frames == parts.frames && whole.samples == parts.samples);
    check(whole.skipped == parts.skipped && whole.resyncs == parts.resyncs);
    check(whole.tags.size() == parts.tags.size());
    std::uint64_t last = 0;
    for (std::size_t i = 0; i < whole.tags.size(); ++i) {
        const auto& a = whole.tags[i];
        const auto& b = parts.tags[i];
        check(a.offset == b.offset && a.size == b.size && a.frames_before == b.frames_before &&
              a.samples_before == b.samples_before && a.tag.has_value() == b.tag.has_value());
        check(a.offset >= last && a.offset < in.size() + 1);
        last = a.offset;
        if (a.tag) {
            check(a.tag->frames == b.tag->frames);
            check_tag(*a.tag, in.size());
        }
    }
    std::vector<kithara::error> errors;
    const auto items = detail::packed_metadata(whole.tags, 3.0, &errors);
    for (const auto& m : items) check(m.time >= 3.0);
}

void fuzz_emsg(std::span<const std::uint8_t> in, std::size_t chunk) {
    if (auto ts = detail::media_timescale(in)) check(*ts != 0);
    (void)detail::fragment_decode_time(in);
    auto whole = detail::find_emsg(in, 0, true);
    detail::emsg_dedup dedup(4, 2);
    if (whole) {
        check(whole->next >= in.size());
        for (const auto& b : whole->boxes) {
            check(b.offset < in.size() && b.event.timescale != 0);
            auto m = detail::emsg_metadata(b, {.segment_start = 1.0});
            if (m) check(valid_utf8(m->title) && valid_utf8(m->artist));
            (void)dedup.first_time(b.event);
        }
    }
    // As it arrives: the same boxes when the whole walk succeeds.
    std::vector<std::uint64_t> offsets;
    std::uint64_t next = 0;
    bool failed = false;
    for (std::size_t have = chunk;; have += chunk) {
        const bool complete = have >= in.size();
        auto part = detail::find_emsg(in.first(std::min(have, in.size())), next, complete);
        if (!part) {
            failed = true;
            break;
        }
        check(part->next >= next);
        for (const auto& b : part->boxes) offsets.push_back(b.offset);
        next = part->next;
        if (complete) break;
    }
    if (whole) {
        check(!failed);
        check(offsets.size() == whole->boxes.size());
        for (std::size_t i = 0; i < offsets.size(); ++i)
            check(offsets[i] == whole->boxes[i].offset);
    }
}

struct ts_out {
    std::vector<detail::ts_tag> tags;
    std::optional<std::uint64_t> audio_pts;
    bool failed = false;
};

ts_out scan_ts(std::span<const std::uint8_t> in, std::size_t chunk) {
    detail::ts_metadata_scanner s;
    ts_out o;
    for (std::size_t at = 0; at < in.size(); at += chunk)
        if (!s.feed(in.subspan(at, std::min(chunk, in.size() - at)), o.tags)) o.failed = true;
    s.finish(o.tags);
    o.audio_pts = s.first_audio_pts();
    return o;
}

void fuzz_ts(std::span<const std::uint8_t> in, std::size_t chunk) {
    const auto whole = scan_ts(in, in.size() + 1);
    const auto parts = scan_ts(in, chunk);
    check(whole.failed == parts.failed && whole.audio_pts == parts.audio_pts);
    check(whole.tags.size() == parts.tags.size());
    for (std::size_t i = 0; i < whole.tags.size(); ++i) {
        const auto& a = whole.tags[i];
        const auto& b = parts.tags[i];
        check(a.offset == b.offset && a.pts == b.pts && a.tag.has_value() == b.tag.has_value());
        check(a.offset < in.size());
        if (a.tag) {
            check(a.tag->frames == b.tag->frames);
            check_tag(*a.tag, in.size());
        }
        if (a.pts && whole.audio_pts) {
            const double s = detail::pts_seconds(*a.pts, *whole.audio_pts);
            check(s >= 0 && s < 47721.9);  // half the 33-bit clock
        }
    }
}

void fuzz_playlist(std::span<const std::uint8_t> in) {
    const std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
    (void)detail::parse_date_time(text);
    auto p = parse_playlist(text, "https://example.com/a/index.m3u8");
    if (!p || p->is_master()) return;
    const auto r = playlist_metadata(p->media(), 5.0);
    for (std::size_t i = 1; i < r.items.size(); ++i) check(r.items[i - 1].time <= r.items[i].time);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t mode = data[0];
    const std::size_t chunk = std::size_t{data[1]} + 1;
    const std::span<const std::uint8_t> in(data + 2, size - 2);
    const bool small = (mode & 4) != 0;
    if (mode & 8) {
        fuzz_ts(in, chunk);
        return 0;
    }
    switch (mode & 3) {
        case 0:
            fuzz_id3(in, small);
            break;
        case 1:
            fuzz_packed(in, chunk, small);
            break;
        case 2:
            fuzz_emsg(in, chunk);
            break;
        default:
            fuzz_playlist(in);
            break;
    }
    return 0;
}
