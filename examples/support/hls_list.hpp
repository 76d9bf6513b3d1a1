// hls_list: hls_playback's --list: the variants and renditions of a master playlist (or what a
// media playlist holds), fetched; with --offline, the variants the cached master lists, each
// marked by whether its media playlist is cached too.
//
//   return list_variants(client, url);       // prints to stdout, returns the exit code
//   return list_cached(store, client, url);  // no request at all
//
// Threads: the calling thread (never the client's executor: both block). Locks: none of their
// own. Buffers: the playlists, while printing.
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/net/client.hpp>

#include <string>

namespace kithara::examples {

// Exit codes as cli.hpp's: exit_ok, or exit_failure with the error on stderr.
int list_variants(net::client& client, const std::string& url);
int list_cached(assets::asset_store& store, net::client& client, const std::string& url);

}  // namespace kithara::examples
