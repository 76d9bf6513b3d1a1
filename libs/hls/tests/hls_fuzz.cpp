// libFuzzer target for the playlist parser: any bytes as a playlist, under normal and under tiny
// limits, with a few base URLs and imports; an accepted playlist's model must be consistent
// (every index in range, every URI resolved). 0 crashes and 0 sanitizer reports is the bar.
#include <kithara/hls/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void check_media(const kithara::hls::media_playlist& m) {
    std::uint64_t last_seq = 0;
    bool first = true;
    for (const auto& s : m.segments) {
        check(s.duration >= 0);
        check(s.key_count == 0 || (s.key < m.keys.size() && s.key + s.key_count <= m.keys.size()));
        check(s.map == kithara::hls::no_index || s.map < m.maps.size());
        check(s.program_date_time == kithara::hls::no_index ||
              s.program_date_time < m.program_date_times.size());
        check(s.uri.empty() || !s.resolved_uri.empty());
        check(first || s.media_sequence == last_seq + 1);
        first = false;
        last_seq = s.media_sequence;
        if (const auto* k = m.key_of(s)) check(k->method != kithara::hls::key_method::none);
        (void)m.map_of(s);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t mode = data[0];
    // Seeds are plain playlists: a first byte of '#' selects the default mode.
    const bool tiny = mode != '#' && (mode & 1) != 0;
    if (mode != '#') {
        ++data;
        --size;
    }
    static constexpr std::string_view urls[] = {
        "https://cdn.example/a/b/index.m3u8?token=abc&x=%41",
        "http://[::1]:8080/live/",
        "file:///tmp/p.m3u8",
        "",
    };
    kithara::hls::parse_options o;
    if (tiny) {
        o.limits.max_input_bytes = 4096;
        o.limits.max_line_length = 256;
        o.limits.max_segments = 16;
        o.limits.max_variants = 4;
        o.limits.max_renditions = 4;
        o.limits.max_attributes = 8;
        o.limits.max_variables = 4;
        o.limits.max_expansion_bytes = 1024;
    }
    o.imports = {{"base", "https://imported.example/x"}, {"a", "{$a}"}};
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto p = kithara::hls::parse_playlist(text, urls[(mode >> 1) % 4], o);
    if (!p) {
        const auto& ctx = p.error().context();
        check(ctx.rfind("line ", 0) == 0);  // every rejection names its line
        return 0;
    }
    if (p->is_master()) {
        const auto& m = p->master();
        check(m.variants.size() + m.iframe_variants.size() <= o.limits.max_variants);
        check(m.renditions.size() <= o.limits.max_renditions);
    } else {
        check(p->media().segments.size() <= o.limits.max_segments);
        check_media(p->media());
    }
    return 0;
}
