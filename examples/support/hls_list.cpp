#include "hls_list.hpp"

#include "cli.hpp"

#include <kithara/hls/hls_stream.hpp>
#include <kithara/hls/loader.hpp>

#include <atomic>
#include <cstdio>
#include <optional>
#include <vector>

namespace kithara::examples {

// --list: the master's variants (indexes for --variant) and renditions, or the media playlist.
int list_variants(net::client& client, const std::string& url) {
    auto p = hls::load_playlist(client, url);
    if (!p) {
        std::fprintf(stderr, "hls_playback: %s: %s\n", url.c_str(), p.error().message().c_str());
        return exit_failure;
    }
    if (!p->content.is_master()) {
        const auto& m = p->content.media();
        std::printf("media playlist %s: %zu segments, %.3f s (no variants)\n", url.c_str(),
                    m.segments.size(), m.duration());
        return exit_ok;
    }
    const auto& m = p->content.master();
    std::printf("%zu variants of %s:\n", m.variants.size(), url.c_str());
    for (std::size_t i = 0; i < m.variants.size(); ++i) {
        const auto& v = m.variants[i];
        std::printf("  %zu  BANDWIDTH=%llu", i, static_cast<unsigned long long>(v.bandwidth));
        if (v.average_bandwidth)
            std::printf(" AVERAGE-BANDWIDTH=%llu",
                        static_cast<unsigned long long>(*v.average_bandwidth));
        if (v.codecs) std::printf(" CODECS=%s", v.codecs->c_str());
        if (v.audio) std::printf(" AUDIO=%s", v.audio->c_str());
        std::printf("  %s\n", v.uri.c_str());
    }
    if (!m.renditions.empty()) {
        std::printf("%zu renditions:\n", m.renditions.size());
        for (const auto& r : m.renditions) {
            std::printf("  %s GROUP-ID=%s NAME=\"%s\"", hls::to_string(r.type), r.group_id.c_str(),
                        r.name.c_str());
            if (r.language) std::printf(" LANGUAGE=%s", r.language->c_str());
            if (r.assoc_language) std::printf(" ASSOC-LANGUAGE=%s", r.assoc_language->c_str());
            if (r.channels) std::printf(" CHANNELS=%s", r.channels->c_str());
            if (r.is_default) std::printf(" DEFAULT");
            if (r.autoselect) std::printf(" AUTOSELECT");
            std::printf("  %s\n", r.uri ? r.uri->c_str() : "(in the variant's stream)");
        }
    }
    return exit_ok;
}

// --list --offline: the variants the cached master lists, each marked by whether its media
// playlist is cached too (opened offline, one index after the other: no request is made).
int list_cached(assets::asset_store& store, net::client& client, const std::string& url) {
    std::optional<hls::stream_info> info;
    std::vector<bool> cached;
    std::string first_error;
    std::atomic<bool> master_cached{false};
    for (std::size_t i = 0; i < 1000; ++i) {
        hls::stream_options o;
        o.offline = true;
        o.variant = i;
        o.on_event = [&master_cached](const hls::event& e) {
            if (e.kind == hls::event_kind::variant_chosen) master_cached = true;
        };
        auto s = hls::open(url, store, client, o);
        if (s) {
            if (!info) info = (*s)->info();
            cached.resize(i + 1);
            cached[i] = true;
            if (info->variants.empty()) break;  // a media playlist
        } else if (s.error().code() == hls::errc::offline_miss) {
            if (first_error.empty()) first_error = s.error().message();
            if (!master_cached) break;  // not even the master playlist is cached
        } else {
            break;  // past the last variant (or nothing usable cached)
        }
        if (info && i + 1 >= info->variants.size()) break;
    }
    if (!info) {
        std::fprintf(stderr, "hls_playback: %s: no playable variant in the cache%s%s\n",
                     url.c_str(), first_error.empty() ? "" : ": ", first_error.c_str());
        return exit_failure;
    }
    if (info->variants.empty()) {
        std::printf("media playlist %s: %zu segments, %.3f s (no variants; cached)\n", url.c_str(),
                    info->segments, info->duration);
        return exit_ok;
    }
    cached.resize(info->variants.size());
    std::printf("%zu variants of %s (from the cache):\n", info->variants.size(), url.c_str());
    for (std::size_t i = 0; i < info->variants.size(); ++i) {
        const auto& v = info->variants[i];
        std::printf("  %zu  BANDWIDTH=%llu CODECS=%s  %s%s\n", i,
                    static_cast<unsigned long long>(v.bandwidth), v.codecs.value_or("?").c_str(),
                    v.uri.c_str(), cached[i] ? "" : "  (not cached)");
    }
    return exit_ok;
}

}  // namespace kithara::examples
