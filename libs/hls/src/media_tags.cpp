// Media playlist tags (RFC 8216 4.3.2-4.3.3, rfc8216bis LL-HLS tags) and segment assembly.
#include "detail/parser_state.hpp"

#include <cmath>
#include <utility>

namespace kithara::hls {
namespace detail {

bool parser::media_tag(tag_id id, std::string_view name, std::string_view value) {
    switch (id) {
        case tag_id::extinf:
            return on_extinf(value);
        case tag_id::byterange:
            return on_byterange(value);
        case tag_id::part:
            return on_part(value);
        case tag_id::program_date_time:
            if (value.empty()) {
                return fail(errc::invalid_value, "EXT-X-PROGRAM-DATE-TIME without a date-time");
            }
            if (media_.program_date_times.size() >= limits_.max_segments) {
                return fail(errc::limit_exceeded,
                            "more than " + std::to_string(limits_.max_segments) +
                                " EXT-X-PROGRAM-DATE-TIME tags (limit max_segments)");
            }
            media_.program_date_times.emplace_back(value);
            date_ = static_cast<std::uint32_t>(media_.program_date_times.size() - 1);
            pending_date_ = true;
            return true;
        case tag_id::key:
            pending_key_or_map_ = true;
            return on_key(value);
        case tag_id::discontinuity:
            pending_discontinuity_ = true;
            return true;
        case tag_id::map:
            pending_key_or_map_ = true;
            return on_map(value);
        case tag_id::gap:
            pending_gap_ = true;
            return true;
        case tag_id::bitrate: {
            auto v = parse_decimal_integer(value);
            if (!v) {
                return fail(errc::invalid_value,
                            "EXT-X-BITRATE must be a decimal-integer (kbit/s), not \"" +
                                std::string(value) + "\"");
            }
            bitrate_ = *v;
            return true;
        }
        case tag_id::daterange:
            return on_daterange(value);
        case tag_id::targetduration:
        case tag_id::media_sequence:
        case tag_id::discontinuity_sequence: {
            if (!once(id, name)) return false;
            auto v = parse_decimal_integer(value);
            if (!v) {
                return fail(errc::invalid_value, std::string(name) +
                                                     " must be a decimal-integer, not \"" +
                                                     std::string(value) + "\"");
            }
            if (id == tag_id::targetduration) {
                media_.target_duration = *v;
            } else {
                if (!media_.segments.empty()) {
                    return fail(errc::misplaced_tag,
                                std::string(name) +
                                    " after the first media segment; it MUST precede it "
                                    "(RFC 8216 4.3.3)");
                }
                (id == tag_id::media_sequence ? media_.media_sequence
                                              : media_.discontinuity_sequence) = *v;
            }
            return true;
        }
        case tag_id::endlist:
            if (!once(id, name)) return false;
            media_.endlist = true;
            return true;
        case tag_id::playlist_type:
            if (!once(id, name)) return false;
            if (value == "VOD") {
                media_.type = playlist_type::vod;
            } else if (value == "EVENT") {
                media_.type = playlist_type::event;
            } else {
                return fail(
                    errc::invalid_value,
                    "EXT-X-PLAYLIST-TYPE must be VOD or EVENT, not \"" + std::string(value) + "\"");
            }
            return true;
        case tag_id::i_frames_only:
            if (!once(id, name)) return false;
            media_.i_frames_only = true;
            need_version(4, name);
            return true;
        case tag_id::part_inf: {
            if (!once(id, name) || !parse_attributes(value, name)) return false;
            const attribute* t = required("PART-TARGET", name);
            double d = 0;
            if (t == nullptr || !decimal(t, d, name)) return false;
            media_.part_target = d;
            return true;
        }
        case tag_id::server_control:
            return once(id, name) && on_server_control(value);
        case tag_id::preload_hint:
            return on_preload_hint(value);
        case tag_id::rendition_report:
            return on_rendition_report(value);
        case tag_id::skip:
            return once(id, name) && on_skip(value);
        default:
            return true;
    }
}

bool parser::on_extinf(std::string_view value) {
    if (has_extinf_) {
        return fail(errc::duplicate_tag, "a second EXTINF before the segment URI of line " +
                                             std::to_string(extinf_line_) +
                                             "'s EXTINF (RFC 8216 4.3.2.1)");
    }
    const std::size_t comma = value.find(',');
    const std::string_view d = value.substr(0, comma);
    auto v = parse_decimal_float(d);
    if (!v) {
        return fail(errc::invalid_value,
                    "EXTINF duration must be a non-negative decimal number, "
                    "not \"" +
                        std::string(d) + "\" (RFC 8216 4.3.2.1)");
    }
    if (d.find('.') != std::string_view::npos) need_version(3, "a decimal EXTINF duration");
    has_extinf_ = true;
    extinf_duration_ = *v;
    extinf_line_ = line_;
    if (comma == std::string_view::npos) {
        warn(warning_kind::empty_title_comma, "EXTINF without the ',' before its title");
        extinf_title_.clear();
    } else {
        extinf_title_.assign(value.substr(comma + 1));
    }
    return true;
}

bool parser::on_byterange(std::string_view value) {
    if (pending_range_) {
        return fail(errc::duplicate_tag,
                    "a second EXT-X-BYTERANGE before the segment URI (RFC 8216 4.3.2.2)");
    }
    auto r = parse_byterange(value);
    if (!r) {
        return fail(errc::invalid_value, "EXT-X-BYTERANGE must be <length>[@<offset>], not \"" +
                                             std::string(value) + "\" (RFC 8216 4.3.2.2)");
    }
    need_version(4, "EXT-X-BYTERANGE");
    pending_range_ = r;
    range_line_ = line_;
    return true;
}

bool parser::on_key(std::string_view value) {
    key k;
    if (!parse_key(value, "EXT-X-KEY", k)) return false;
    if (k.method == key_method::none) {
        key_first_ = no_index;
        key_count_ = 0;
        key_set_segments_ = media_.segments.size();
        return true;
    }
    if (media_.keys.size() >= limits_.max_segments) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_segments) +
                                              " EXT-X-KEY tags (limit max_segments)");
    }
    // KEY tags in a row with different KEYFORMATs apply together (RFC 8216 4.3.2.4).
    bool extend = key_count_ > 0 && key_set_segments_ == media_.segments.size();
    if (extend) {
        for (std::uint32_t i = key_first_; i < key_first_ + key_count_; ++i) {
            if (media_.keys[i].keyformat == k.keyformat) extend = false;
        }
    }
    media_.keys.push_back(std::move(k));
    if (extend) {
        ++key_count_;
    } else {
        key_first_ = static_cast<std::uint32_t>(media_.keys.size() - 1);
        key_count_ = 1;
        key_set_segments_ = media_.segments.size();
    }
    return true;
}

