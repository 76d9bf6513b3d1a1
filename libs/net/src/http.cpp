#include <kithara/net/http.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>

namespace kithara::net::http {

namespace {

constexpr char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// delta-seconds: digits only; nullopt otherwise (capped at 2^31 as RFC 9111 1.2.2 allows).
std::optional<std::int64_t> delta_seconds(std::string_view s) noexcept {
    s = trim(s);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    constexpr std::int64_t cap = std::int64_t{1} << 31;
    std::int64_t v = 0;
    for (char c : s) {
        v = v * 10 + (c - '0');
        if (v >= cap) return cap;
    }
    return v;
}

// Calls fn(element) for each comma-separated element of a list field, trimmed, empty ones skipped.
template <class F>
void for_each_element(std::string_view list, F fn) {
    while (!list.empty()) {
        const auto comma = list.find(',');
        const auto item = trim(list.substr(0, comma));
        if (!item.empty()) fn(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

// ---- HTTP-date ---------------------------------------------------------------------------------

constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> day_names = {"Mon", "Tue", "Wed", "Thu",
                                                       "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_day_names = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

struct cursor {
    std::string_view s;

    bool literal(std::string_view t) noexcept {
        if (s.substr(0, t.size()) != t) return false;
        s.remove_prefix(t.size());
        return true;
    }
    // Between min and max digits.
    bool number(std::size_t min, std::size_t max, int& out) noexcept {
        std::size_t n = 0;
        int v = 0;
        while (n < s.size() && n < max && s[n] >= '0' && s[n] <= '9') v = v * 10 + (s[n++] - '0');
        if (n < min) return false;
        if (n < s.size() && s[n] >= '0' && s[n] <= '9') return false;  // too many digits
        s.remove_prefix(n);
        out = v;
        return true;
    }
    std::string_view word() noexcept {
        std::size_t n = 0;
        while (n < s.size() && ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))) ++n;
        auto w = s.substr(0, n);
        s.remove_prefix(n);
        return w;
    }
    bool month(int& out) noexcept {
        const auto w = word();
        for (std::size_t i = 0; i < month_names.size(); ++i) {
            if (iequals(w, month_names[i])) {
                out = static_cast<int>(i) + 1;
                return true;
            }
        }
        return false;
    }
    // hh:mm:ss
    bool time_of_day(int& h, int& m, int& sec) noexcept {
        return number(2, 2, h) && literal(":") && number(2, 2, m) && literal(":") &&
               number(2, 2, sec) && h < 24 && m < 60 && sec <= 60;
    }
};

template <std::size_t N>
bool one_of(std::string_view w, const std::array<std::string_view, N>& names) noexcept {
    return std::any_of(names.begin(), names.end(), [&](auto n) { return iequals(w, n); });
}

bool leap(int y) noexcept {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) noexcept {
    constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

// Days since 1970-01-01 (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = y - era * 400;
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

std::optional<time_point> make_time(int y, int mon, int d, int h, int m, int s) noexcept {
    if (mon < 1 || mon > 12 || d < 1 || d > days_in_month(y, mon)) return std::nullopt;
    const std::int64_t secs = days_from_civil(y, mon, d) * 86400 + h * 3600 + m * 60 + s;
    // system_clock counts nanoseconds here (years 1678..2262): a later date saturates instead of
    // overflowing the conversion (an HTTP date may say 9999).
    constexpr std::int64_t max_secs =
        std::chrono::duration_cast<std::chrono::seconds>(time_point::duration::max()).count();
    constexpr std::int64_t min_secs =
        std::chrono::duration_cast<std::chrono::seconds>(time_point::duration::min()).count();
    if (secs >= max_secs) return time_point::max();
    if (secs <= min_secs) return time_point::min();
    return time_point(std::chrono::seconds(secs));
}

}  // namespace

// ---- header lookup -----------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = lower(c);
    return out;
}

std::string_view header_value(const std::vector<header>& headers, std::string_view name) noexcept {
    for (auto it = headers.rbegin(); it != headers.rend(); ++it)
        if (iequals(it->name, name)) return it->value;
    return {};
}

std::string header_list(const std::vector<header>& headers, std::string_view name) {
    std::string out;
    for (const auto& h : headers) {
        if (!iequals(h.name, name)) continue;
        const auto v = trim(h.value);
        if (v.empty()) continue;
        if (!out.empty()) out += ", ";
        out += v;
    }
    return out;
}

bool has_token(const std::vector<header>& headers, std::string_view name, std::string_view token) {
    bool found = false;
    for_each_element(header_list(headers, name), [&](std::string_view item) {
        item = trim(item.substr(0, item.find_first_of(";=")));
        if (iequals(item, token)) found = true;
    });
    return found;
}

// ---- dates -------------------------------------------------------------------------------------

std::optional<time_point> parse_http_date(std::string_view s) noexcept {
    cursor c{trim(s)};
    const auto day = c.word();
    int d = 0, mon = 0, y = 0, h = 0, m = 0, sec = 0;
    if (c.literal(",")) {
        if (one_of(day, day_names)) {
            // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (a one-digit day is tolerated).
            if (!(c.literal(" ") && c.number(1, 2, d) && c.literal(" ") && c.month(mon) &&
                  c.literal(" ") && c.number(4, 4, y) && c.literal(" ") &&
                  c.time_of_day(h, m, sec) && c.literal(" GMT") && c.s.empty()))
                return std::nullopt;
        } else if (one_of(day, long_day_names)) {
            // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT".
            if (!(c.literal(" ") && c.number(2, 2, d) && c.literal("-") && c.month(mon) &&
                  c.literal("-") && c.number(2, 2, y) && c.literal(" ") &&
                  c.time_of_day(h, m, sec) && c.literal(" GMT") && c.s.empty()))
                return std::nullopt;
            y += y >= 70 ? 1900 : 2000;
        } else {
            return std::nullopt;
        }
    } else if (one_of(day, day_names) && c.literal(" ")) {
        // asctime: "Sun Nov  6 08:49:37 1994".
        if (!(c.month(mon) && c.literal(" "))) return std::nullopt;
        c.literal(" ");  // a one-digit day is padded with a space
        if (!(c.number(1, 2, d) && c.literal(" ") && c.time_of_day(h, m, sec) && c.literal(" ") &&
              c.number(4, 4, y) && c.s.empty()))
            return std::nullopt;
    } else {
        return std::nullopt;
    }
    return make_time(y, mon, d, h, m, sec);
}

std::string format_http_date(time_point t) {
    const auto secs = std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
    std::int64_t days = secs / 86400;
    std::int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        --days;
    }
    // H. Hinnant's civil_from_days.
    const std::int64_t z = days + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = z - era * 146097;
    const auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const auto mp = (5 * doy + 2) / 153;
    const auto d = doy - (153 * mp + 2) / 5 + 1;
    const auto m = mp < 10 ? mp + 3 : mp - 9;
    const auto y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    const auto wday = ((days % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday (index 3)
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04lld %02d:%02d:%02d GMT",
                  day_names[static_cast<std::size_t>(wday)].data(), static_cast<int>(d),
                  month_names[static_cast<std::size_t>(m - 1)].data(), static_cast<long long>(y),
                  static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                  static_cast<int>(rem % 60));
    return buf;
}

// ---- validators --------------------------------------------------------------------------------

bool is_weak_etag(std::string_view etag) noexcept {
    return etag.substr(0, 2) == "W/";
}

bool strong_etag_match(std::string_view a, std::string_view b) noexcept {
    return !a.empty() && !is_weak_etag(a) && !is_weak_etag(b) && a == b;
}

bool weak_etag_match(std::string_view a, std::string_view b) noexcept {
    if (is_weak_etag(a)) a.remove_prefix(2);
    if (is_weak_etag(b)) b.remove_prefix(2);
    return !a.empty() && a == b;
}

std::string if_range_validator(std::string_view etag, std::string_view last_modified) {
    if (!etag.empty() && !is_weak_etag(etag)) return std::string(etag);
    return std::string(last_modified);
}

// ---- freshness ---------------------------------------------------------------------------------

cache_control parse_cache_control(std::string_view value) {
    cache_control cc;
    for_each_element(value, [&](std::string_view item) {
        const auto eq = item.find('=');
        const auto name = trim(item.substr(0, eq));
        if (iequals(name, "no-store")) {
            cc.no_store = true;
        } else if (iequals(name, "no-cache")) {
            cc.no_cache = true;
        } else if (iequals(name, "must-revalidate")) {
            cc.must_revalidate = true;
        } else if (iequals(name, "max-age")) {
            std::int64_t secs = 0;
            if (eq != std::string_view::npos) secs = delta_seconds(item.substr(eq + 1)).value_or(0);
            const std::chrono::seconds age(secs);
            cc.max_age = cc.max_age ? std::min(*cc.max_age, age) : age;
        }
    });
    return cc;
}

std::optional<time_point> fresh_until(const std::vector<header>& headers, time_point received) {
    using std::chrono::seconds;
    const auto cc = parse_cache_control(header_list(headers, "cache-control"));
    if (cc.no_store || cc.no_cache) return std::nullopt;
    const auto date = parse_http_date(header_value(headers, "date"));
    // Age at receipt: the larger of what the Date tells (apparent age) and what caches on the way
    // reported (Age).
    seconds age{0};
    if (date && received > *date) age = std::chrono::floor<seconds>(received - *date);
    if (auto a = delta_seconds(header_value(headers, "age")); a && seconds(*a) > age)
        age = seconds(*a);
    std::optional<seconds> lifetime = cc.max_age;
    if (!lifetime) {
        const auto expires = header_value(headers, "expires");
        if (expires.empty()) return std::nullopt;  // no explicit freshness: revalidate
        const auto at = parse_http_date(expires);
        if (!at) return std::nullopt;  // an invalid Expires ("0", "-1") means already expired
        const time_point base = date ? *date : received;
        lifetime = *at > base ? std::chrono::floor<seconds>(*at - base) : seconds(0);
    }
    if (*lifetime <= age) return std::nullopt;
    return received + (*lifetime - age);
}

// ---- content type ------------------------------------------------------------------------------

container container_of(std::string_view content_type) noexcept {
    const auto type = trim(content_type.substr(0, content_type.find(';')));
    struct entry {
        std::string_view type;
        container c;
    };
    static constexpr entry table[] = {
        {"audio/mpeg", container::mp3},
        {"audio/mp3", container::mp3},
        {"audio/mpeg3", container::mp3},
        {"audio/x-mpeg", container::mp3},
        {"audio/x-mp3", container::mp3},
        {"audio/mp4", container::mp4},
        {"audio/x-m4a", container::mp4},
        {"audio/m4a", container::mp4},
        {"video/mp4", container::mp4},
        {"audio/aac", container::adts},
        {"audio/aacp", container::adts},
        {"audio/x-aac", container::adts},
        {"audio/flac", container::flac},
        {"audio/x-flac", container::flac},
        {"audio/ogg", container::ogg},
        {"audio/opus", container::ogg},
        {"audio/vorbis", container::ogg},
        {"application/ogg", container::ogg},
        {"audio/wav", container::wav},
        {"audio/x-wav", container::wav},
        {"audio/wave", container::wav},
        {"audio/vnd.wave", container::wav},
        {"video/mp2t", container::mpegts},
        {"audio/mp2t", container::mpegts},
        {"application/vnd.apple.mpegurl", container::playlist},
        {"application/x-mpegurl", container::playlist},
        {"audio/mpegurl", container::playlist},
        {"audio/x-mpegurl", container::playlist},
        {"audio/x-scpls", container::pls},
    };
    for (const auto& e : table)
        if (iequals(type, e.type)) return e.c;
    return container::unknown;
}

std::string_view extension_of_url(std::string_view url) noexcept {
    const std::string_view path = url.substr(0, url.find_first_of("?#"));
    const auto dot = path.rfind('.');
    if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) return {};
    return path.substr(dot + 1);
}

container container_of_url(std::string_view url) noexcept {
    const std::string_view ext = extension_of_url(url);
    if (ext.empty()) return container::unknown;
    struct entry {
        std::string_view ext;
        container c;
    };
    static constexpr entry table[] = {
        {"mp3", container::mp3},      {"m4a", container::mp4},   {"m4b", container::mp4},
        {"mp4", container::mp4},      {"aac", container::adts},  {"flac", container::flac},
        {"ogg", container::ogg},      {"oga", container::ogg},   {"opus", container::ogg},
        {"wav", container::wav},      {"ts", container::mpegts}, {"m3u8", container::playlist},
        {"m3u", container::playlist}, {"pls", container::pls},
    };
    for (const auto& e : table)
        if (iequals(ext, e.ext)) return e.c;
    return container::unknown;
}

std::string_view ffmpeg_name(container c) noexcept {
    switch (c) {
        case container::mp3:
            return "mp3";
        case container::mp4:
            return "mov";
        case container::adts:
            return "aac";
        case container::flac:
            return "flac";
        case container::ogg:
            return "ogg";
        case container::wav:
            return "wav";
        case container::mpegts:
            return "mpegts";
        case container::unknown:
        case container::playlist:
        case container::pls:
            break;
    }
    return {};
}

}  // namespace kithara::net::http
