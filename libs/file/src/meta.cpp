#include "detail/meta.hpp"

#include <kithara/net/http.hpp>

#include <algorithm>
#include <charconv>
#include <system_error>

namespace kithara::file::detail {

namespace {

constexpr std::string_view magic = "kithara-file-meta ";

bool has_control(std::string_view v) {
    return std::any_of(v.begin(), v.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

std::string_view storable(std::string_view v) {
    return has_control(v) ? std::string_view{} : v;
}

template <class T>
bool number(std::string_view v, T& out) {
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return !v.empty() && ec == std::errc{} && p == v.data() + v.size();
}

kithara::error bad(std::size_t line, std::string_view text, std::string_view why) {
    std::string shown(text.substr(0, 64));
    std::replace_if(
        shown.begin(), shown.end(),
        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, '?');
    return kithara::error(
        std::make_error_code(std::errc::bad_message),
        "file metadata line " + std::to_string(line) + " '" + shown + "': " + std::string(why));
}

}  // namespace

std::string meta::if_range() const {
    return net::http::if_range_validator(etag, last_modified);
}

std::string meta::serialize() const {
    std::string o;
    o.reserve(160 + etag.size() + last_modified.size() + container.size());
    o += magic;
    o += std::to_string(meta_version);
    o += "\ngen=" + std::to_string(gen);
    o += "\netag=";
    o += storable(etag);
    o += "\nlast_modified=";
    o += storable(last_modified);
    o += "\nlength=" + (length ? std::to_string(*length) : std::string("-"));
    o += "\nfetched_at=" + std::to_string(fetched_at);
    o += "\nfresh_until=" + std::to_string(fresh_until);
    o += std::string("\nranges=") + (ranges ? "1" : "0");
    o += "\ncontainer=";
    o += storable(container);
    o += "\n";
    return o;
}

result<meta> meta::parse(std::string_view s) {
    std::size_t pos = s.find('\n');
    if (pos == std::string_view::npos) return fail(bad(1, s, "no version line"));
    const auto first = s.substr(0, pos);
    if (first.substr(0, magic.size()) != magic) return fail(bad(1, first, "not file metadata"));
    int version = 0;
    if (!number(first.substr(magic.size()), version)) return fail(bad(1, first, "bad version"));
    if (version != meta_version) {
        return fail(bad(1, first,
                        "version " + std::to_string(version) +
                            " is not supported (this build reads " + std::to_string(meta_version) +
                            ")"));
    }
    s.remove_prefix(pos + 1);
    meta m;
    // Keys version 1 always wrote (container came later within version 1: optional).
    enum : unsigned {
        k_gen = 1,
        k_etag = 2,
        k_last_modified = 4,
        k_length = 8,
        k_fetched_at = 16,
        k_fresh_until = 32,
        k_ranges = 64,
        k_container = 128,
        required = 127
    };
    unsigned seen = 0;
    std::size_t line_no = 1;
    while (!s.empty()) {
        ++line_no;
        pos = s.find('\n');
        if (pos == std::string_view::npos) return fail(bad(line_no, s, "truncated (no newline)"));
        const std::string_view line = s.substr(0, pos);
        s.remove_prefix(pos + 1);
        if (has_control(line)) return fail(bad(line_no, line, "control character"));
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) return fail(bad(line_no, line, "no '='"));
        const auto k = line.substr(0, eq);
        const auto v = line.substr(eq + 1);
        unsigned bit = 0;
        bool ok = true;
        if (k == "gen") {
            bit = k_gen;
            ok = number(v, m.gen);
        } else if (k == "etag") {
            bit = k_etag;
            m.etag = v;
        } else if (k == "last_modified") {
            bit = k_last_modified;
            m.last_modified = v;
        } else if (k == "length") {
            bit = k_length;
            if (v != "-") {
                std::uint64_t n = 0;
                ok = number(v, n);
                m.length = n;
            }
        } else if (k == "fetched_at") {
            bit = k_fetched_at;
            ok = number(v, m.fetched_at);
        } else if (k == "fresh_until") {
            bit = k_fresh_until;
            ok = number(v, m.fresh_until);
        } else if (k == "ranges") {
            bit = k_ranges;
            ok = v == "0" || v == "1";
            m.ranges = v == "1";
        } else if (k == "container") {
            bit = k_container;
            m.container = v;
        }
        if (!ok) return fail(bad(line_no, line, "bad value"));
        if ((seen & bit) != 0) return fail(bad(line_no, line, "repeated key"));
        seen |= bit;
    }
    if ((seen & required) != required) {
        static constexpr std::pair<unsigned, const char*> names[] = {
            {k_gen, "gen"},
            {k_etag, "etag"},
            {k_last_modified, "last_modified"},
            {k_length, "length"},
            {k_fetched_at, "fetched_at"},
            {k_fresh_until, "fresh_until"},
            {k_ranges, "ranges"}};
        for (auto [b, n] : names) {
            if ((seen & b) == 0) {
                return fail(
                    kithara::error(std::make_error_code(std::errc::bad_message),
                                   std::string("file metadata: no '") + n + "' (truncated?)"));
            }
        }
    }
    return m;
}

}  // namespace kithara::file::detail
