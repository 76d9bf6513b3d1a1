#include <kithara/core/condition.hpp>

#include <string>

namespace kithara {
namespace {

class condition_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "kithara"; }
    std::string message(int value) const override {
        switch (static_cast<condition>(value)) {
            case condition::cancelled:
                return "cancelled";
            case condition::timed_out:
                return "timed out";
            case condition::closed:
                return "closed";
            case condition::not_found:
                return "not found";
            case condition::unavailable:
                return "not available";
            case condition::invalid_argument:
                return "invalid argument";
            case condition::invalid_url:
                return "invalid URL";
            case condition::content_changed:
                return "content changed";
        }
        return "unknown condition " + std::to_string(value);
    }
    // A layer's code matches through its own category's default_error_condition (std compares
    // that first); generic and system codes match their POSIX counterparts here.
    bool equivalent(const std::error_code& code, int value) const noexcept override {
        if (std::error_category::equivalent(code, value)) return true;
        const auto generic = code.default_error_condition();
        if (generic.category() != std::generic_category()) return false;
        switch (static_cast<condition>(value)) {
            case condition::cancelled:
                return generic == std::errc::operation_canceled;
            case condition::timed_out:
                return generic == std::errc::timed_out;
            case condition::not_found:
                return generic == std::errc::no_such_file_or_directory;
            case condition::invalid_argument:
                return generic == std::errc::invalid_argument;
            default:
                return false;
        }
    }
};

}  // namespace

const std::error_category& condition_category() noexcept {
    static const condition_category_impl instance;
    return instance;
}

}  // namespace kithara
