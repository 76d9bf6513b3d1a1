#include "detail/attribute_list.hpp"

#include <charconv>

namespace kithara::hls::detail {
namespace {
bool is_name_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}
bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::string attribute_list::parse(std::string_view text, std::size_t max_count) {
    items_.clear();
    std::size_t i = 0;
    const std::size_t n = text.size();
    if (n == 0) return {};
    while (true) {
        // Lenient: blanks before a name (", NAME=") are skipped.
        while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
        const std::size_t name_begin = i;
        while (i < n && is_name_char(text[i])) ++i;
        if (i == name_begin) {
            if (i == n) return "empty attribute at the end of the list";
            return "attribute name expected at column " + std::to_string(i + 1) +
                   " (names are [A-Z0-9-])";
        }
        const std::string_view name = text.substr(name_begin, i - name_begin);
        if (i == n || text[i] != '=') {
            return "'=' expected after attribute " + std::string(name);
        }
        ++i;
        attribute a{name, {}, false, false};
        if (i < n && text[i] == '"') {
            const std::size_t close = text.find('"', i + 1);
            if (close == std::string_view::npos) {
                return "unterminated quoted string in attribute " + std::string(name);
            }
            a.value = text.substr(i + 1, close - i - 1);
            a.quoted = true;
            i = close + 1;
        } else {
            const std::size_t begin = i;
            while (i < n && text[i] != ',') {
                if (text[i] == '"')
                    return "stray '\"' in the value of attribute " + std::string(name);
                ++i;
            }
            a.value = text.substr(begin, i - begin);
            while (!a.value.empty() && (a.value.back() == ' ' || a.value.back() == '\t')) {
                a.value.remove_suffix(1);
            }
            if (a.value.empty()) return "empty value of attribute " + std::string(name);
        }
        for (const auto& prev : items_) {
            if (prev.name == name) return "attribute " + std::string(name) + " appears twice";
        }
        if (items_.size() >= max_count) {
            return "more than " + std::to_string(max_count) + " attributes (limit max_attributes)";
        }
        items_.push_back(a);
        while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
        if (i == n) return {};
        if (text[i] != ',') {
            return "',' expected after the value of attribute " + std::string(name);
        }
        ++i;
    }
}

attribute* attribute_list::find(std::string_view name) noexcept {
    for (auto& a : items_) {
        if (a.name == name) {
            a.used = true;
            return &a;
        }
    }
    return nullptr;
}

std::optional<std::uint64_t> parse_decimal_integer(std::string_view s) noexcept {
    if (s.empty() || s.size() > 20) return std::nullopt;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
    }
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::optional<double> parse_decimal_float(std::string_view s, bool allow_sign) noexcept {
    std::size_t i = 0;
    if (allow_sign && !s.empty() && s[0] == '-') i = 1;
    bool digits = false;
    bool dot = false;
    for (std::size_t k = i; k < s.size(); ++k) {
        if (is_digit(s[k])) {
            digits = true;
        } else if (s[k] == '.' && !dot) {
            dot = true;
        } else {
            return std::nullopt;
        }
    }
    if (!digits || s.size() > 64) return std::nullopt;
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

bool is_hexadecimal_sequence(std::string_view s) noexcept {
    if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
    for (std::size_t i = 2; i < s.size(); ++i) {
        if (hex_value(s[i]) < 0) return false;
    }
    return true;
}

std::optional<std::array<std::uint8_t, 16>> parse_iv(std::string_view s) noexcept {
    if (!is_hexadecimal_sequence(s) || s.size() > 2 + 32) return std::nullopt;
    // Fewer than 32 digits: the value is right-aligned (a 128-bit big-endian integer).
    std::array<std::uint8_t, 16> iv{};
    std::string_view digits = s.substr(2);
    int pos = 31;
    for (std::size_t k = digits.size(); k-- > 0; --pos) {
        const auto v = static_cast<std::uint8_t>(hex_value(digits[k]));
        const auto byte = static_cast<std::size_t>(pos / 2);
        if (pos % 2 == 1) {
            iv[byte] = static_cast<std::uint8_t>(iv[byte] | v);
        } else {
            iv[byte] = static_cast<std::uint8_t>(iv[byte] | (v << 4));
        }
    }
    return iv;
}

bool parse_resolution(std::string_view s, std::uint64_t& w, std::uint64_t& h) noexcept {
    const std::size_t x = s.find('x');
    if (x == std::string_view::npos) return false;
    auto a = parse_decimal_integer(s.substr(0, x));
    auto b = parse_decimal_integer(s.substr(x + 1));
    if (!a || !b) return false;
    w = *a;
    h = *b;
    return true;
}

std::optional<byterange_text> parse_byterange(std::string_view s) noexcept {
    byterange_text r;
    const std::size_t at = s.find('@');
    auto n = parse_decimal_integer(s.substr(0, at));
    if (!n) return std::nullopt;
    r.length = *n;
    if (at != std::string_view::npos) {
        auto o = parse_decimal_integer(s.substr(at + 1));
        if (!o) return std::nullopt;
        r.offset = *o;
    }
    return r;
}

}  // namespace kithara::hls::detail
