// Kithara's library logger: silence it, change its level, or route its lines elsewhere.
//
//   kithara::set_log_level(kithara::log_level::off);                 // silence
//   kithara::set_log_handler([](kithara::log_level l, std::string_view line) { my_log(l, line); });
//
// Internally an spdlog logger named "kithara" (default level warn, to stderr); with the spdlog
// the library was built against, `spdlog::get("kithara")` also reaches it. Kithara never logs
// keys, tokens or URL credentials. Any thread; the handler is called on the thread that logs
// (io, worker or caller threads) and must not call back into Kithara. Lock: one mutex serialises
// the sink and guards the handler, held while the handler runs. `line` is valid during the call.
#pragma once

#include <kithara/core/export.hpp>

#include <functional>
#include <string_view>

namespace kithara {

enum class log_level { trace, debug, info, warn, error, critical, off };

using log_handler = std::function<void(log_level, std::string_view line)>;

KITHARA_CORE_EXPORT void set_log_level(log_level level);
[[nodiscard]] KITHARA_CORE_EXPORT log_level get_log_level();

// Replaces the default stderr sink; an empty handler restores it.
KITHARA_CORE_EXPORT void set_log_handler(log_handler handler);

}  // namespace kithara
