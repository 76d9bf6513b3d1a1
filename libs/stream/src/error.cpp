#include <kithara/stream/error.hpp>

#include <kithara/core/condition.hpp>

#include <string>

namespace kithara::stream {

namespace {

class category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "stream"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::ok_:
                return "no error";
            case errc::not_available:
                return "bytes not available yet";
            case errc::cancelled:
                return "cancelled";
            case errc::timed_out:
                return "wait timed out";
            case errc::invalid_seek:
                return "invalid seek";
            case errc::source_failed:
                return "source failed";
        }
        return "unknown stream error " + std::to_string(value);
    }
    // The shared conditions (kithara/core/condition.hpp) this layer's codes mean.
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
            case errc::not_available:
                return condition::unavailable;
            case errc::cancelled:
                return condition::cancelled;
            case errc::timed_out:
                return condition::timed_out;
            case errc::invalid_seek:
                return condition::invalid_argument;
            default:
                return {value, *this};
        }
    }
};

}  // namespace

const std::error_category& category() noexcept {
    static const category_impl instance;
    return instance;
}

}  // namespace kithara::stream
