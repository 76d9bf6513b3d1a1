// hls_pin: hls_playback's --pin: kithara::hls::pin() (the whole variant downloaded into the
// cache and pinned, nothing decoded) with its progress events drawn as a bar on stderr.
//
//   auto r = pin_with_progress(url, store, client, options, !quiet);  // blocks until done
//   if (r) std::printf("%llu segments\n", (unsigned long long)r->segments_from_network);
//
// Threads: called by one thread (never the client's executor); it runs hls::pin() on a thread of
// its own and draws the bar itself, so only the calling thread writes the terminal. Locks: one
// mutex guards the latest progress event and the result, never held across I/O or the drawing.
// Buffers: none.
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/core/result.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <kithara/net/client.hpp>

#include <string>

namespace kithara::examples {

// hls::pin(url, store, client, options), options.on_event still called for every event. show:
// draw the bar (only when stderr is a terminal).
[[nodiscard]] result<hls::stream_stats> pin_with_progress(const std::string& url,
                                                          assets::asset_store& store,
                                                          net::client& client,
                                                          hls::stream_options options, bool show);

// One line of the bar: "pinning [#####.......]  40.0%  1.2 / ~3.0 MiB  7 / 30 segments  850 KiB/s"
// ("~": the total is partly estimated).
[[nodiscard]] std::string pin_progress_text(const hls::event& progress, double kib_per_s);

}  // namespace kithara::examples