bool parser::on_map(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-MAP";
    if (!parse_attributes(value, tag)) return false;
    init_section m;
    m.line = line_;
    const attribute* u = required("URI", tag);
    if (u == nullptr || !quoted(u, m.uri, tag)) return false;
    if (const attribute* b = attrs_.find("BYTERANGE")) {
        if (!quoted(b, value_, tag)) return false;
        auto r = parse_byterange(value_);
        if (!r) {
            return fail(errc::invalid_value,
                        "EXT-X-MAP: BYTERANGE must be \"<length>[@<offset>]\""
                        ", not \"" +
                            value_ + "\"");
        }
        if (r->length > UINT64_MAX - r->offset.value_or(0)) {
            return fail(errc::invalid_value, "EXT-X-MAP: BYTERANGE offset + length overflows");
        }
        m.range = byte_range{r->length, r->offset.value_or(0)};
    }
    if (media_.maps.size() >= limits_.max_segments) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_segments) +
                                              " EXT-X-MAP tags (limit max_segments)");
    }
    need_version(media_.i_frames_only ? 5 : 6, tag);
    m.resolved_uri = resolve(m.uri);
    media_.maps.push_back(std::move(m));
    map_ = static_cast<std::uint32_t>(media_.maps.size() - 1);
    return true;
}

