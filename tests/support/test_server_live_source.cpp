// live_source: the segments a live stream cycles through, read from a VOD media playlist or made
// up for tests.
#include "test_server_live.hpp"

#include <fstream>
#include <map>
#include <sstream>

namespace kithara::test {

namespace {

std::optional<std::string> read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The value of attribute `name` in an attribute list (quotes removed), "" if absent.
std::string attribute(const std::string& list, const std::string& name) {
    std::size_t pos = 0;
    while (pos < list.size()) {
        const auto eq = list.find('=', pos);
        if (eq == std::string::npos) return {};
        const std::string key = list.substr(pos, eq - pos);
        std::size_t end;
        std::string value;
        if (eq + 1 < list.size() && list[eq + 1] == '"') {
            const auto close = list.find('"', eq + 2);
            if (close == std::string::npos) return {};
            value = list.substr(eq + 2, close - eq - 2);
            end = close + 1;
        } else {
            end = std::min(list.find(',', eq), list.size());
            value = list.substr(eq + 1, end - eq - 1);
        }
        if (key == name) return value;
        pos = end + 1;
    }
    return {};
}

// "n[@o]" -> (length, offset); offset defaults to `next`.
std::optional<std::pair<std::uint64_t, std::uint64_t>> byterange(const std::string& s,
                                                                 std::uint64_t next) {
    try {
        std::size_t used = 0;
        const auto at = s.find('@');
        const std::uint64_t n = std::stoull(s.substr(0, at), &used);
        if (used != (at == std::string::npos ? s.size() : at)) return std::nullopt;
        if (at == std::string::npos) return std::pair{n, next};
        const std::uint64_t o = std::stoull(s.substr(at + 1), &used);
        if (used != s.size() - at - 1) return std::nullopt;
        return std::pair{n, o};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::string extension_of(const std::string& uri) {
    const auto name = uri.substr(0, uri.find('?'));
    const auto dot = name.rfind('.');
    const auto slash = name.rfind('/');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return {};
    return name.substr(dot);
}

}  // namespace

std::optional<live_source> live_source::from_vod_playlist(const std::filesystem::path& playlist,
                                                          std::string& error) {
    const auto text = read_file(playlist);
    if (!text) {
        error = playlist.string() + ": cannot read";
        return std::nullopt;
    }
    const auto dir = playlist.parent_path();
    std::map<std::string, std::string> files;  // uri -> content
    auto load = [&](const std::string& uri, const std::string& where) -> const std::string* {
        if (uri.find("://") != std::string::npos || uri.find("..") != std::string::npos) {
            error = where + ": only relative URIs below the playlist are served: " + uri;
            return nullptr;
        }
        if (auto it = files.find(uri); it != files.end()) return &it->second;
        auto content = read_file(dir / uri);
        if (!content) {
            error = where + ": cannot read " + (dir / uri).string();
            return nullptr;
        }
        return &files.emplace(uri, std::move(*content)).first->second;
    };
    auto slice = [&](const std::string& body,
                     std::optional<std::pair<std::uint64_t, std::uint64_t>> r,
                     const std::string& where) -> std::shared_ptr<const std::string> {
        if (!r) return std::make_shared<const std::string>(body);
        if (r->second > body.size() || r->first > body.size() - r->second) {
            error = where + ": byte range past the end of the file";
            return nullptr;
        }
        return std::make_shared<const std::string>(body.substr(r->second, r->first));
    };

    live_source out;
    std::istringstream in(*text);
    std::string line;
    int number = 0;
    double duration = 0;  // 0: no EXTINF yet
    bool ranged = false, range_has_offset = false;
    std::pair<std::uint64_t, std::uint64_t> range{0, 0};
    std::map<std::string, std::uint64_t> next_offset;  // per file, for "n" without "@o"
    bool header = false;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::string where = playlist.string() + ":" + std::to_string(number);
        if (line.empty()) continue;
        if (!header) {
            if (line != "#EXTM3U") {
                error = where + ": not an M3U8 playlist (no #EXTM3U)";
                return std::nullopt;
            }
            header = true;
            continue;
        }
        if (line.rfind("#EXT-X-STREAM-INF", 0) == 0) {
            error = where + ": a multivariant playlist; give a media playlist";
            return std::nullopt;
        }
        if (line.rfind("#EXT-X-KEY:", 0) == 0) {
            if (attribute(line.substr(11), "METHOD") != "NONE") {
                error = where + ": encrypted segments are not supported";
                return std::nullopt;
            }
        } else if (line.rfind("#EXT-X-MAP:", 0) == 0) {
            const auto attrs = line.substr(11);
            const auto uri = attribute(attrs, "URI");
            const auto* body = uri.empty() ? nullptr : load(uri, where);
            if (!body) {
                if (error.empty()) error = where + ": EXT-X-MAP without URI";
                return std::nullopt;
            }
            std::optional<std::pair<std::uint64_t, std::uint64_t>> r;
            if (const auto br = attribute(attrs, "BYTERANGE"); !br.empty()) {
                r = byterange(br, 0);
                if (!r) {
                    error = where + ": bad BYTERANGE " + br;
                    return std::nullopt;
                }
            }
            if (out.init && !out.segments.empty()) {
                error = where + ": a second EXT-X-MAP is not supported";
                return std::nullopt;
            }
            out.init = slice(*body, r, where);
            if (!out.init) return std::nullopt;
            out.init_extension = extension_of(uri).empty() ? ".mp4" : extension_of(uri);
        } else if (line.rfind("#EXTINF:", 0) == 0) {
            try {
                duration = std::stod(line.substr(8));
            } catch (const std::exception&) {
                duration = 0;
            }
            if (!(duration > 0)) {
                error = where + ": bad EXTINF";
                return std::nullopt;
            }
        } else if (line.rfind("#EXT-X-BYTERANGE:", 0) == 0) {
            const auto r = byterange(line.substr(17), 0);
            if (!r) {
                error = where + ": bad EXT-X-BYTERANGE";
                return std::nullopt;
            }
            ranged = true;
            range = *r;
            range_has_offset = line.find('@') != std::string::npos;
        } else if (line.rfind("#EXT-X-GAP", 0) == 0) {
            error = where + ": EXT-X-GAP is not supported";
            return std::nullopt;
        } else if (line[0] != '#') {
            if (!(duration > 0)) {
                error = where + ": segment without EXTINF";
                return std::nullopt;
            }
            const auto* body = load(line, where);
            if (!body) return std::nullopt;
            if (ranged && !range_has_offset) range.second = next_offset[line];
            if (ranged) next_offset[line] = range.second + range.first;
            auto bytes = ranged ? slice(*body, range, where) : slice(*body, std::nullopt, where);
            if (!bytes) return std::nullopt;
            if (out.segments.empty()) out.extension = extension_of(line);
            out.segments.push_back({line, std::move(bytes), duration});
            duration = 0;
            ranged = false;
        }
    }
    if (out.segments.empty()) {
        error = playlist.string() + ": no segments";
        return std::nullopt;
    }
    if (out.extension.empty() || (out.init && out.extension == ".mp4")) {
        out.extension = out.init ? ".m4s" : ".ts";
    }
    return out;
}

live_source live_source::synthetic(std::size_t count, double duration, std::size_t bytes,
                                   std::string extension) {
    live_source out;
    out.extension = std::move(extension);
    for (std::size_t i = 0; i < count; ++i)
        out.segments.push_back({"synthetic_" + std::to_string(i),
                                std::make_shared<const std::string>(
                                    make_body(bytes, static_cast<std::uint32_t>(i + 1))),
                                duration});
    return out;
}

}  // namespace kithara::test
