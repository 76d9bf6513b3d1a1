#include <kithara/file/error.hpp>

#include <kithara/core/condition.hpp>

#include <string>

namespace kithara::file {
namespace {
class category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "file"; }
    [[nodiscard]] std::string message(int c) const override {
        switch (static_cast<errc>(c)) {
            case errc::ok_:
                return "ok";
            case errc::invalid_url:
                return "invalid URL";
            case errc::offline_miss:
                return "not cached and offline";
            case errc::content_changed:
                return "upstream content changed";
            case errc::bad_response:
                return "unusable server response";
            case errc::closed:
                return "source closed";
        }
        return "unknown file error";
    }
    // The shared conditions (kithara/core/condition.hpp) this layer's codes mean.
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
            case errc::invalid_url:
                return condition::invalid_url;
            case errc::offline_miss:
                return condition::unavailable;
            case errc::content_changed:
                return condition::content_changed;
            case errc::closed:
                return condition::closed;
            default:
                return {value, *this};
        }
    }
};
}  // namespace

const std::error_category& category() noexcept {
    static const category_impl c;
    return c;
}

}  // namespace kithara::file
