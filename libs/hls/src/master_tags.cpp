// Master (multivariant) playlist tags (RFC 8216 4.3.4, rfc8216bis 4.4.6).
#include "detail/parser_state.hpp"

#include <utility>

namespace kithara::hls::detail {

bool parser::master_tag(tag_id id, std::string_view, std::string_view value) {
    switch (id) {
        case tag_id::stream_inf:
            return on_stream_inf(value, false);
        case tag_id::iframe_stream_inf:
            return on_stream_inf(value, true);
        case tag_id::media:
            return on_media(value);
        case tag_id::session_data:
            return on_session_data(value);
        case tag_id::session_key:
            return on_session_key(value);
        default:
            return true;
    }
}

bool parser::on_stream_inf(std::string_view value, bool iframe) {
    const std::string_view tag = iframe ? "EXT-X-I-FRAME-STREAM-INF" : "EXT-X-STREAM-INF";
    if (pending_variant_) {
        return fail_at(pending_variant_->line, errc::missing_uri,
                       "EXT-X-STREAM-INF is not followed by its URI line (RFC 8216 4.3.4.2)");
    }
    if (master_.variants.size() + master_.iframe_variants.size() >= limits_.max_variants) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_variants) +
                                              " variants (limit max_variants)");
    }
    if (!parse_attributes(value, tag)) return false;
    variant_stream v;
    v.line = line_;
    const attribute* bw = required("BANDWIDTH", tag);
    if (bw == nullptr || !integer(bw, v.bandwidth, tag)) return false;
    if (const attribute* a = attrs_.find("AVERAGE-BANDWIDTH")) {
        std::uint64_t x = 0;
        if (!integer(a, x, tag)) return false;
        v.average_bandwidth = x;
    }
    if (!quoted_opt("CODECS", v.codecs, tag) || !quoted_opt("VIDEO", v.video, tag)) return false;
    if (const attribute* r = attrs_.find("RESOLUTION")) {
        resolution res;
        if (r->quoted || !parse_resolution(r->value, res.width, res.height)) {
            return fail(errc::invalid_value, std::string(tag) +
                                                 ": RESOLUTION must be a decimal-resolution "
                                                 "<width>x<height>, not \"" +
                                                 std::string(r->value) + "\"");
        }
        v.resolution = res;
    }
    if (const attribute* f = attrs_.find("FRAME-RATE")) {
        double x = 0;
        if (!decimal(f, x, tag)) return false;
        v.frame_rate = x;
    }
    if (const attribute* s = attrs_.find("SCORE")) {
        double x = 0;
        if (!decimal(s, x, tag)) return false;
        v.score = x;
    }
    if (const attribute* h = attrs_.find("HDCP-LEVEL")) {
        std::string_view x;
        if (!enumerated(h, x, tag)) return false;
        v.hdcp_level.emplace(x);
    }
    if (iframe) {
        const attribute* u = required("URI", tag);
        if (u == nullptr || !quoted(u, v.uri, tag)) return false;
        v.resolved_uri = resolve(v.uri);
        master_.iframe_variants.push_back(std::move(v));
        return true;
    }
    if (!quoted_opt("AUDIO", v.audio, tag) || !quoted_opt("SUBTITLES", v.subtitles, tag)) {
        return false;
    }
    if (const attribute* cc = attrs_.find("CLOSED-CAPTIONS")) {
        if (cc->quoted) {
            v.closed_captions.emplace();
            if (!quoted(cc, *v.closed_captions, tag)) return false;
        } else if (cc->value == "NONE") {
            v.closed_captions.emplace("NONE");
        } else {
            return fail(errc::invalid_value,
                        "EXT-X-STREAM-INF: CLOSED-CAPTIONS must be a quoted-string or NONE");
        }
    }
    pending_variant_ = std::move(v);
    return true;
}

bool parser::master_uri(std::string_view uri) {
    if (!pending_variant_) {
        return fail(errc::misplaced_tag,
                    "URI line in a master playlist without a preceding EXT-X-STREAM-INF "
                    "(RFC 8216 4.3.4.2)");
    }
    variant_stream v = std::move(*pending_variant_);
    pending_variant_.reset();
    if (variables::has_reference(uri)) {
        if (!substitute(uri, scratch_)) return false;
        v.uri = scratch_;
    } else {
        v.uri.assign(uri);
    }
    v.resolved_uri = resolve(v.uri);
    master_.variants.push_back(std::move(v));
    return true;
}

