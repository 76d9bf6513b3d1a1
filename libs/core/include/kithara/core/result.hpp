// kithara::result<T>: a value or a kithara::error (tl::expected underneath), [[nodiscard]].
//
//   auto parse = [](std::string_view s) -> kithara::result<int> {
//       if (s.empty()) return kithara::fail(std::errc::invalid_argument, "empty number");
//       return static_cast<int>(s.size());
//   };
//   auto r = parse("");   // r.error().message(): "generic: Invalid argument (empty number)"
//   if (!r) report(r.error().message()); else use(*r);
//
// No exceptions cross Kithara's API: failures are values. Any thread; no locks; result owns its
// value or error.
#pragma once

#include <kithara/core/error.hpp>

#include <tl/expected.hpp>

namespace kithara {

template <class T = void>
class [[nodiscard]] result : public tl::expected<T, error> {
    using base = tl::expected<T, error>;

public:
    using base::base;
    result(const base& b) : base(b) {}
    result(base&& b) : base(std::move(b)) {}
};

using unexpected = tl::unexpected<error>;

// The failure value for any result<T>.
[[nodiscard]] inline unexpected fail(error e) {
    return unexpected(std::move(e));
}
[[nodiscard]] inline unexpected fail(std::error_code code, std::string context = {}) {
    return unexpected(error(code, std::move(context)));
}
template <error_enum Enum>
[[nodiscard]] unexpected fail(Enum e, std::string context = {}) {
    return unexpected(error(e, std::move(context)));
}

}  // namespace kithara
