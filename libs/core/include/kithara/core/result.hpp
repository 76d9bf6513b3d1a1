// kithara::result<T>: a value or a kithara::error (tl::expected underneath), [[nodiscard]].
//
//   kithara::result<std::size_t> read(...) {
//       if (bad) return kithara::fail(storage::errc::failed, "read_at 10+20");
//       return n;
//   }
//   auto r = read(...); if (!r) log(r.error().message()); else use(*r);
//
// No exceptions cross Kithara's API: failures are values. Any thread.
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
