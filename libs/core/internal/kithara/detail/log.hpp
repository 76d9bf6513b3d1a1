// Build-internal: the spdlog logger every layer writes to. Not installed; never include it from
// a public header. Use the KITHARA_LOG_* macros so disabled levels cost one compare.
#pragma once

#include <kithara/core/export.hpp>

#include <spdlog/spdlog.h>

namespace kithara::detail {
KITHARA_CORE_EXPORT spdlog::logger& logger();
}  // namespace kithara::detail

#define KITHARA_LOG_(lvl, ...)                                                      \
    do {                                                                            \
        auto& kithara_logger_ = ::kithara::detail::logger();                        \
        if (kithara_logger_.should_log(lvl)) kithara_logger_.log(lvl, __VA_ARGS__); \
    } while (false)
#define KITHARA_LOG_DEBUG(...) KITHARA_LOG_(spdlog::level::debug, __VA_ARGS__)
#define KITHARA_LOG_INFO(...) KITHARA_LOG_(spdlog::level::info, __VA_ARGS__)
#define KITHARA_LOG_WARN(...) KITHARA_LOG_(spdlog::level::warn, __VA_ARGS__)
#define KITHARA_LOG_ERROR(...) KITHARA_LOG_(spdlog::level::err, __VA_ARGS__)
