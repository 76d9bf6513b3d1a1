#include <kithara/core/url.hpp>

namespace kithara {
namespace {

bool scheme_char(char c, bool first) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (first) return alpha;
    return alpha || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

// RFC 3986 5.2.3: the base path without its last segment, then the reference path.
std::string merge(const url_parts& base, std::string_view ref_path) {
    if (base.authority && base.path.empty()) return "/" + std::string(ref_path);
    const auto slash = base.path.rfind('/');
    if (slash == std::string_view::npos) return std::string(ref_path);
    std::string out(base.path.substr(0, slash + 1));
    out.append(ref_path);
    return out;
}

}  // namespace

url_parts split_url(std::string_view url) noexcept {
    url_parts p;
    // ^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?
    if (auto hash = url.find('#'); hash != std::string_view::npos) {
        p.fragment = url.substr(hash + 1);
        url = url.substr(0, hash);
    }
    if (auto q = url.find('?'); q != std::string_view::npos) {
        p.query = url.substr(q + 1);
        url = url.substr(0, q);
    }
    if (auto colon = url.find(':'); colon != std::string_view::npos && colon > 0) {
        bool ok = true;
        for (std::size_t i = 0; i < colon && ok; ++i) ok = scheme_char(url[i], i == 0);
        if (ok && url.substr(0, colon).find('/') == std::string_view::npos) {
            p.scheme = url.substr(0, colon);
            url = url.substr(colon + 1);
        }
    }
    if (url.substr(0, 2) == "//") {
        url.remove_prefix(2);
        const auto end = url.find('/');
        p.authority = url.substr(0, end);
        url = end == std::string_view::npos ? std::string_view{} : url.substr(end);
    }
    p.path = url;
    return p;
}

authority_parts split_authority(std::string_view authority) noexcept {
    authority_parts a;
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        a.userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
    }
    std::size_t host_end = authority.size();
    if (!authority.empty() && authority.front() == '[') {
        const auto close = authority.find(']');
        host_end = close == std::string_view::npos ? authority.size() : close + 1;
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host_end = colon;
    }
    a.host = authority.substr(0, host_end);
    if (host_end < authority.size() && authority[host_end] == ':')
        a.port = authority.substr(host_end + 1);
    return a;
}

std::string join_url(const url_parts& p) {
    std::string out;
    if (p.scheme) out.append(*p.scheme).push_back(':');
    if (p.authority) out.append("//").append(*p.authority);
    out.append(p.path);
    if (p.query) out.append("?").append(*p.query);
    if (p.fragment) out.append("#").append(*p.fragment);
    return out;
}

std::string remove_dot_segments(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    const auto pop_last = [&] {
        const auto slash = out.rfind('/');
        out.resize(slash == std::string::npos ? 0 : slash);
    };
    while (!in.empty()) {
        if (in.substr(0, 3) == "../") {
            in.remove_prefix(3);
        } else if (in.substr(0, 2) == "./") {
            in.remove_prefix(2);
        } else if (in.substr(0, 3) == "/./") {
            in.remove_prefix(2);
        } else if (in == "/.") {
            in = "/";
        } else if (in.substr(0, 4) == "/../") {
            in.remove_prefix(3);
            pop_last();
        } else if (in == "/..") {
            in = "/";
            pop_last();
        } else if (in == "." || in == "..") {
            in = {};
        } else {
            // Move the first segment (with its leading '/', if any) to the output.
            const auto next = in.find('/', in.front() == '/' ? 1 : 0);
            const auto n = next == std::string_view::npos ? in.size() : next;
            out.append(in.substr(0, n));
            in.remove_prefix(n);
        }
    }
    return out;
}

std::string resolve_url(std::string_view base_url, std::string_view ref_url) {
    const url_parts base = split_url(base_url);
    const url_parts ref = split_url(ref_url);
    url_parts t;
    std::string path;
    if (ref.scheme) {
        t.scheme = ref.scheme;
        t.authority = ref.authority;
        path = remove_dot_segments(ref.path);
        t.query = ref.query;
    } else {
        t.scheme = base.scheme;
        if (ref.authority) {
            t.authority = ref.authority;
            path = remove_dot_segments(ref.path);
            t.query = ref.query;
        } else {
            t.authority = base.authority;
            if (ref.path.empty()) {
                path = std::string(base.path);
                t.query = ref.query ? ref.query : base.query;
            } else {
                path = remove_dot_segments(ref.path.front() == '/' ? std::string(ref.path)
                                                                   : merge(base, ref.path));
                t.query = ref.query;
            }
        }
    }
    t.fragment = ref.fragment;
    t.path = path;
    return join_url(t);
}

}  // namespace kithara
