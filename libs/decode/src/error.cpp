#include <kithara/decode/error.hpp>

#include <kithara/core/condition.hpp>

#include <string>

namespace kithara::decode {

namespace {

class category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "decode"; }
    std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
            case errc::ok_:
                return "no error";
            case errc::no_audio_stream:
                return "no audio stream";
            case errc::unsupported_codec:
                return "unsupported codec";
            case errc::open_failed:
                return "cannot open the container";
            case errc::decode_failed:
                return "undecodable input";
            case errc::truncated:
                return "input truncated";
            case errc::resample_failed:
                return "sample conversion failed";
            case errc::invalid_argument:
                return "invalid argument";
            case errc::cancelled:
                return "cancelled";
            case errc::timed_out:
                return "timed out";
            case errc::closed:
                return "session closed";
        }
        return "unknown decode error " + std::to_string(value);
    }
    // The shared conditions (kithara/core/condition.hpp) this layer's codes mean.
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
            case errc::invalid_argument:
                return condition::invalid_argument;
            case errc::cancelled:
                return condition::cancelled;
            case errc::timed_out:
                return condition::timed_out;
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

}  // namespace kithara::decode
