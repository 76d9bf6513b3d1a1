#include <kithara/net/url.hpp>

#include <kithara/core/url.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace kithara::net {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool secret_key(std::string_view key) {
    static constexpr std::array<std::string_view, 19> needles{
        "token", "key",  "sig",    "auth",   "pass", "pwd",   "secret", "session", "sid",   "cred",
        "jwt",   "code", "policy", "x-amz-", "hash", "nonce", "ticket", "bearer",  "access"};
    const std::string k = lower(key);
    return std::any_of(needles.begin(), needles.end(),
                       [&](std::string_view n) { return k.find(n) != std::string::npos; });
}

void redact_query(std::string_view query, std::string& out) {
    std::size_t pos = 0;
    while (pos <= query.size()) {
        std::size_t amp = query.find('&', pos);
        if (amp == std::string_view::npos) amp = query.size();
        std::string_view pair = query.substr(pos, amp - pos);
        std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) {
            // A bare value ("?abcdef..."): opaque long strings are secrets too.
            out.append(pair.size() >= 24 ? std::string_view("***") : pair);
        } else {
            std::string_view key = pair.substr(0, eq);
            std::string_view value = pair.substr(eq + 1);
            out.append(key).push_back('=');
            out.append(!value.empty() && (secret_key(key) || value.size() >= 24)
                           ? std::string_view("***")
                           : value);
        }
        if (amp == query.size()) break;
        out.push_back('&');
        pos = amp + 1;
    }
}

}  // namespace

std::string redact_url(std::string_view url) {
    const url_parts p = split_url(url);
    std::string out;
    out.reserve(url.size());
    std::string_view path = p.path;
    if (p.authority) {
        if (p.scheme) out.append(*p.scheme).push_back(':');
        out.append("//");
        const auto a = split_authority(*p.authority);
        if (a.userinfo) out.append("***@");
        out.append(p.authority->substr(a.userinfo ? a.userinfo->size() + 1 : 0));
    } else {
        // Not a well-formed URL (" https://...", "my_app://...", "user:pw@host/x"): text up to
        // "://" is kept, and what follows up to the path is redacted like an authority.
        path = url.substr(0, std::min(url.find_first_of("?#"), url.size()));
        if (const auto sep = path.find("://"); sep != std::string_view::npos) {
            out.append(path.substr(0, sep + 3));
            path.remove_prefix(sep + 3);
        }
        const auto head = path.substr(0, std::min(path.find('/'), path.size()));
        if (const auto at = head.rfind('@'); at != std::string_view::npos) {
            out.append("***@");
            path.remove_prefix(at + 1);
        }
    }
    out.append(path);
    if (p.query) {
        out.push_back('?');
        redact_query(*p.query, out);
    }
    return out;  // the fragment is dropped
}

}  // namespace kithara::net
