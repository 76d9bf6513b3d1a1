#include <kithara/assets/key.hpp>

#include <kithara/assets/error.hpp>
#include <kithara/core/url.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cassert>

namespace kithara::assets {
namespace {

constexpr char hex_digits[] = "0123456789ABCDEF";

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}
char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
bool is_unreserved(char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) {
    switch (c) {
        case '!':
        case '$':
        case '&':
        case '\'':
        case '(':
        case ')':
        case '*':
        case '+':
        case ',':
        case ';':
        case '=':
            return true;
        default:
            return false;
    }
}

enum class component { host, path, query };

bool literal_ok(char c, component where) {
    if (is_unreserved(c)) return true;
    switch (where) {
        case component::host:
            return is_sub_delim(c);
        case component::path:
            return is_sub_delim(c) || c == ':' || c == '@' || c == '/';
        case component::query:
            return is_sub_delim(c) || c == ':' || c == '@' || c == '/' || c == '?';
    }
    return false;
}

void append_escaped(std::string& out, unsigned char b) {
    out.push_back('%');
    out.push_back(hex_digits[b >> 4]);
    out.push_back(hex_digits[b & 15]);
}

// Decodes escapes of unreserved characters, upper-cases the others, escapes everything else that
// may not appear literally. A '%' not followed by two hex digits is escaped as "%25".
std::string normalize_escapes(std::string_view in, component where) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%' && i + 2 < in.size() && is_hex(in[i + 1]) && is_hex(in[i + 2])) {
            const auto v = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            if (is_unreserved(v)) {
                out.push_back(where == component::host ? lower(v) : v);
            } else {
                append_escaped(out, static_cast<unsigned char>(v));
            }
            i += 2;
        } else if (c != '%' && literal_ok(c, where)) {
            out.push_back(where == component::host ? lower(c) : c);
        } else {
            append_escaped(out, static_cast<unsigned char>(c));
        }
    }
    return out;
}

std::string_view default_port(std::string_view scheme) {
    if (scheme == "http" || scheme == "ws") return "80";
    if (scheme == "https" || scheme == "wss") return "443";
    if (scheme == "ftp") return "21";
    return {};
}

std::string filter_query(std::string_view query, const key_policy& policy) {
    if (policy.ignored_query_params.empty()) return std::string(query);
    std::string out;
    std::size_t pos = 0;
    while (pos <= query.size()) {
        const std::size_t amp = std::min(query.find('&', pos), query.size());
        const std::string_view param = query.substr(pos, amp - pos);
        const std::string_view name = param.substr(0, param.find('='));
        const bool ignored =
            std::find(policy.ignored_query_params.begin(), policy.ignored_query_params.end(),
                      name) != policy.ignored_query_params.end();
        if (!ignored && !param.empty()) {
            if (!out.empty()) out.push_back('&');
            out.append(param);
        }
        pos = amp + 1;
    }
    return out;
}

key digest(std::string_view domain, std::string_view a, std::string_view b = {}) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const char zero = '\0';
    bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
              EVP_DigestUpdate(ctx, domain.data(), domain.size()) == 1 &&
              EVP_DigestUpdate(ctx, &zero, 1) == 1 &&
              EVP_DigestUpdate(ctx, a.data(), a.size()) == 1;
    if (ok && b.data() != nullptr) {
        ok = EVP_DigestUpdate(ctx, &zero, 1) == 1 && EVP_DigestUpdate(ctx, b.data(), b.size()) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &len) == 1;
    EVP_MD_CTX_free(ctx);
    assert(ok && len >= 16);  // SHA-256 is always available in OpenSSL's default provider
    (void)ok;
    key k;
    std::copy_n(md, k.bytes.size(), k.bytes.begin());
    return k;
}

}  // namespace

result<std::string> canonicalize_url(std::string_view url, const key_policy& policy) {
    const auto bad = [&](const char* why) {
        return fail(errc::invalid_url,
                    std::string(why) + " (URL of " + std::to_string(url.size()) + " bytes)");
    };
    while (!url.empty() && (url.front() == ' ' || url.front() == '\t')) url.remove_prefix(1);
    while (!url.empty() &&
           (url.back() == ' ' || url.back() == '\t' || url.back() == '\n' || url.back() == '\r'))
        url.remove_suffix(1);

    const url_parts p = split_url(url);
    if (!p.scheme || p.scheme->empty()) return bad("no scheme");
    if (!p.authority) return bad("not an absolute URL with an authority");
    std::string scheme;
    for (char c : *p.scheme) scheme.push_back(lower(c));
    // Credentials (userinfo) never become part of a key.
    const authority_parts a = split_authority(*p.authority);
    const std::string_view host = a.host;
    std::string_view port = a.port.value_or(std::string_view{});
    if (!host.empty() && host.front() == '[') {
        if (host.back() != ']') return bad("unterminated IPv6 literal");
        const std::size_t used = (a.userinfo ? a.userinfo->size() + 1 : 0) + host.size() +
                                 (a.port ? a.port->size() + 1 : 0);
        if (used != p.authority->size()) return bad("garbage after IPv6 literal");
        for (char c : host.substr(1, host.size() - 2)) {
            if (!is_hex(c) && c != ':' && c != '.') return bad("bad IPv6 literal");
        }
    }
    if (host.empty() && scheme != "file") return bad("empty host");

    std::string canonical = scheme;
    canonical.append("://");
    if (!host.empty() && host.front() == '[') {
        for (char c : host) canonical.push_back(lower(c));
    } else {
        canonical.append(normalize_escapes(host, component::host));
    }
    // Port: digits only, leading zeros dropped, default dropped.
    if (!port.empty()) {
        if (port.size() > 16 || !std::all_of(port.begin(), port.end(), is_digit))
            return bad("bad port");
        while (port.size() > 1 && port.front() == '0') port.remove_prefix(1);
        unsigned long value = 0;
        for (char c : port) value = value * 10 + static_cast<unsigned long>(c - '0');
        if (value > 65535) return bad("port out of range");
        if (port != default_port(scheme)) canonical.append(":").append(port);
    }

    std::string normalized_path = normalize_escapes(p.path, component::path);
    if (normalized_path.empty() || normalized_path.front() != '/') {
        normalized_path.insert(normalized_path.begin(), '/');
    }
    canonical.append(remove_dot_segments(normalized_path));

    if (p.query && policy.query == query_policy::keep) {
        const std::string query =
            filter_query(normalize_escapes(*p.query, component::query), policy);
        if (!query.empty()) canonical.append("?").append(query);
    }
    return canonical;
}

std::string key::hex() const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(bytes.size() * 2, '0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    return out;
}

bool key::from_hex(std::string_view s, key& out) {
    if (s.size() != 32) return false;
    for (std::size_t i = 0; i < 16; ++i) {
        const char hi = s[2 * i], lo = s[2 * i + 1];
        const auto ok = [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); };
        if (!ok(hi) || !ok(lo)) return false;
        out.bytes[i] = static_cast<std::uint8_t>(hex_value(hi) * 16 + hex_value(lo));
    }
    return true;
}

key asset_key(std::string_view canonical_url) {
    return digest("kithara-asset", canonical_url);
}

key resource_key(std::string_view canonical_url) {
    return digest("kithara-resource", canonical_url);
}

key processed_key(std::string_view canonical_url, std::string_view transform_name) {
    return digest("kithara-processed", canonical_url,
                  transform_name.data() ? transform_name : std::string_view(""));
}

}  // namespace kithara::assets
