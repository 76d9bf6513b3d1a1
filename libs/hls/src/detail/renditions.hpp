// renditions: which alternate audio rendition (EXT-X-MEDIA TYPE=AUDIO) a variant plays, from the
// application's audio_preferences (see hls_stream.hpp), and the media playlist that follows from
// it. Pure functions of the parsed master playlist.
#pragma once

#include <kithara/hls/hls_stream.hpp>
#include <kithara/hls/playlist.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls::detail {

// RFC 4647 matching of a language range (an RFC 5646 tag the application prefers) against a
// rendition's tag, case-insensitive: 3 when equal, 2 when the tag extends the range ("de" and
// "de-AT": basic filtering), 1 when a truncation of the range equals the tag ("de-AT" and "de":
// lookup), 0 otherwise.
[[nodiscard]] int language_match(std::string_view range, std::string_view tag);

// CHANNELS' first value ("6/JOC" -> 6), 0 when absent or not a number.
[[nodiscard]] unsigned channel_count(const std::optional<std::string>& channels);

// The indices into m.renditions of the AUDIO renditions of `group`, in playlist order.
[[nodiscard]] std::vector<std::size_t> audio_group(const master_playlist& m,
                                                   const std::string& group);

// The rendition of `group` to play (an index into m.renditions), or nullopt when the group has
// none. `like`: the rendition chosen in another group (for the other tiers of an ABR ladder):
// the one with its NAME, else its LANGUAGE and CHANNELS, is preferred to the preferences.
[[nodiscard]] std::optional<std::size_t> select_rendition(const master_playlist& m,
                                                          const std::string& group,
                                                          const audio_preferences& prefs,
                                                          const rendition* like = nullptr);

// What variant v plays: the media playlist URI (the chosen rendition's, or the variant's own when
// the rendition has no URI or the variant names no AUDIO group) and the rendition.
struct audio_choice {
    std::string uri;
    std::optional<std::size_t> rendition;  // index into m.renditions
};
[[nodiscard]] audio_choice audio_for(const master_playlist& m, std::size_t v,
                                     const audio_preferences& prefs,
                                     const rendition* like = nullptr);

// stream_info's view of v's group and the chosen rendition in it.
void describe_audio(const master_playlist& m, std::size_t v, const audio_choice& c,
                    std::vector<rendition_info>& renditions, std::optional<std::size_t>& chosen);

}  // namespace kithara::hls::detail
