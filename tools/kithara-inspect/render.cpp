#include "render.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace kithara::inspect {
namespace {

using json = nlohmann::ordered_json;

template <class T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

json range_json(const std::optional<hls::byte_range>& r) {
    if (!r) return nullptr;
    json j;
    j["length"] = r->length;
    j["offset"] = r->offset;
    return j;
}

json variant_json(const hls::variant_stream& v) {
    json j;
    j["bandwidth"] = v.bandwidth;
    j["average_bandwidth"] = opt(v.average_bandwidth);
    j["codecs"] = opt(v.codecs);
    j["resolution"] =
        v.resolution
            ? json(std::to_string(v.resolution->width) + "x" + std::to_string(v.resolution->height))
            : json(nullptr);
    j["frame_rate"] = opt(v.frame_rate);
    j["audio"] = opt(v.audio);
    j["video"] = opt(v.video);
    j["subtitles"] = opt(v.subtitles);
    j["closed_captions"] = opt(v.closed_captions);
    j["uri"] = v.uri;
    return j;
}

json master_json(const hls::master_playlist& m) {
    json j;
    j["kind"] = "master";
    json variants = json::array();
    for (const auto& v : m.variants) variants.push_back(variant_json(v));
    j["variants"] = std::move(variants);
    json iframes = json::array();
    for (const auto& v : m.iframe_variants) iframes.push_back(variant_json(v));
    j["iframe_variants"] = std::move(iframes);
    json media = json::array();
    for (const auto& r : m.renditions) {
        json e;
        e["type"] = hls::to_string(r.type);
        e["group_id"] = r.group_id;
        e["name"] = r.name;
        e["language"] = opt(r.language);
        e["default"] = r.is_default;
        e["autoselect"] = r.autoselect;
        e["forced"] = r.forced;
        e["instream_id"] = opt(r.instream_id);
        e["channels"] = opt(r.channels);
        e["uri"] = opt(r.uri);
        media.push_back(std::move(e));
    }
    j["media"] = std::move(media);
    j["independent_segments"] = m.independent_segments;
    j["start_time_offset"] = m.start ? json(m.start->time_offset) : json(nullptr);
    j["version"] = opt(m.version);
    return j;
}

json media_json(const hls::media_playlist& m) {
    json j;
    j["kind"] = "media";
    j["target_duration"] = opt(m.target_duration);
    j["media_sequence"] = m.media_sequence;
    j["discontinuity_sequence"] = m.discontinuity_sequence;
    j["endlist"] = m.endlist;
    j["playlist_type"] = m.type ? json(hls::to_string(*m.type)) : json(nullptr);
    j["version"] = opt(m.version);
    j["independent_segments"] = m.independent_segments;
    j["i_frames_only"] = m.i_frames_only;
    j["start_time_offset"] = m.start ? json(m.start->time_offset) : json(nullptr);
    j["segment_count"] = m.segments.size();
    json segments = json::array();
    for (const auto& s : m.segments) {
        json e;
        e["duration"] = s.duration;
        e["uri"] = s.uri;
        e["byterange"] = range_json(s.range);
        if (const hls::key* k = m.key_of(s)) {
            json kj;
            kj["method"] = k->method_text;
            kj["uri"] = k->uri;
            kj["iv"] = k->iv_text.empty() ? json(nullptr) : json(k->iv_text);
            e["key"] = std::move(kj);
        } else {
            e["key"] = nullptr;
        }
        if (const hls::init_section* map = m.map_of(s)) {
            json mj;
            mj["uri"] = map->uri;
            mj["byterange"] = range_json(map->range);
            e["map"] = std::move(mj);
        } else {
            e["map"] = nullptr;
        }
        e["discontinuity"] = s.discontinuity;
        const std::string* date = m.program_date_time_of(s);
        e["program_date_time"] = date ? json(*date) : json(nullptr);
        e["gap"] = s.gap;
        e["title"] = opt(s.title);
        segments.push_back(std::move(e));
    }
    j["segments"] = std::move(segments);
    return j;
}

std::string range_text(const std::optional<hls::byte_range>& r) {
    if (!r) return {};
    return " bytes " + std::to_string(r->length) + "@" + std::to_string(r->offset);
}

void print_media(std::ostream& out, const hls::media_playlist& m, bool resolve) {
    out << "media playlist " << m.url << "\n";
    out << "  version " << (m.version ? std::to_string(*m.version) : "none (1)")
        << ", target duration "
        << (m.target_duration ? std::to_string(*m.target_duration) + " s" : "none")
        << ", media sequence " << m.media_sequence << ", discontinuity sequence "
        << m.discontinuity_sequence << "\n";
    out << "  type " << (m.type ? hls::to_string(*m.type) : "none")
        << (m.endlist ? ", ended (EXT-X-ENDLIST)" : ", open (live)")
        << (m.independent_segments ? ", independent segments" : "")
        << (m.i_frames_only ? ", I-frames only" : "");
    if (m.start) out << ", start at " << m.start->time_offset << " s";
    out << "\n  " << m.segments.size() << " segments, " << m.duration() << " s\n";
    std::uint32_t last_key = hls::no_index - 1;
    std::uint32_t last_map = hls::no_index - 1;
    for (const auto& s : m.segments) {
        if (!m.maps.empty() && s.map != last_map) {
            if (const auto* map = m.map_of(s)) {
                out << "    map " << (resolve ? map->resolved_uri : map->uri)
                    << range_text(map->range) << "\n";
            } else {
                out << "    map none\n";
            }
            last_map = s.map;
        }
        const std::uint32_t key_id = s.key_count ? s.key : hls::no_index;
        if (!m.keys.empty() && key_id != last_key) {
            if (const auto* k = m.key_of(s)) {
                out << "    key " << k->method_text << " " << (resolve ? k->resolved_uri : k->uri);
                if (!k->iv_text.empty()) out << " iv " << k->iv_text;
                if (k->keyformat != "identity") out << " keyformat " << k->keyformat;
                out << "\n";
            } else {
                out << "    key none\n";
            }
            last_key = key_id;
        }
        if (s.discontinuity) out << "    -- discontinuity --\n";
        out << "    #" << s.media_sequence << "  " << s.duration << " s  "
            << (resolve ? s.resolved_uri : s.uri) << range_text(s.range);
        if (s.gap) out << "  [gap]";
        if (s.program_date_time_tagged) out << "  [" << *m.program_date_time_of(s) << "]";
        if (s.title) out << "  \"" << *s.title << "\"";
        if (!s.parts.empty()) out << "  (" << s.parts.size() << " parts)";
        out << "\n";
    }
    if (!m.trailing_parts.empty()) out << "  " << m.trailing_parts.size() << " pending parts\n";
    if (!m.date_ranges.empty()) out << "  " << m.date_ranges.size() << " date ranges\n";
    if (m.control) {
        out << "  server control:" << (m.control->can_block_reload ? " blocking reload" : "");
        if (m.control->can_skip_until) out << " skip until " << *m.control->can_skip_until << " s";
        out << "\n";
    }
}

void print_master(std::ostream& out, const hls::master_playlist& m, bool resolve) {
    out << "master playlist " << m.url << "\n";
    out << "  version " << (m.version ? std::to_string(*m.version) : "none (1)")
        << (m.independent_segments ? ", independent segments" : "") << "\n";
    auto print_variants = [&](const char* title, const std::vector<hls::variant_stream>& vs) {
        if (vs.empty()) return;
        std::vector<const hls::variant_stream*> sorted;
        for (const auto& v : vs) sorted.push_back(&v);
        std::stable_sort(sorted.begin(), sorted.end(),
                         [](auto* a, auto* b) { return a->bandwidth < b->bandwidth; });
        out << "  " << title << " (" << vs.size() << ", by bandwidth):\n";
        for (const auto* v : sorted) {
            out << "    " << v->bandwidth << " bit/s";
            if (v->average_bandwidth) out << " (avg " << *v->average_bandwidth << ")";
            if (v->codecs) out << "  codecs " << *v->codecs;
            if (v->resolution) out << "  " << v->resolution->width << "x" << v->resolution->height;
            if (v->audio) out << "  audio \"" << *v->audio << "\"";
            if (v->video) out << "  video \"" << *v->video << "\"";
            if (v->subtitles) out << "  subtitles \"" << *v->subtitles << "\"";
            out << "  " << (resolve ? v->resolved_uri : v->uri) << "\n";
        }
    };
    print_variants("variants", m.variants);
    print_variants("I-frame variants", m.iframe_variants);
    std::map<std::pair<std::string, std::string>, std::vector<const hls::rendition*>> groups;
    for (const auto& r : m.renditions) {
        groups[{hls::to_string(r.type), r.group_id}].push_back(&r);
    }
    if (!groups.empty()) out << "  renditions:\n";
    for (const auto& [g, rs] : groups) {
        out << "    " << g.first << " group \"" << g.second << "\":\n";
        for (const auto* r : rs) {
            out << "      \"" << r->name << "\"";
            if (r->language) out << " " << *r->language;
            if (r->channels) out << " channels " << *r->channels;
            if (r->is_default) out << " default";
            if (r->autoselect) out << " autoselect";
            if (r->forced) out << " forced";
            out << "  "
                << (r->uri ? (resolve ? r->resolved_uri : *r->uri) : "(in the variant stream)")
                << "\n";
        }
    }
    for (const auto& d : m.session_data) {
        out << "  session data " << d.data_id << ": "
            << (d.value ? *d.value : (resolve ? d.resolved_uri : *d.uri)) << "\n";
    }
    for (const auto& k : m.session_keys) {
        out << "  session key " << k.method_text << " " << (resolve ? k.resolved_uri : k.uri)
            << "\n";
    }
}

}  // namespace

nlohmann::ordered_json to_json(const hls::playlist& p) {
    return p.is_master() ? master_json(p.master()) : media_json(p.media());
}

void print_summary(std::ostream& out, const hls::playlist& p, bool resolve) {
    if (p.is_master()) {
        print_master(out, p.master(), resolve);
    } else {
        print_media(out, p.media(), resolve);
    }
    if (!p.warnings.empty()) out << "  warnings:\n";
    for (const auto& w : p.warnings) {
        out << "    line " << w.line << ": " << hls::to_string(w.kind) << ": " << w.message;
        if (w.count > 1) out << " (" << w.count << " times)";
        out << "\n";
    }
}

}  // namespace kithara::inspect
