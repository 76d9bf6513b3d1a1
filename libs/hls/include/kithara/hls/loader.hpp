// Loading a playlist: over HTTP through kithara::net (redirects, retries, TLS as in playback),
// or from a file; then parse_playlist() against the final URL.
//
//   kithara::worker::io_runtime io;  io.start();
//   kithara::net::client c{io.executor()};
//   auto p = kithara::hls::load_playlist(c, "https://cdn.example/master.m3u8");
//   auto f = kithara::hls::read_playlist_file("/tmp/index.m3u8");  // base: file:///tmp/
//
// Threads: both calls block; load_playlist() must not run on the client's executor thread.
// Locks: none of its own. Buffers: the body is collected in memory, bounded by
// options.parse.limits.max_input_bytes (the request fails beyond it), and released after parsing.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/hls/export.hpp>
#include <kithara/hls/parser.hpp>
#include <kithara/net/client.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace kithara::hls {

struct load_options {
    parse_options parse;
    std::vector<net::header> headers;  // extra request headers (never logged)
    net::request_options request;      // max_body_size is set from the parse limits
};

// The playlist and where it came from.
struct loaded_playlist {
    playlist content;
    std::string final_url;  // after redirects: the base of every relative URI
    std::string etag;
    std::string last_modified;
};

// GET `url` and parse it. Fails with the net error (errc::http_status and friends), with
// errc::bad_response when the body is not text, or with the parser's error (line and rule).
// After redirects the base URL is the effective URL; when no redirect happened it is `url`
// itself (net reports effective URLs redacted, so credentials in `url` are kept only then).
[[nodiscard]] KITHARA_HLS_EXPORT result<loaded_playlist> load_playlist(
    net::client& client, std::string url, const load_options& options = {});

// Reads a file (bounded by max_input_bytes) and parses it with base URL file://<absolute path>.
[[nodiscard]] KITHARA_HLS_EXPORT result<loaded_playlist> read_playlist_file(
    const std::filesystem::path& path, const parse_options& options = {});

}  // namespace kithara::hls
