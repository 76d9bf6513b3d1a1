#include <kithara/core/log.hpp>

#include <kithara/detail/log.hpp>

#include <spdlog/sinks/base_sink.h>

#include <cstdio>
#include <memory>
#include <mutex>

namespace kithara {

namespace {

spdlog::level::level_enum to_spdlog(log_level l) {
    switch (l) {
        case log_level::trace:
            return spdlog::level::trace;
        case log_level::debug:
            return spdlog::level::debug;
        case log_level::info:
            return spdlog::level::info;
        case log_level::warn:
            return spdlog::level::warn;
        case log_level::error:
            return spdlog::level::err;
        case log_level::critical:
            return spdlog::level::critical;
        case log_level::off:
            break;
    }
    return spdlog::level::off;
}

log_level from_spdlog(spdlog::level::level_enum l) {
    switch (l) {
        case spdlog::level::trace:
            return log_level::trace;
        case spdlog::level::debug:
            return log_level::debug;
        case spdlog::level::info:
            return log_level::info;
        case spdlog::level::warn:
            return log_level::warn;
        case spdlog::level::err:
            return log_level::error;
        case spdlog::level::critical:
            return log_level::critical;
        default:
            return log_level::off;
    }
}

// The logger's one sink, for the life of the process: writes "[kithara] [level] line" to stderr,
// or hands the line to the application's handler. base_sink's mutex guards the handler and
// serialises calls, so the handler can be swapped while other threads log.
class dispatch_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    void set_handler(log_handler h) {
        std::lock_guard lock(mutex_);
        handler_ = std::move(h);
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const std::string_view line(msg.payload.data(), msg.payload.size());
        if (handler_) {
            handler_(from_spdlog(msg.level), line);
            return;
        }
        const auto level = spdlog::level::to_string_view(msg.level);
        std::fprintf(stderr, "[kithara] [%.*s] %.*s\n", static_cast<int>(level.size()),
                     level.data(), static_cast<int>(line.size()), line.data());
    }
    void flush_() override { std::fflush(stderr); }

private:
    log_handler handler_;
};

struct logger_state {
    std::shared_ptr<dispatch_sink> sink = std::make_shared<dispatch_sink>();
    std::shared_ptr<spdlog::logger> logger = [this] {
        auto lg = std::make_shared<spdlog::logger>("kithara", sink);
        lg->set_level(spdlog::level::warn);
        if (!spdlog::get("kithara")) spdlog::register_logger(lg);
        return lg;
    }();
};

logger_state& state() {
    static auto* s = new logger_state();  // immortal: threads may log during static destruction
    return *s;
}

}  // namespace

namespace detail {
spdlog::logger& logger() {
    return *state().logger;
}
}  // namespace detail

void set_log_level(log_level level) {
    detail::logger().set_level(to_spdlog(level));
}

log_level get_log_level() {
    return from_spdlog(detail::logger().level());
}

void set_log_handler(log_handler handler) {
    state().sink->set_handler(std::move(handler));
}

}  // namespace kithara