bool parser::on_daterange(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-DATERANGE";
    if (!parse_attributes(value, tag)) return false;
    if (media_.date_ranges.size() >= limits_.max_segments) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_segments) +
                                              " EXT-X-DATERANGE tags (limit max_segments)");
    }
    date_range d;
    d.line = line_;
    const attribute* id = required("ID", tag);
    if (id == nullptr || !quoted(id, d.id, tag)) return false;
    if (const attribute* c = attrs_.find("CLASS")) {
        if (!quoted(c, d.class_name, tag)) return false;
    }
    if (!quoted_opt("START-DATE", d.start_date, tag) || !quoted_opt("END-DATE", d.end_date, tag)) {
        return false;
    }
    for (std::string_view n : {"DURATION", "PLANNED-DURATION"}) {
        if (const attribute* a = attrs_.find(n)) {
            double v = 0;
            if (!decimal(a, v, tag)) return false;
            (n == "DURATION" ? d.duration : d.planned_duration) = v;
        }
    }
    if (const attribute* e = attrs_.find("END-ON-NEXT")) {
        if (e->quoted || e->value != "YES") {
            return fail(errc::invalid_value, "EXT-X-DATERANGE: END-ON-NEXT must be YES");
        }
        d.end_on_next = true;
    }
    for (const auto& a : attrs_.all()) {
        if (a.name.starts_with("X-") || a.name.starts_with("SCTE35-")) {
            std::string v;
            if (a.quoted && variables::has_reference(a.value)) {
                if (!substitute(a.value, v)) return false;
            } else {
                v.assign(a.value);
            }
            d.attributes.push_back({std::string(a.name), std::move(v)});
        }
    }
    media_.date_ranges.push_back(std::move(d));
    return true;
}

bool parser::on_part(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-PART";
    if (!parse_attributes(value, tag)) return false;
    if (parts_total_ >= limits_.max_segments) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_segments) +
                                              " EXT-X-PART tags (limit max_segments)");
    }
    part p;
    const attribute* d = required("DURATION", tag);
    if (d == nullptr || !decimal(d, p.duration, tag)) return false;
    const attribute* u = required("URI", tag);
    if (u == nullptr || !quoted(u, p.uri, tag)) return false;
    p.resolved_uri = resolve(p.uri);
    if (!yes_no("INDEPENDENT", p.independent, tag) || !yes_no("GAP", p.gap, tag)) return false;
    if (const attribute* b = attrs_.find("BYTERANGE")) {
        if (!quoted(b, value_, tag)) return false;
        auto r = parse_byterange(value_);
        if (!r) {
            return fail(
                errc::invalid_value,
                "EXT-X-PART: BYTERANGE must be \"<length>[@<offset>]\", not \"" + value_ + "\"");
        }
        std::uint64_t offset = 0;
        if (r->offset) {
            offset = *r->offset;
        } else {
            auto it = part_range_end_.find(p.resolved_uri);
            if (it == part_range_end_.end()) {
                return fail(errc::byterange_without_offset,
                            "EXT-X-PART: BYTERANGE without an offset and no previous part of "
                            "the same URI (rfc8216bis 4.4.4.9)");
            }
            offset = it->second;
        }
        if (r->length > UINT64_MAX - offset) {
            return fail(errc::invalid_value, "EXT-X-PART: BYTERANGE offset + length overflows");
        }
        p.range = byte_range{r->length, offset};
        part_range_end_[p.resolved_uri] = offset + r->length;
    }
    ++parts_total_;
    pending_parts_.push_back(std::move(p));
    return true;
}

bool parser::on_server_control(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-SERVER-CONTROL";
    if (!parse_attributes(value, tag)) return false;
    server_control c;
    for (std::string_view n : {"CAN-SKIP-UNTIL", "HOLD-BACK", "PART-HOLD-BACK"}) {
        if (const attribute* a = attrs_.find(n)) {
            double v = 0;
            if (!decimal(a, v, tag)) return false;
            (n == "CAN-SKIP-UNTIL" ? c.can_skip_until
             : n == "HOLD-BACK"    ? c.hold_back
                                   : c.part_hold_back) = v;
        }
    }
    if (!yes_no("CAN-SKIP-DATERANGES", c.can_skip_dateranges, tag) ||
        !yes_no("CAN-BLOCK-RELOAD", c.can_block_reload, tag)) {
        return false;
    }
    media_.control = c;
    return true;
}

bool parser::on_preload_hint(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-PRELOAD-HINT";
    if (!parse_attributes(value, tag)) return false;
    if (media_.preload_hints.size() >= limits_.max_renditions) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_renditions) +
                                              " EXT-X-PRELOAD-HINT tags (limit max_renditions)");
    }
    preload_hint h;
    const attribute* t = required("TYPE", tag);
    std::string_view type;
    if (t == nullptr || !enumerated(t, type, tag)) return false;
    if (type == "PART") {
        h.type = preload_hint::kind::part;
    } else if (type == "MAP") {
        h.type = preload_hint::kind::map;
    } else {
        return fail(errc::invalid_value, "EXT-X-PRELOAD-HINT: TYPE must be PART or MAP, not \"" +
                                             std::string(type) + "\"");
    }
    const attribute* u = required("URI", tag);
    if (u == nullptr || !quoted(u, h.uri, tag)) return false;
    h.resolved_uri = resolve(h.uri);
    if (const attribute* s = attrs_.find("BYTERANGE-START")) {
        if (!integer(s, h.byterange_start, tag)) return false;
    }
    if (const attribute* l = attrs_.find("BYTERANGE-LENGTH")) {
        std::uint64_t v = 0;
        if (!integer(l, v, tag)) return false;
        h.byterange_length = v;
    }
    media_.preload_hints.push_back(std::move(h));
    return true;
}

