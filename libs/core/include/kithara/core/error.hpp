// kithara::error: a std::error_code from a layer's category plus a context string.
//
//   kithara::error e{std::errc::no_such_file_or_directory, "open /cache/index"};
//   std::string line = e.message();  // "generic: No such file or directory (open /cache/index)"
//   if (e == kithara::condition::not_found) { /* any layer's not-found, or ENOENT */ }
//
// A plain value type: copyable, any thread, no locks. Each layer defines its own `errc` enum and
// category (`kithara::<layer>::category()`) mapped onto the shared kithara::condition values;
// Asio and system errors pass through unchanged.
#pragma once

#include <kithara/core/condition.hpp>
#include <kithara/core/export.hpp>

#include <string>
#include <system_error>
#include <utility>

namespace kithara {

// An enum that makes a std::error_code: a layer's errc, or std::errc.
template <class E>
concept error_enum = std::is_error_code_enum_v<E> ||
    (std::is_error_condition_enum_v<E>&& requires(E e) { make_error_code(e); });

// An enum that only classifies codes: kithara::condition (compared, never constructed from).
template <class E>
concept condition_enum = std::is_error_condition_enum_v<E> && !error_enum<E>;

class KITHARA_CORE_EXPORT error {
public:
    error() = default;
    error(std::error_code code, std::string context = {})
        : code_(code), context_(std::move(context)) {}
    template <error_enum Enum>
    error(Enum e, std::string context = {}) : error(make_error_code(e), std::move(context)) {}

    [[nodiscard]] const std::error_code& code() const noexcept { return code_; }
    [[nodiscard]] const std::string& context() const noexcept { return context_; }

    // "<category>: <message> (<context>)" on one line.
    [[nodiscard]] std::string message() const;

    // Prepends outer context: "open asset x: <old context>".
    error& add_context(std::string_view outer);

    friend bool operator==(const error& e, const std::error_code& c) noexcept {
        return e.code_ == c;
    }
    template <error_enum Enum>
    friend bool operator==(const error& e, Enum c) noexcept {
        return e.code_ == make_error_code(c);
    }
    // Matches any layer's code that maps to the condition (e == kithara::condition::cancelled).
    template <condition_enum Enum>
    friend bool operator==(const error& e, Enum c) noexcept {
        return e.code_ == make_error_condition(c);
    }

private:
    std::error_code code_;
    std::string context_;
};

}  // namespace kithara
