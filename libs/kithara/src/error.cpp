#include <kithara/kithara/error.hpp>

#include <kithara/core/condition.hpp>

#include <string>

namespace kithara {
namespace {
class category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "kithara"; }
    [[nodiscard]] std::string message(int c) const override {
        switch (static_cast<context_errc>(c)) {
            case context_errc::ok_:
                return "ok";
            case context_errc::not_supported:
                return "not supported by this kind of stream";
            case context_errc::unknown_content_kind:
                return "offline and neither the URL nor the cache tells file from HLS";
            case context_errc::closed:
                return "stream closed";
            case context_errc::interrupted:
                return "stream interrupted";
            case context_errc::bad_cache_dir:
                return "no usable cache directory";
            case context_errc::bad_radio_list:
                return "a radio list (M3U or PLS) that names no playable stream";
        }
        return "unknown kithara error";
    }
    // The shared conditions (kithara/core/condition.hpp) this layer's codes mean.
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<context_errc>(value)) {
            case context_errc::closed:
                return condition::closed;
            case context_errc::interrupted:
                return condition::cancelled;
            case context_errc::unknown_content_kind:
                return condition::unavailable;
            case context_errc::bad_cache_dir:
                return condition::invalid_argument;
            default:
                return {value, *this};
        }
    }
};
}  // namespace

const std::error_category& context_category() noexcept {
    static const category_impl c;
    return c;
}

}  // namespace kithara