bool parser::on_rendition_report(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-RENDITION-REPORT";
    if (!parse_attributes(value, tag)) return false;
    if (media_.rendition_reports.size() >= limits_.max_renditions) {
        return fail(errc::limit_exceeded,
                    "more than " + std::to_string(limits_.max_renditions) +
                        " EXT-X-RENDITION-REPORT tags (limit max_renditions)");
    }
    rendition_report r;
    const attribute* u = required("URI", tag);
    if (u == nullptr || !quoted(u, r.uri, tag)) return false;
    r.resolved_uri = resolve(r.uri);
    for (std::string_view n : {"LAST-MSN", "LAST-PART"}) {
        if (const attribute* a = attrs_.find(n)) {
            std::uint64_t v = 0;
            if (!integer(a, v, tag)) return false;
            (n == "LAST-MSN" ? r.last_msn : r.last_part) = v;
        }
    }
    media_.rendition_reports.push_back(std::move(r));
    return true;
}

bool parser::on_skip(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-SKIP";
    if (!parse_attributes(value, tag)) return false;
    if (!media_.segments.empty()) {
        return fail(errc::misplaced_tag, "EXT-X-SKIP after the first media segment");
    }
    skip_info s;
    const attribute* n = required("SKIPPED-SEGMENTS", tag);
    if (n == nullptr || !integer(n, s.skipped_segments, tag)) return false;
    if (const attribute* r = attrs_.find("RECENTLY-REMOVED-DATERANGES")) {
        if (!quoted(r, value_, tag)) return false;
        std::string_view rest = value_;
        while (!rest.empty()) {
            const std::size_t tab = rest.find('\t');
            if (s.recently_removed_dateranges.size() >= limits_.max_segments) {
                return fail(errc::limit_exceeded,
                            "EXT-X-SKIP: too many removed date ranges (limit max_segments)");
            }
            s.recently_removed_dateranges.emplace_back(rest.substr(0, tab));
            rest = tab == std::string_view::npos ? std::string_view{} : rest.substr(tab + 1);
        }
    }
    media_.skip = std::move(s);
    return true;
}

bool parser::media_uri(std::string_view uri) {
    if (!has_extinf_) {
        return fail(errc::missing_extinf,
                    "media segment URI \"" + std::string(uri.substr(0, 200)) +
                        "\" without a preceding EXTINF (RFC 8216 4.3.2.1: REQUIRED for each "
                        "segment)");
    }
    if (media_.segments.size() >= limits_.max_segments) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_segments) +
                                              " segments (limit max_segments)");
    }
    if (media_.segments.empty()) {
        // One allocation for the segment list: as many segments as EXTINF tags remain (bounded).
        std::size_t n = 0;
        for (auto at = rest_.find("#EXTINF:");
             at != std::string_view::npos && n < limits_.max_segments;
             at = rest_.find("#EXTINF:", at + 8)) {
            ++n;
        }
        media_.segments.reserve(n + 1);
    }
    segment s;
    if (variables::has_reference(uri)) {
        if (!substitute(uri, scratch_)) return false;
        s.uri = scratch_;
    } else {
        s.uri.assign(uri);
    }
    s.resolved_uri = resolve(s.uri);
    s.duration = extinf_duration_;
    if (!extinf_title_.empty()) s.title = std::move(extinf_title_);
    extinf_title_.clear();
    if (pending_range_) {
        std::uint64_t offset = 0;
        auto it = range_end_.find(s.resolved_uri);
        if (pending_range_->offset) {
            offset = *pending_range_->offset;
        } else if (it != range_end_.end()) {
            offset = it->second;
        } else {
            return fail_at(range_line_, errc::byterange_without_offset,
                           "EXT-X-BYTERANGE without an offset, and no previous sub-range of \"" +
                               s.uri + "\" (RFC 8216 4.3.2.2)");
        }
        if (pending_range_->length > UINT64_MAX - offset) {
            return fail_at(range_line_, errc::invalid_value,
                           "EXT-X-BYTERANGE offset + length overflows");
        }
        s.range = byte_range{pending_range_->length, offset};
        if (it != range_end_.end()) {
            it->second = offset + pending_range_->length;
        } else {
            range_end_.emplace(s.resolved_uri, offset + pending_range_->length);
        }
        pending_range_.reset();
    }
    if (media_.endlist) {
        warn(warning_kind::tag_after_endlist, "media segment after EXT-X-ENDLIST");
    }
    s.key = key_first_;
    s.key_count = key_count_;
    s.map = map_;
    s.program_date_time = date_;
    s.program_date_time_tagged = pending_date_;
    s.discontinuity = pending_discontinuity_;
    if (pending_discontinuity_) ++discontinuities_;
    s.discontinuity_sequence = discontinuities_;  // made absolute in finish_media()
    s.gap = pending_gap_;
    s.bitrate_kbps = bitrate_;
    s.line = extinf_line_;
    if (!pending_parts_.empty()) s.parts = std::move(pending_parts_);
    pending_parts_.clear();
    has_extinf_ = pending_discontinuity_ = pending_gap_ = pending_date_ = false;
    pending_key_or_map_ = false;
    media_.segments.push_back(std::move(s));
    return true;
}

