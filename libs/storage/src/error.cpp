#include <kithara/storage/error.hpp>

#include <kithara/core/condition.hpp>

#include <string>

namespace kithara::storage {

namespace {

class category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "storage"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::ok_:
                return "no error";
            case errc::invalid_range:
                return "invalid byte range";
            case errc::not_available:
                return "bytes not available yet";
            case errc::past_final_length:
                return "write past the committed final length";
            case errc::length_conflict:
                return "final length conflicts with the resource";
            case errc::too_large:
                return "exceeds the resource's maximum size";
            case errc::closed:
                return "resource is closed";
            case errc::corrupt_range_map:
                return "range map is corrupt";
            case errc::buffer_too_small:
                return "buffer too small";
            case errc::not_found:
                return "no content stored";
        }
        return "unknown storage error " + std::to_string(value);
    }
    // The shared conditions (kithara/core/condition.hpp) this layer's codes mean.
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
            case errc::invalid_range:
                return condition::invalid_argument;
            case errc::not_available:
                return condition::unavailable;
            case errc::closed:
                return condition::closed;
            case errc::not_found:
                return condition::not_found;
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

}  // namespace kithara::storage
