#include <kithara/stream/error.hpp>

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
};

}  // namespace

const std::error_category& category() noexcept {
    static const category_impl instance;
    return instance;
}

}  // namespace kithara::stream
