// Attribute lists (RFC 8216 4.2) parsed by their grammar, and the typed value readers.
//
//   detail::attribute_list a;
//   if (auto e = a.parse("BANDWIDTH=1,CODECS=\"a,b\"", 64); !e.empty()) fail(e);
//   auto bw = a.find("BANDWIDTH");  // never matches AVERAGE-BANDWIDTH
//
// Single-threaded helper owned by one parse; views point into the parsed line.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::hls::detail {

struct attribute {
    std::string_view name;
    std::string_view value;  // without the quotes of a quoted-string
    bool quoted = false;
    bool used = false;
};

class attribute_list {
public:
    // Parses `text`; returns an empty string on success, else what is wrong. Rejects: a name not
    // of [A-Z0-9-], a missing '=', an unterminated quoted string, a '"' inside an unquoted value,
    // text after a closing quote, an empty list entry, a duplicate name, more than max_count.
    std::string parse(std::string_view text, std::size_t max_count);

    // The attribute named exactly `name`, or nullptr.
    [[nodiscard]] attribute* find(std::string_view name) noexcept;
    [[nodiscard]] const std::vector<attribute>& all() const noexcept { return items_; }

private:
    std::vector<attribute> items_;  // reused across lines: no allocation in steady state
};

// Typed readers: nullopt when the text is not of the type.
[[nodiscard]] std::optional<std::uint64_t> parse_decimal_integer(std::string_view s) noexcept;
// decimal-floating-point (no sign, no exponent), or signed-decimal-floating-point.
[[nodiscard]] std::optional<double> parse_decimal_float(std::string_view s,
                                                        bool allow_sign = false) noexcept;
[[nodiscard]] std::optional<std::array<std::uint8_t, 16>> parse_iv(std::string_view s) noexcept;
[[nodiscard]] bool is_hexadecimal_sequence(std::string_view s) noexcept;
// decimal-resolution "WxH".
[[nodiscard]] bool parse_resolution(std::string_view s, std::uint64_t& w,
                                    std::uint64_t& h) noexcept;
// "<n>[@<o>]" (EXT-X-BYTERANGE and the BYTERANGE attributes).
struct byterange_text {
    std::uint64_t length = 0;
    std::optional<std::uint64_t> offset;
};
[[nodiscard]] std::optional<byterange_text> parse_byterange(std::string_view s) noexcept;

}  // namespace kithara::hls::detail
