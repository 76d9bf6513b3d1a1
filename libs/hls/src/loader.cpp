#include <kithara/hls/loader.hpp>

#include <cstdio>
#include <fstream>
#include <string_view>
#include <system_error>

namespace kithara::hls {

result<loaded_playlist> load_playlist(net::client& client, std::string url,
                                      const load_options& options) {
    net::request req;
    req.url = url;
    req.headers = options.headers;
    req.options = options.request;
    req.options.max_body_size = options.parse.limits.max_input_bytes;
    auto got = net::fetch(client, std::move(req));
    if (!got) {
        auto e = got.error();
        e.add_context("load playlist");
        return kithara::fail(std::move(e));
    }
    loaded_playlist out;
    out.final_url = got->stats.redirects > 0 && !got->head.url.empty() ? got->head.url : url;
    out.etag = got->head.etag;
    out.last_modified = got->head.last_modified;
    const std::string_view text(reinterpret_cast<const char*>(got->body.data()), got->body.size());
    if (text.find('\0') != std::string_view::npos) {
        return kithara::fail(errc::bad_response,
                             "line 1: the response body holds NUL bytes; a playlist is UTF-8 text");
    }
    auto parsed = parse_playlist(text, out.final_url, options.parse);
    if (!parsed) return kithara::fail(parsed.error());
    out.content = std::move(*parsed);
    return out;
}

result<loaded_playlist> read_playlist_file(const std::filesystem::path& path,
                                           const parse_options& options) {
    std::error_code ec;
    const auto abs = std::filesystem::absolute(path, ec);
    if (ec) return kithara::fail(ec, "read playlist " + path.string());
    std::ifstream in(abs, std::ios::binary);
    if (!in) {
        return kithara::fail(std::make_error_code(std::errc::no_such_file_or_directory),
                             "read playlist " + abs.string());
    }
    const std::size_t cap = options.limits.max_input_bytes;
    std::string text;
    text.resize(cap + 1);
    in.read(text.data(), static_cast<std::streamsize>(cap + 1));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad()) {
        return kithara::fail(std::make_error_code(std::errc::io_error),
                             "read playlist " + abs.string());
    }
    loaded_playlist out;
    out.final_url = "file://" + abs.lexically_normal().generic_string();
    auto parsed = parse_playlist(text, out.final_url, options);
    if (!parsed) return kithara::fail(parsed.error());
    out.content = std::move(*parsed);
    return out;
}

}  // namespace kithara::hls
