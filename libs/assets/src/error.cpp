#include <kithara/assets/error.hpp>

#include <kithara/core/condition.hpp>

#include <string>

namespace kithara::assets {
namespace {

class category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "assets"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok_:
                return "ok";
            case errc::invalid_url:
                return "invalid URL";
            case errc::invalid_argument:
                return "invalid argument";
            case errc::store_locked:
                return "store is locked by another asset_store";
            case errc::io_error:
                return "I/O error";
            case errc::not_found:
                return "not found";
            case errc::incomplete:
                return "resource is not complete";
            case errc::bad_key:
                return "bad key or IV size";
            case errc::decrypt_failed:
                return "decryption failed (wrong key or corrupt data)";
            case errc::transform_failed:
                return "transform failed";
            case errc::closed:
                return "store closed";
            case errc::removal_pending:
                return "resource removed; waiting for its open handles to close";
        }
        return "unknown assets error";
    }
    // The shared conditions (kithara/core/condition.hpp) this layer's codes mean.
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
            case errc::invalid_url:
                return condition::invalid_url;
            case errc::invalid_argument:
                return condition::invalid_argument;
            case errc::not_found:
                return condition::not_found;
            case errc::incomplete:
                return condition::unavailable;
            case errc::closed:
                return condition::closed;
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

}  // namespace kithara::assets
