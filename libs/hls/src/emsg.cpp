// fMP4 event messages (ISO/IEC 23009-1 emsg v0/v1) found among a segment's top-level boxes.
#include "detail/emsg.hpp"

#include "detail/id3.hpp"
#include "detail/timed_metadata.hpp"

#include <kithara/hls/error.hpp>

#include <algorithm>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>

namespace kithara::hls::detail {

namespace {

constexpr std::uint32_t unknown_duration = 0xFFFFFFFFu;
constexpr std::size_t max_key_bytes = 256;

unexpected bad(std::uint64_t at, const std::string& what) {
    return fail(errc::bad_metadata, what + " at offset " + std::to_string(at));
}

std::uint32_t be32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

std::uint64_t be64(const std::uint8_t* p) {
    return static_cast<std::uint64_t>(be32(p)) << 32 | be32(p + 4);
}

std::string type_name(const std::array<char, 4>& t) {
    std::string s;
    for (char c : t) s.push_back(c >= 0x20 && c < 0x7F ? c : '?');
    return "'" + s + "'";
}

// Reads the fields of an emsg payload in order, each bounded by the payload.
class reader {
public:
    reader(std::span<const std::uint8_t> p, std::uint64_t base) : p_(p), base_(base) {}
    result<std::uint32_t> u32(const char* what) {
        if (p_.size() - pos_ < 4) return short_of(what);
        const auto v = be32(p_.data() + pos_);
        pos_ += 4;
        return v;
    }
    result<std::uint64_t> u64(const char* what) {
        if (p_.size() - pos_ < 8) return short_of(what);
        const auto v = be64(p_.data() + pos_);
        pos_ += 8;
        return v;
    }
    result<std::string> cstring(const char* what) {
        const auto* begin = p_.data() + pos_;
        const auto* end = p_.data() + p_.size();
        const auto* nul = std::find(begin, end, std::uint8_t{0});
        if (nul == end)
            return bad(base_ + pos_, std::string("emsg ") + what + " not NUL-terminated");
        std::string s(begin, nul);
        pos_ += s.size() + 1;
        return s;
    }
    std::span<const std::uint8_t> rest() const { return p_.subspan(pos_); }

private:
    unexpected short_of(const char* what) const {
        return bad(base_ + pos_, std::string("emsg truncated before ") + what);
    }
    std::span<const std::uint8_t> p_;
    std::uint64_t base_;
    std::size_t pos_ = 0;
};

std::string key_part(const std::string& s) {
    if (s.size() <= max_key_bytes) return s;
    return "#" + std::to_string(std::hash<std::string>{}(s)) + ":" + std::to_string(s.size());
}

// The payload of the first box of type `type` (4 characters) among the boxes in `bytes` (a
// box's children); nullopt when there is none, or the box structure is broken before it.
std::optional<std::span<const std::uint8_t>> child(std::span<const std::uint8_t> bytes,
                                                   const char* type) {
    for (std::size_t at = 0; at < bytes.size();) {
        auto h = read_box_header(bytes, at, 0, true);
        if (!h || !*h) return std::nullopt;
        const auto& b = **h;
        if (b.size > bytes.size() - at || b.size < b.header_size) return std::nullopt;
        if (std::memcmp(b.type.data(), type, 4) == 0)
            return bytes.subspan(at + b.header_size,
                                 static_cast<std::size_t>(b.size) - b.header_size);
        at += static_cast<std::size_t>(b.size);
    }
    return std::nullopt;
}

// Follows a path of box types from `bytes`; nullopt when one is missing or broken.
std::optional<std::span<const std::uint8_t>> path(std::span<const std::uint8_t> bytes,
                                                  std::initializer_list<const char*> types) {
    for (const char* t : types) {
        auto c = child(bytes, t);
        if (!c) return std::nullopt;
        bytes = *c;
    }
    return bytes;
}

}  // namespace

std::optional<std::uint32_t> media_timescale(std::span<const std::uint8_t> init) {
    // moov/trak/mdia/mdhd: version (1), flags (3), creation and modification times (4 or 8
    // each), timescale (4). The first track: an audio rendition's init has one.
    auto mdhd = path(init, {"moov", "trak", "mdia", "mdhd"});
    if (!mdhd || mdhd->size() < 4) return std::nullopt;
    const std::size_t at = (*mdhd)[0] == 1 ? 4 + 16 : 4 + 8;
    if (mdhd->size() < at + 4) return std::nullopt;
    const auto ts = be32(mdhd->data() + at);
    if (ts == 0) return std::nullopt;
    return ts;
}

std::optional<std::uint64_t> fragment_decode_time(std::span<const std::uint8_t> moof) {
    // The moof box whole: moof/traf/tfdt, baseMediaDecodeTime 32 bits (version 0) or 64 (1).
    auto tfdt = path(moof, {"moof", "traf", "tfdt"});
    if (!tfdt || tfdt->size() < 8) return std::nullopt;
    if ((*tfdt)[0] == 1) {
        if (tfdt->size() < 12) return std::nullopt;
        return be64(tfdt->data() + 4);
    }
    return be32(tfdt->data() + 4);
}

result<std::optional<box_header>> read_box_header(std::span<const std::uint8_t> bytes,
                                                  std::size_t at, std::uint64_t base,
                                                  bool complete) {
    if (at > bytes.size() || bytes.size() - at < 8) return std::optional<box_header>{};
    const std::uint8_t* p = bytes.data() + at;
    box_header h;
    h.offset = base + at;
    std::memcpy(h.type.data(), p + 4, 4);
    const std::uint32_t size = be32(p);
    h.header_size = 8;
    if (size == 1) {
        if (bytes.size() - at < 16) return std::optional<box_header>{};
        h.size = be64(p + 8);
        h.header_size = 16;
        if (h.size < 16)
            return bad(h.offset, "box " + type_name(h.type) + " largesize " +
                                     std::to_string(h.size) + " under 16");
    } else if (size == 0) {  // to the end of the segment
        h.size = complete ? bytes.size() - at : 0;
    } else if (size < 8) {
        return bad(h.offset,
                   "box " + type_name(h.type) + " size " + std::to_string(size) + " under 8");
    } else {
        h.size = size;
    }
    return std::optional<box_header>(h);
}

result<emsg_box> parse_emsg(std::span<const std::uint8_t> box, std::uint64_t offset) {
    auto h = read_box_header(box, 0, offset, true);
    if (!h) return kithara::fail(h.error());
    if (!*h || std::memcmp((*h)->type.data(), "emsg", 4) != 0)
        return bad(offset, "not an emsg box");
    if ((*h)->size != box.size())
        return bad(offset, "emsg box declares " + std::to_string((*h)->size) + " bytes, " +
                               std::to_string(box.size()) + " given");
    const std::size_t hs = (*h)->header_size;
    if (box.size() < hs + 4) return bad(offset + hs, "emsg truncated before version");
    emsg_box b;
    b.offset = offset;
    b.event.version = box[hs];
    if (b.event.version > 1)
        return bad(offset + hs,
                   "emsg version " + std::to_string(b.event.version) + " not supported");
    reader r(box.subspan(hs + 4), offset + hs + 4);
    std::uint32_t duration = 0;
    if (b.event.version == 1) {
        auto ts = r.u32("timescale");
        if (!ts) return kithara::fail(ts.error());
        auto pt = r.u64("presentation_time");
        if (!pt) return kithara::fail(pt.error());
        auto d = r.u32("event_duration");
        if (!d) return kithara::fail(d.error());
        auto id = r.u32("id");
        if (!id) return kithara::fail(id.error());
        auto scheme = r.cstring("scheme_id_uri");
        if (!scheme) return kithara::fail(scheme.error());
        auto value = r.cstring("value");
        if (!value) return kithara::fail(value.error());
        b.event.timescale = *ts;
        b.presentation = *pt;
        duration = *d;
        b.event.id = *id;
        b.event.scheme_id_uri = std::move(*scheme);
        b.event.value = std::move(*value);
    } else {
        auto scheme = r.cstring("scheme_id_uri");
        if (!scheme) return kithara::fail(scheme.error());
        auto value = r.cstring("value");
        if (!value) return kithara::fail(value.error());
        auto ts = r.u32("timescale");
        if (!ts) return kithara::fail(ts.error());
        auto delta = r.u32("presentation_time_delta");
        if (!delta) return kithara::fail(delta.error());
        auto d = r.u32("event_duration");
        if (!d) return kithara::fail(d.error());
        auto id = r.u32("id");
        if (!id) return kithara::fail(id.error());
        b.event.scheme_id_uri = std::move(*scheme);
        b.event.value = std::move(*value);
        b.event.timescale = *ts;
        b.presentation = *delta;
        duration = *d;
        b.event.id = *id;
    }
    if (b.event.timescale == 0) return bad(offset, "emsg timescale 0");
    if (duration != unknown_duration) b.event_duration = duration;
    const auto rest = r.rest();
    b.event.message_data.assign(rest.begin(), rest.end());
    return b;
}

result<emsg_walk> find_emsg(std::span<const std::uint8_t> segment, std::uint64_t from,
                            bool complete, std::size_t max_boxes) {
    emsg_walk w;
    w.next = from;
    if (from >= segment.size()) return w;  // nothing new yet (a skipped box ends later)
    auto at = static_cast<std::size_t>(from);
    for (std::size_t n = 0; n < max_boxes && at < segment.size(); ++n) {
        auto h = read_box_header(segment, at, 0, complete);
        if (!h) return kithara::fail(h.error());
        if (!*h) {
            if (complete)
                return bad(at, "box header truncated (" + std::to_string(segment.size() - at) +
                                   " bytes left)");
            break;
        }
        box_header b = **h;
        const std::uint64_t left = segment.size() - at;
        if (b.size == 0) {         // the box extends to the end of the segment: the last one
            if (!complete) break;  // still arriving
            b.size = left;
        }
        const bool emsg = std::memcmp(b.type.data(), "emsg", 4) == 0;
        if (b.size > left) {
            if (complete)
                return bad(at, "box " + type_name(b.type) + " of " + std::to_string(b.size) +
                                   " bytes runs past the segment end (" + std::to_string(left) +
                                   " bytes left)");
            if (emsg && b.size <= max_emsg_bytes) break;  // wait for the whole box
        }
        if (emsg) {
            if (b.size > max_emsg_bytes) {
                w.errors.push_back(
                    error(errc::bad_metadata,
                          "emsg of " + std::to_string(b.size) + " bytes over the limit of " +
                              std::to_string(max_emsg_bytes) + " at offset " + std::to_string(at)));
            } else {
                auto e = parse_emsg(segment.subspan(at, static_cast<std::size_t>(b.size)), at);
                if (e)
                    w.boxes.push_back(std::move(*e));
                else
                    w.errors.push_back(e.error());
            }
        }
        // Saturating: a largesize near 2^64 must not wrap the resume offset back into the data.
        w.next = b.size > std::numeric_limits<std::uint64_t>::max() - at
                     ? std::numeric_limits<std::uint64_t>::max()
                     : at + b.size;
        if (b.size > left) break;  // a box passed over before its bytes arrived
        at += static_cast<std::size_t>(b.size);
    }
    return w;
}

bool is_id3_scheme(std::string_view s) noexcept {
    return s == "https://aomedia.org/emsg/ID3" ||
           s == "https://developer.apple.com/streaming/emsg-id3";
}

result<timed_metadata> emsg_metadata(const emsg_box& b, const emsg_clock& clock) {
    timed_metadata m;
    const double ts = b.event.timescale;
    if (b.event.version == 0) {
        m.time = clock.segment_start + static_cast<double>(b.presentation) / ts;
    } else {
        m.time = static_cast<double>(b.presentation) / ts + clock.media_offset;
    }
    if (b.event_duration) m.duration = *b.event_duration / ts;
    if (is_id3_scheme(b.event.scheme_id_uri)) {
        const std::uint64_t at = b.offset;  // the message's exact offset is not kept
        auto tag = parse_id3(b.event.message_data, 0);
        if (!tag)
            return kithara::fail(errc::bad_metadata, "emsg at offset " + std::to_string(at) + ": " +
                                                         tag.error().message());
        m = id3_metadata(std::move(*tag), m.time);
        if (b.event_duration) m.duration = *b.event_duration / ts;
    }
    m.from = timed_metadata::source::emsg;
    m.emsg = b.event;
    return m;
}

bool emsg_dedup::first_time(const emsg_event& e) {
    const std::string uri = key_part(e.scheme_id_uri);
    const std::pair<std::string, std::uint32_t> key{key_part(e.value), e.id};
    auto s = std::find_if(schemes_.begin(), schemes_.end(),
                          [&](const scheme& x) { return x.uri == uri; });
    if (s == schemes_.end()) {
        if (max_schemes_ == 0 || ids_per_scheme_ == 0) return true;
        if (schemes_.size() == max_schemes_) schemes_.pop_back();
        schemes_.push_front(scheme{uri, {}});
    } else if (s != schemes_.begin()) {
        auto moved = std::move(*s);
        schemes_.erase(s);
        schemes_.push_front(std::move(moved));
    }
    auto& recent = schemes_.front().recent;
    if (std::find(recent.begin(), recent.end(), key) != recent.end()) return false;
    if (recent.size() == ids_per_scheme_) recent.pop_back();
    recent.push_front(key);
    return true;
}

}  // namespace kithara::hls::detail
