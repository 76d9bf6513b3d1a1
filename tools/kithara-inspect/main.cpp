// kithara-inspect: fetch (through kithara::net: redirects, retries, TLS as in playback) or read
// an HLS playlist, then print a summary, or --json (schema in docs/HLS.md).
//
//   kithara-inspect https://cdn.example/master.m3u8
//   kithara-inspect --json index.m3u8 | jq .segments[0]
//   kithara-inspect --resolve -H "Authorization: Bearer ..." https://cdn.example/a/index.m3u8
//
// Exit status: 0 the playlist was accepted; 1 rejected (the error, with its line and rule, on
// stderr) or not fetched; 2 usage errors.
#include "render.hpp"

#include <kithara/hls/loader.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

bool is_url(const std::string& s) {
    return s.starts_with("http://") || s.starts_with("https://");
}

kithara::result<kithara::hls::loaded_playlist> load(const std::string& source,
                                                    const kithara::hls::load_options& options) {
    if (!is_url(source)) {
        const std::string path = source.starts_with("file://") ? source.substr(7) : source;
        return kithara::hls::read_playlist_file(path, options.parse);
    }
    kithara::worker::io_runtime io({.threads = 1, .name = "inspect-io"});
    if (auto started = io.start(); !started) return kithara::fail(started.error());
    std::optional<kithara::net::client> client;
    client.emplace(io.executor());
    auto out = kithara::hls::load_playlist(*client, source, options);
    client.reset();  // before the io runtime that runs it
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Fetch or read an HLS playlist and print it (kithara::hls)", "kithara-inspect"};
    std::string source;
    bool as_json = false;
    bool resolve = false;
    std::vector<std::string> headers;
    std::vector<std::string> imports;
    app.add_option("source", source, "http(s) URL, file:// URL or path of the playlist")
        ->required();
    app.add_flag("--json", as_json, "print one JSON object (URIs as written) instead of a summary");
    app.add_flag("--resolve", resolve, "print resolved absolute URIs in the summary");
    app.add_option("-H,--header", headers, "extra request header \"Name: value\" (repeatable)");
    app.add_option("--import", imports,
                   "NAME=VALUE of a master playlist variable for EXT-X-DEFINE:IMPORT (repeatable)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }

    kithara::hls::load_options options;
    for (const auto& h : headers) {
        const auto colon = h.find(':');
        if (colon == std::string::npos) {
            std::cerr << "kithara-inspect: --header needs \"Name: value\"\n";
            return 2;
        }
        std::string value = h.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        options.headers.push_back({h.substr(0, colon), value});
    }
    for (const auto& i : imports) {
        const auto eq = i.find('=');
        if (eq == std::string::npos) {
            std::cerr << "kithara-inspect: --import needs NAME=VALUE\n";
            return 2;
        }
        options.parse.imports.push_back({i.substr(0, eq), i.substr(eq + 1)});
    }

    auto loaded = load(source, options);
    if (!loaded) {
        std::cerr << "kithara-inspect: " << source << ": " << loaded.error().message() << "\n";
        return 1;
    }
    if (as_json) {
        std::cout << kithara::inspect::to_json(loaded->content)
                         .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                  << "\n";
        for (const auto& w : loaded->content.warnings) {
            std::cerr << "kithara-inspect: warning: line " << w.line << ": " << w.message << "\n";
        }
    } else {
        kithara::inspect::print_summary(std::cout, loaded->content, resolve);
    }
    return std::cout.good() ? 0 : 1;
}
