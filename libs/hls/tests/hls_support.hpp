// Test helpers for kithara::hls: parse() wraps parse_playlist() and, when the environment names
// a directory in KITHARA_HLS_CORPUS_DIR, also writes every input there (the fuzzer's seed corpus
// is every playlist the tests parse).
#pragma once

#include <kithara/hls/parser.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <string_view>

namespace kithara::hls::test {

inline void dump_corpus(std::string_view text) {
    const char* dir = std::getenv("KITHARA_HLS_CORPUS_DIR");
    if (dir == nullptr || *dir == '\0') return;
    const auto h = std::hash<std::string_view>{}(text);
    std::ofstream out(std::string(dir) + "/seed-" + std::to_string(h) + ".m3u8", std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

inline result<playlist> parse(std::string_view text,
                              std::string_view url = "https://cdn.example/a/b/index.m3u8",
                              const parse_options& options = {}) {
    dump_corpus(text);
    return parse_playlist(text, url, options);
}

// Parses text that must be accepted; fails the test with the error otherwise.
inline playlist accept(std::string_view text,
                       std::string_view url = "https://cdn.example/a/b/index.m3u8",
                       const parse_options& options = {}) {
    auto p = parse(text, url, options);
    EXPECT_TRUE(p.has_value()) << (p ? std::string() : p.error().message());
    return p ? std::move(*p) : playlist{};
}

// The error of text that must be rejected.
inline error reject(std::string_view text, const parse_options& options = {},
                    std::string_view url = "https://cdn.example/a/b/index.m3u8") {
    auto p = parse(text, url, options);
    EXPECT_FALSE(p.has_value()) << "accepted but must be rejected:\n" << text;
    return p ? error{} : p.error();
}

inline const warning* find_warning(const playlist& p, warning_kind k) {
    for (const auto& w : p.warnings) {
        if (w.kind == k) return &w;
    }
    return nullptr;
}

}  // namespace kithara::hls::test
