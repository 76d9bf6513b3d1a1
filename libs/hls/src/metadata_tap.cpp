// metadata_tap: in-band timed metadata (packed-audio ID3, fMP4 emsg, MPEG-TS ID3) scanned as a
// segment is read.
#include "detail/metadata_tap.hpp"

#include "detail/timed_metadata.hpp"

#include <kithara/detail/log.hpp>

#include <algorithm>
#include <array>
#include <cstring>

namespace kithara::hls::detail {

metadata_tap::metadata_tap(std::shared_ptr<stream::source> inner, kind k, double segment_start,
                           std::string label, sink out, timescale_source timescale)
    : inner_(std::move(inner)),
      kind_(k),
      segment_start_(segment_start),
      label_(std::move(label)),
      sink_(std::move(out)),
      timescale_source_(std::move(timescale)) {}

result<std::size_t> metadata_tap::read_at(std::uint64_t offset, std::span<std::byte> out) {
    auto n = inner_->read_at(offset, out);
    if (!n || *n == 0) return n;
    std::vector<timed_metadata> found;
    std::uint64_t from = 0;
    {
        std::lock_guard lock(mutex_);
        if (stopped_ || offset + *n <= fed_) return n;
        from = fed_;
    }
    // A forward jump (a demuxer skipping ahead): the bytes in between are scanned first, read
    // once more through a fixed window (they are in the cache: the reader is past them), with
    // no lock held; if they cannot be read now, the scan of this segment ends.
    std::array<std::uint8_t, 4096> window{};
    while (from < offset) {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(window.size(), offset - from));
        auto got =
            inner_->read_at(from, std::span(reinterpret_cast<std::byte*>(window.data()), want));
        std::lock_guard lock(mutex_);
        if (!got || *got == 0) {
            stop("the bytes before offset " + std::to_string(offset) + " are not readable");
            break;
        }
        observe(from, std::span(window.data(), *got), found);
        from += *got;
    }
    bool ask = false;
    {
        std::lock_guard lock(mutex_);
        observe(offset, std::span(reinterpret_cast<const std::uint8_t*>(out.data()), *n), found);
        ask = !pending_v1_.empty() && !timescale_asked_;
        if (ask) timescale_asked_ = true;
    }
    if (ask) {
        // emsg version 1 needs the init section's timescale: read now, with no lock held.
        auto ts = timescale_source_ ? timescale_source_() : std::nullopt;
        std::lock_guard lock(mutex_);
        timescale_ = ts;
        place_v1(found);
    }
    if (!found.empty() && sink_) sink_(std::move(found));
    return n;
}

void metadata_tap::observe(std::uint64_t offset, std::span<const std::uint8_t> bytes,
                           std::vector<timed_metadata>& found) {
    if (stopped_ || offset + bytes.size() <= fed_) return;  // seen (a demuxer reading back)
    if (offset > fed_) {  // a gap no read filled (another reader jumped meanwhile)
        stop("a gap before offset " + std::to_string(offset));
        return;
    }
    bytes = bytes.subspan(static_cast<std::size_t>(fed_ - offset));
    fed_ += bytes.size();
    switch (kind_) {
        case kind::packed:
            feed(bytes, found);
            break;
        case kind::fmp4:
            feed_boxes(bytes, found);
            break;
        case kind::ts:
            feed_ts(bytes, found);
            break;
    }
}

void metadata_tap::feed(std::span<const std::uint8_t> bytes, std::vector<timed_metadata>& found) {
    scanner_.feed(bytes, tags_);
    if (at_end()) {
        scanner_.finish(tags_);
        stopped_ = true;
    }
    if (tags_.empty()) return;
    std::vector<error> errors;
    auto items = packed_metadata(tags_, segment_start_, &errors);
    tags_.clear();
    for (const auto& e : errors)
        KITHARA_LOG_DEBUG("hls: {}: ID3 tag left out: {}", label_, e.message());
    for (auto& m : items) found.push_back(std::move(m));
}

