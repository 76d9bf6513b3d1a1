// EXT-X-DEFINE variables and {$name} substitution (rfc8216bis 4.3), bounded.
//
//   detail::variables v{limits};
//   v.define("host", "cdn.example");
//   std::string out; auto r = v.substitute("https://{$host}/a.ts", out, what);
//
// Single-threaded helper owned by one parse. Values are substituted literally, never expanded
// again, so the output of one reference is at most one value: expansion is linear, and the total
// is bounded by limits.max_expansion_bytes.
#pragma once

#include <kithara/hls/parser.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace kithara::hls::detail {

class variables {
public:
    explicit variables(const parse_limits& limits) : limits_(limits) {}

    enum class outcome { ok, invalid_name, duplicate, undefined, limit };

    // Adds a variable; `what` explains a failure.
    outcome define(std::string_view name, std::string_view value, std::string& what);

    // The value of `name`, or nullptr.
    [[nodiscard]] const std::string* find(std::string_view name) const noexcept;

    // True when `text` holds a variable reference and must go through substitute().
    [[nodiscard]] static bool has_reference(std::string_view text) noexcept;

    // Writes `text` with every {$name} replaced to `out`.
    outcome substitute(std::string_view text, std::string& out, std::string& what);

    [[nodiscard]] const std::vector<variable>& list() const noexcept { return list_; }
    [[nodiscard]] std::vector<variable> take() { return std::move(list_); }

    [[nodiscard]] static bool valid_name(std::string_view name) noexcept;

private:
    const parse_limits& limits_;
    std::vector<variable> list_;
    std::size_t expanded_ = 0;
};

}  // namespace kithara::hls::detail
