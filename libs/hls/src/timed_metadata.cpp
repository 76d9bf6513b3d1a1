// Timed metadata items from ID3 tags and free text.
#include "detail/timed_metadata.hpp"

#include <algorithm>
#include <optional>
#include <string>

namespace kithara::hls::detail {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// `key="value"` in text whose pairs are separated by commas or spaces (the key at the start of
// the text or after a separator).
std::optional<std::string> quoted_value(std::string_view text, std::string_view key) {
    for (std::size_t at = 0; (at = text.find(key, at)) != std::string_view::npos; ++at) {
        if (at > 0 && text[at - 1] != ',' && text[at - 1] != ' ') continue;
        const std::size_t open = at + key.size();
        if (text.substr(open, 2) != "=\"") continue;
        const std::size_t close = text.find('"', open + 2);
        if (close == std::string_view::npos) return std::nullopt;
        return std::string(text.substr(open + 2, close - open - 2));
    }
    return std::nullopt;
}

// StreamTitle='Artist - Title'; (ICY): the quoted value, or nullopt.
std::optional<std::string> icy_stream_title(std::string_view text) {
    constexpr std::string_view key = "StreamTitle=";
    const auto at = text.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    auto v = text.substr(at + key.size());
    if (v.empty()) return std::string();
    const char quote = v.front();
    if (quote != '\'' && quote != '"') return std::string(trim(v.substr(0, v.find(';'))));
    v.remove_prefix(1);
    // The value ends at the quote before ';' (titles may hold the quote: "Don't Stop"), else at
    // the last quote.
    const std::string end{quote, ';'};
    auto close = v.find(end);
    if (close == std::string_view::npos) close = v.rfind(quote);
    return std::string(v.substr(0, close));
}

}  // namespace

void names_from_text(timed_metadata& m, std::string_view text) {
    if (auto icy = icy_stream_title(text)) {
        const std::string_view v = *icy;
        const auto dash = v.find(" - ");
        if (dash == std::string_view::npos) {
            m.title = std::string(trim(v));
        } else {
            m.artist = std::string(trim(v.substr(0, dash)));
            m.title = std::string(trim(v.substr(dash + 3)));
        }
        return;
    }
    auto title = quoted_value(text, "title");
    auto artist = quoted_value(text, "artist");
    if (title || artist) {
        if (title) m.title = std::move(*title);
        if (artist) m.artist = std::move(*artist);
        return;
    }
    m.title = std::string(trim(text));
}

bool timestamp_only(const id3_tag& tag) noexcept {
    return std::all_of(tag.frames.begin(), tag.frames.end(), [](const id3_frame& f) {
        const auto p = parse_priv(f);
        return p && p->owner == transport_stream_timestamp_owner;
    });
}

timed_metadata id3_metadata(id3_tag tag, double time) {
    timed_metadata m;
    m.from = timed_metadata::source::id3;
    m.time = time;
    std::optional<std::string> title, artist, icy;
    for (const auto& f : tag.frames) {
        if (f.id.empty() || f.id[0] != 'T') continue;
        auto text = frame_text(f);
        if (!text) continue;
        if (text->find("StreamTitle=") != std::string::npos) {
            if (!icy) icy = *text;
        } else if ((f.id == "TIT2" || f.id == "TT2") && !title) {
            title = std::move(*text);
        } else if ((f.id == "TPE1" || f.id == "TP1") && !artist) {
            artist = std::move(*text);
        }
    }
    if (icy) names_from_text(m, *icy);
    if (title) m.title = std::move(*title);
    if (artist) m.artist = std::move(*artist);
    m.frames = std::move(tag.frames);
    return m;
}

std::vector<timed_metadata> packed_metadata(std::vector<scanned_tag>& tags, double segment_start,
                                            std::vector<error>* errors) {
    std::vector<timed_metadata> out;
    for (auto& t : tags) {
        if (!t.tag) {
            if (errors) errors->push_back(t.tag.error());
            continue;
        }
        if (timestamp_only(*t.tag)) continue;
        out.push_back(id3_metadata(std::move(*t.tag), segment_start + t.seconds_before));
    }
    return out;
}

}  // namespace kithara::hls::detail
