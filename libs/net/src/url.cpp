#include <kithara/net/url.hpp>

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
    std::string out;
    out.reserve(url.size());
    if (std::size_t hash = url.find('#'); hash != std::string_view::npos) url = url.substr(0, hash);
    std::size_t scheme_end = url.find("://");
    std::size_t auth_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    std::size_t auth_end = url.find_first_of("/?", auth_start);
    if (auth_end == std::string_view::npos) auth_end = url.size();
    std::string_view authority = url.substr(auth_start, auth_end - auth_start);
    out.append(url.substr(0, auth_start));
    if (std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
        out.append("***@").append(authority.substr(at + 1));
    } else {
        out.append(authority);
    }
    std::string_view rest = url.substr(auth_end);
    std::size_t q = rest.find('?');
    out.append(rest.substr(0, q));
    if (q != std::string_view::npos) {
        out.push_back('?');
        redact_query(rest.substr(q + 1), out);
    }
    return out;
}

}  // namespace kithara::net
