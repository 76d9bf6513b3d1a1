#include "detail/radio_list.hpp"

#include <kithara/core/url.hpp>
#include <kithara/net/http.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

namespace kithara::detail {

namespace {

using net::http::iequals;

constexpr std::size_t max_line = 8 * 1024;

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Splits `text` into trimmed lines (LF, CRLF or CR); nullopt when it is not text.
std::optional<std::vector<std::string_view>> lines_of(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    if (text.find('\0') != std::string_view::npos) return std::nullopt;
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const auto end = text.find_first_of("\r\n");
        const auto line = text.substr(0, end);
        if (line.size() > max_line) return std::nullopt;
        out.push_back(trim(line));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return out;
}

// Adds `ref` resolved against `base` if it is an http(s) URL not already there.
void add_entry(std::vector<std::string>& out, std::string_view base, std::string_view ref) {
    if (ref.empty() || out.size() >= max_list_entries) return;
    auto url = resolve_url(base, ref);
    if (!istarts_with(url, "http://") && !istarts_with(url, "https://")) return;
    if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(std::move(url));
}

// PLS: "[playlist]", then FileN=<url> (TitleN, LengthN, NumberOfEntries, Version ignored).
std::optional<std::vector<std::string>> pls_entries(const std::vector<std::string_view>& lines,
                                                    std::string_view base) {
    std::map<unsigned, std::string_view> files;
    bool in_playlist = false;
    for (const auto line : lines) {
        if (line.starts_with('[')) {
            in_playlist = iequals(line, "[playlist]");
            continue;
        }
        if (!in_playlist || !istarts_with(line, "file")) continue;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        const auto key = trim(line.substr(4, eq - 4));
        unsigned n = 0;
        const auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), n);
        if (ec != std::errc{} || p != key.data() + key.size()) continue;
        files.emplace(n, trim(line.substr(eq + 1)));
    }
    std::vector<std::string> out;
    for (const auto& [n, ref] : files) add_entry(out, base, ref);
    return out;
}

}  // namespace

std::optional<std::vector<std::string>> radio_list_entries(std::string_view text,
                                                           std::string_view list_url) {
    const auto lines = lines_of(text);
    if (!lines) return std::nullopt;
    // PLS: a [playlist] section, wherever it starts.
    if (std::any_of(lines->begin(), lines->end(),
                    [](std::string_view l) { return iequals(l, "[playlist]"); }))
        return pls_entries(*lines, list_url);
    // M3U: a line per URI; comments and #EXTINF skipped. An HLS tag makes it HLS, not a list.
    std::vector<std::string> out;
    for (const auto line : *lines) {
        if (istarts_with(line, "#EXT-X-")) return std::nullopt;
        if (line.starts_with('#')) continue;
        add_entry(out, list_url, line);
    }
    return out;
}

}  // namespace kithara::detail
