// renditions: alternate audio selection (see detail/renditions.hpp).
#include "detail/renditions.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace kithara::hls::detail {

namespace {

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// `tag` starts with `prefix` followed by the end or a subtag separator.
bool subtag_prefix(std::string_view prefix, std::string_view tag) {
    return prefix.size() < tag.size() && tag[prefix.size()] == '-' &&
           iequal(prefix, tag.substr(0, prefix.size()));
}

}  // namespace

int language_match(std::string_view range, std::string_view tag) {
    if (range.empty() || tag.empty()) return 0;
    if (iequal(range, tag)) return 3;
    if (subtag_prefix(range, tag)) return 2;
    // Lookup: drop subtags from the end of the range (a single-letter subtag goes with the one
    // after it, RFC 4647 3.4).
    std::string_view r = range;
    for (;;) {
        auto dash = r.rfind('-');
        if (dash == std::string_view::npos) return 0;
        r = r.substr(0, dash);
        if (r.size() >= 2 && r[r.size() - 2] == '-') r = r.substr(0, r.size() - 2);
        if (iequal(r, tag)) return 1;
    }
}

unsigned channel_count(const std::optional<std::string>& channels) {
    if (!channels) return 0;
    unsigned n = 0;
    std::size_t i = 0;
    for (;
         i < channels->size() && i < 4 && std::isdigit(static_cast<unsigned char>((*channels)[i]));
         ++i)
        n = n * 10 + static_cast<unsigned>((*channels)[i] - '0');
    return i == 0 ? 0 : n;
}

std::vector<std::size_t> audio_group(const master_playlist& m, const std::string& group) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < m.renditions.size(); ++i)
        if (m.renditions[i].type == media_type::audio && m.renditions[i].group_id == group)
            out.push_back(i);
    return out;
}

std::optional<std::size_t> select_rendition(const master_playlist& m, const std::string& group,
                                            const audio_preferences& prefs, const rendition* like) {
    const auto members = audio_group(m, group);
    if (members.empty()) return std::nullopt;
    const auto& r = m.renditions;
    auto by_name = [&](const std::string& name) -> std::optional<std::size_t> {
        if (name.empty()) return std::nullopt;
        for (auto i : members)
            if (r[i].name == name) return i;
        return std::nullopt;
    };
    // The best of `candidates` by channel count: `channels` first, then playlist order.
    auto best_channels = [&](const std::vector<std::size_t>& candidates, unsigned channels) {
        for (auto i : candidates)
            if (channel_count(r[i].channels) == channels) return i;
        return candidates.front();
    };
    if (like) {
        if (auto i = by_name(like->name)) return i;
        if (like->language) {
            std::vector<std::size_t> same;
            for (auto i : members)
                if (r[i].language && iequal(*r[i].language, *like->language)) same.push_back(i);
            if (!same.empty()) {
                const unsigned want = channel_count(like->channels);
                return best_channels(same, want ? want : prefs.channels);
            }
        }
    }
    if (auto i = by_name(prefs.name)) return i;
    // Languages: the most preferred range first; per range, LANGUAGE before ASSOC-LANGUAGE and
    // the closer match (equal, extension, truncation) first.
    for (const auto& range : prefs.languages) {
        for (const bool assoc : {false, true}) {
            int best = 0;
            std::vector<std::size_t> found;
            for (auto i : members) {
                const auto& tag = assoc ? r[i].assoc_language : r[i].language;
                const int q = tag ? language_match(range, *tag) : 0;
                if (q == 0 || q < best) continue;
                if (q > best) found.clear();
                best = q;
                found.push_back(i);
            }
            if (!found.empty()) return best_channels(found, prefs.channels);
        }
    }
    for (const bool want_default : {true, false}) {
        std::vector<std::size_t> found;
        for (auto i : members)
            if (want_default ? r[i].is_default : r[i].autoselect) found.push_back(i);
        if (!found.empty()) return best_channels(found, prefs.channels);
    }
    return best_channels(members, prefs.channels);
}

audio_choice audio_for(const master_playlist& m, std::size_t v, const audio_preferences& prefs,
                       const rendition* like) {
    const auto& variant = m.variants[v];
    audio_choice c{variant.resolved_uri, std::nullopt};
    if (!variant.audio) return c;
    c.rendition = select_rendition(m, *variant.audio, prefs, like);
    if (c.rendition && m.renditions[*c.rendition].uri)
        c.uri = m.renditions[*c.rendition].resolved_uri;
    return c;
}

void describe_audio(const master_playlist& m, std::size_t v, const audio_choice& c,
                    std::vector<rendition_info>& renditions, std::optional<std::size_t>& chosen) {
    renditions.clear();
    chosen.reset();
    const auto& variant = m.variants[v];
    if (!variant.audio) return;
    for (auto i : audio_group(m, *variant.audio)) {
        const auto& r = m.renditions[i];
        if (c.rendition && *c.rendition == i) chosen = renditions.size();
        renditions.push_back({r.group_id, r.name, r.language.value_or(""),
                              r.assoc_language.value_or(""), channel_count(r.channels),
                              r.is_default, r.autoselect, r.uri ? r.resolved_uri : ""});
    }
}

}  // namespace kithara::hls::detail