void metadata_tap::feed_boxes(std::span<const std::uint8_t> bytes,
                              std::vector<timed_metadata>& found) {
    std::size_t i = 0;
    while (i < bytes.size() && !stopped_) {
        if (skip_ > 0) {
            const auto take =
                static_cast<std::size_t>(std::min<std::uint64_t>(skip_, bytes.size() - i));
            skip_ -= take;
            i += take;
            continue;
        }
        // The header first (8 bytes, 16 with a largesize), then an emsg box whole.
        std::size_t want = 8;
        auto h = read_box_header(box_, 0, box_at_, false);
        if (!h) {
            stop(h.error().message());
            return;
        }
        if (*h) {
            const auto& hd = **h;
            if (hd.size == 0) {  // to the end of the segment: nothing after it to walk
                stopped_ = true;
                return;
            }
            const bool emsg = std::memcmp(hd.type.data(), "emsg", 4) == 0;
            const bool moof = !moof_seen_ && std::memcmp(hd.type.data(), "moof", 4) == 0;
            if (moof && hd.size > max_moof_bytes) {
                moof_seen_ = true;  // no decode time: version 1 events cannot be placed
                KITHARA_LOG_DEBUG("hls: {}: moof at offset {} over {} bytes, not read", label_,
                                  box_at_, max_moof_bytes);
                place_v1(found);
            }
            if (!(emsg && hd.size <= max_emsg_bytes) && !(moof && hd.size <= max_moof_bytes)) {
                if (emsg)
                    KITHARA_LOG_DEBUG("hls: {}: emsg at offset {} over {} bytes, left out", label_,
                                      box_at_, max_emsg_bytes);
                skip_ = hd.size - box_.size();
                box_at_ += hd.size;
                box_.clear();
                continue;
            }
            want = static_cast<std::size_t>(hd.size);
        } else if (box_.size() >= 8) {
            want = 16;  // a largesize follows
        }
        const auto take = std::min(want - box_.size(), bytes.size() - i);
        box_.insert(box_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(i),
                    bytes.begin() + static_cast<std::ptrdiff_t>(i + take));
        i += take;
        if (!*h || box_.size() < want) continue;
        if (std::memcmp(box_.data() + 4, "moof", 4) == 0) {  // the first fragment's header
            moof_seen_ = true;
            decode_time_ = fragment_decode_time(box_);
            box_at_ += box_.size();
            box_.clear();
            place_v1(found);
            continue;
        }
        // An emsg box is whole.
        auto b = parse_emsg(box_, box_at_);
        box_at_ += box_.size();
        box_.clear();
        if (!b) {
            KITHARA_LOG_DEBUG("hls: {}: {}", label_, b.error().message());
            continue;
        }
        if (b->event.version == 1) {
            // An absolute media time: placed through the first fragment's decode time and the
            // init section's timescale (the segment's start is that decode time).
            if (pending_v1_.size() < max_pending_v1) {
                pending_v1_.push_back(std::move(*b));
            } else {
                KITHARA_LOG_DEBUG("hls: {}: over {} emsg version 1 boxes waiting, one left out",
                                  label_, max_pending_v1);
            }
            place_v1(found);
            continue;
        }
        auto m = emsg_metadata(*b, emsg_clock{segment_start_, 0});
        if (!m) {
            KITHARA_LOG_DEBUG("hls: {}: {}", label_, m.error().message());
            continue;
        }
        found.push_back(std::move(*m));
    }
}

void metadata_tap::feed_ts(std::span<const std::uint8_t> bytes,
                           std::vector<timed_metadata>& found) {
    if (auto r = ts_.feed(bytes, ts_tags_); !r) stop(r.error().message());
    if (at_end()) {
        ts_.finish(ts_tags_);
        stopped_ = true;
    }
    if (ts_tags_.size() > max_pending_ts_tags) {
        const auto drop = ts_tags_.size() - max_pending_ts_tags;
        KITHARA_LOG_DEBUG("hls: {}: {} MPEG-TS ID3 tags before any audio PTS, left out", label_,
                          drop);
        ts_tags_.erase(ts_tags_.begin(), ts_tags_.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    place_ts(found);
}

void metadata_tap::place_ts(std::vector<timed_metadata>& found) {
    const auto base = ts_.first_audio_pts();
    if (ts_tags_.empty() || (!base && !stopped_)) return;
    for (auto& t : ts_tags_) {
        if (!t.tag) {
            KITHARA_LOG_DEBUG("hls: {}: ID3 tag left out: {}", label_, t.tag.error().message());
            continue;
        }
        if (timestamp_only(*t.tag)) continue;
        const double after = base && t.pts ? pts_seconds(*t.pts, *base) : 0.0;
        found.push_back(id3_metadata(std::move(*t.tag), segment_start_ + after));
    }
    ts_tags_.clear();
}

void metadata_tap::place_v1(std::vector<timed_metadata>& found) {
    if (pending_v1_.empty()) return;
    if (!timescale_ || !decode_time_) {
        const bool never = (timescale_asked_ && !timescale_) || (moof_seen_ && !decode_time_) ||
                           (stopped_ && !decode_time_);
        if (never) {
            KITHARA_LOG_DEBUG(
                "hls: {}: {} emsg version 1 boxes left out: no {}", label_, pending_v1_.size(),
                timescale_ ? "moof/traf/tfdt decode time" : "media timescale in the init section");
            pending_v1_.clear();
        }
        return;
    }
    const emsg_clock clock{segment_start_, segment_start_ - static_cast<double>(*decode_time_) /
                                                                static_cast<double>(*timescale_)};
    for (const auto& b : pending_v1_) {
        auto m = emsg_metadata(b, clock);
        if (!m) {
            KITHARA_LOG_DEBUG("hls: {}: {}", label_, m.error().message());
            continue;
        }
        found.push_back(std::move(*m));
    }
    pending_v1_.clear();
}

bool metadata_tap::at_end() const {
    const auto len = inner_->length();
    return len && fed_ >= *len;
}

void metadata_tap::stop(const std::string& why) {
    KITHARA_LOG_DEBUG("hls: {}: in-band metadata scan ends: {}", label_, why);
    stopped_ = true;
}

}  // namespace kithara::hls::detail