bool parser::finish_media() {
    if (has_extinf_) {
        return fail_at(extinf_line_, errc::missing_uri,
                       "EXTINF is not followed by a segment URI (RFC 8216 4.3.2.1)");
    }
    if (pending_range_) {
        return fail_at(range_line_, errc::missing_uri,
                       "EXT-X-BYTERANGE is not followed by a segment URI (RFC 8216 4.3.2.2)");
    }
    media_.trailing_parts = std::move(pending_parts_);
    media_.trailing_discontinuity = pending_discontinuity_;
    media_.trailing_key_or_map = pending_key_or_map_;
    const std::uint64_t first =
        media_.media_sequence + (media_.skip ? media_.skip->skipped_segments : 0);
    std::uint64_t i = 0;
    for (auto& s : media_.segments) {
        s.media_sequence = first + i++;
        s.discontinuity_sequence += media_.discontinuity_sequence;
    }
    if (!media_.target_duration) {
        if (kind_ == kind::media) {
            warn(warning_kind::missing_target_duration,
                 "no EXT-X-TARGETDURATION (REQUIRED, RFC 8216 4.3.3.1)", 1);
        }
    } else {
        const auto target = static_cast<double>(*media_.target_duration);
        for (const auto& s : media_.segments) {
            if (std::round(s.duration) > target) {
                warn(warning_kind::extinf_exceeds_target,
                     "EXTINF " + std::to_string(s.duration) + " rounds above TARGETDURATION " +
                         std::to_string(*media_.target_duration),
                     s.line);
            }
        }
    }
    return true;
}

}  // namespace detail

const key* media_playlist::key_of(const segment& s) const noexcept {
    if (s.key_count == 0 || s.key >= keys.size()) return nullptr;
    const key* first = &keys[s.key];
    for (std::uint32_t i = s.key; i < s.key + s.key_count && i < keys.size(); ++i) {
        if (keys[i].keyformat == "identity") return &keys[i];
    }
    return first;
}

const init_section* media_playlist::map_of(const segment& s) const noexcept {
    return s.map < maps.size() ? &maps[s.map] : nullptr;
}

const std::string* media_playlist::program_date_time_of(const segment& s) const noexcept {
    return s.program_date_time < program_date_times.size()
               ? &program_date_times[s.program_date_time]
               : nullptr;
}

double media_playlist::duration() const noexcept {
    double total = 0;
    for (const auto& s : segments) total += s.duration;
    return total;
}

const char* to_string(key_method m) noexcept {
    switch (m) {
        case key_method::none:
            return "NONE";
        case key_method::aes_128:
            return "AES-128";
        case key_method::sample_aes:
            return "SAMPLE-AES";
        case key_method::sample_aes_ctr:
            return "SAMPLE-AES-CTR";
    }
    return "?";
}

const char* to_string(media_type t) noexcept {
    switch (t) {
        case media_type::audio:
            return "AUDIO";
        case media_type::video:
            return "VIDEO";
        case media_type::subtitles:
            return "SUBTITLES";
        case media_type::closed_captions:
            return "CLOSED-CAPTIONS";
    }
    return "?";
}

const char* to_string(playlist_type t) noexcept {
    switch (t) {
        case playlist_type::vod:
            return "VOD";
        case playlist_type::event:
            return "EVENT";
    }
    return "?";
}

}  // namespace kithara::hls