bool parser::on_media(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-MEDIA";
    if (master_.renditions.size() >= limits_.max_renditions) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_renditions) +
                                              " renditions (limit max_renditions)");
    }
    if (!parse_attributes(value, tag)) return false;
    rendition r;
    r.line = line_;
    const attribute* t = required("TYPE", tag);
    std::string_view type;
    if (t == nullptr || !enumerated(t, type, tag)) return false;
    if (type == "AUDIO") {
        r.type = media_type::audio;
    } else if (type == "VIDEO") {
        r.type = media_type::video;
    } else if (type == "SUBTITLES") {
        r.type = media_type::subtitles;
    } else if (type == "CLOSED-CAPTIONS") {
        r.type = media_type::closed_captions;
    } else {
        return fail(errc::invalid_value,
                    "EXT-X-MEDIA: TYPE must be AUDIO, VIDEO, SUBTITLES or CLOSED-CAPTIONS, not \"" +
                        std::string(type) + "\"");
    }
    const attribute* g = required("GROUP-ID", tag);
    if (g == nullptr || !quoted(g, r.group_id, tag)) return false;
    const attribute* n = required("NAME", tag);
    if (n == nullptr || !quoted(n, r.name, tag)) return false;
    if (!quoted_opt("LANGUAGE", r.language, tag) ||
        !quoted_opt("ASSOC-LANGUAGE", r.assoc_language, tag) ||
        !quoted_opt("INSTREAM-ID", r.instream_id, tag) ||
        !quoted_opt("CHANNELS", r.channels, tag) ||
        !quoted_opt("CHARACTERISTICS", r.characteristics, tag) || !quoted_opt("URI", r.uri, tag)) {
        return false;
    }
    if (!yes_no("DEFAULT", r.is_default, tag) || !yes_no("AUTOSELECT", r.autoselect, tag) ||
        !yes_no("FORCED", r.forced, tag)) {
        return false;
    }
    if (r.type == media_type::closed_captions) {
        if (!r.instream_id) {
            return fail(errc::missing_attribute,
                        "EXT-X-MEDIA TYPE=CLOSED-CAPTIONS without INSTREAM-ID (RFC 8216 4.3.4.1)");
        }
        if (r.uri) {
            warn(warning_kind::attribute_ignored, "EXT-X-MEDIA: URI ignored on CLOSED-CAPTIONS");
            r.uri.reset();
        }
    }
    if (r.uri) r.resolved_uri = resolve(*r.uri);
    master_.renditions.push_back(std::move(r));
    return true;
}

bool parser::on_session_data(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-SESSION-DATA";
    if (master_.session_data.size() >= limits_.max_renditions) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_renditions) +
                                              " EXT-X-SESSION-DATA tags (limit max_renditions)");
    }
    if (!parse_attributes(value, tag)) return false;
    session_data d;
    const attribute* id = required("DATA-ID", tag);
    if (id == nullptr || !quoted(id, d.data_id, tag)) return false;
    if (!quoted_opt("VALUE", d.value, tag) || !quoted_opt("URI", d.uri, tag) ||
        !quoted_opt("LANGUAGE", d.language, tag)) {
        return false;
    }
    if (d.value.has_value() == d.uri.has_value()) {
        return fail(errc::invalid_attribute_list,
                    "EXT-X-SESSION-DATA needs exactly one of VALUE or URI (RFC 8216 4.3.4.4)");
    }
    if (d.uri) d.resolved_uri = resolve(*d.uri);
    master_.session_data.push_back(std::move(d));
    return true;
}

bool parser::on_session_key(std::string_view value) {
    constexpr std::string_view tag = "EXT-X-SESSION-KEY";
    if (master_.session_keys.size() >= limits_.max_renditions) {
        return fail(errc::limit_exceeded, "more than " + std::to_string(limits_.max_renditions) +
                                              " EXT-X-SESSION-KEY tags (limit max_renditions)");
    }
    key k;
    if (!parse_key(value, tag, k)) return false;
    if (k.method == key_method::none) {
        return fail(errc::invalid_value,
                    "EXT-X-SESSION-KEY: METHOD MUST NOT be NONE (RFC 8216 4.3.4.5)");
    }
    master_.session_keys.push_back(std::move(k));
    return true;
}

}  // namespace kithara::hls::detail
