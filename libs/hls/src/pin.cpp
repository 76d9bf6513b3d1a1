// pin: an HLS asset downloaded whole for offline play (assets' pin keeps it out of the LRU).
#include <kithara/hls/hls_stream.hpp>

#include "detail/engine.hpp"

#include <kithara/hls/error.hpp>

#include <limits>

namespace kithara::hls {

result<stream_stats> pin(std::string url, assets::asset_store& store, net::client& client,
                         stream_options options) {
    // Pinned first: nothing downloaded below can be evicted meanwhile.
    if (auto p = store.pin(url); !p) return kithara::fail(p.error());
    options.cache_keys = true;  // offline play needs the keys
    options.prefetch_seconds = std::numeric_limits<double>::infinity();
    options.prefetch_bytes = std::numeric_limits<std::uint64_t>::max();
    auto e = detail::engine::create(std::move(url), store, client, std::move(options));
    if (!e) return kithara::fail(e.error());
    if ((*e)->live()) {
        (*e)->shutdown();
        return kithara::fail(errc::not_supported,
                             "a live playlist has no end to download: pin it once it has "
                             "EXT-X-ENDLIST (play it with live_options::keep_event to keep an "
                             "EVENT playlist's segments)");
    }
    auto done = (*e)->download_all();
    (*e)->shutdown();
    if (!done) return kithara::fail(done.error());
    return (*e)->stats(0);
}

}  // namespace kithara::hls
