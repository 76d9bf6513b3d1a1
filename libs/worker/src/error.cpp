#include <kithara/worker/error.hpp>

#include <kithara/core/condition.hpp>

#include <string>

namespace kithara::worker {
namespace {

class worker_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "worker"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok_:
                return "ok";
            case errc::closed:
                return "channel is closed";
            case errc::timed_out:
                return "timed out";
            case errc::cancelled:
                return "cancelled";
            case errc::full:
                return "channel is full";
            case errc::empty:
                return "channel is empty";
            case errc::stopped:
                return "stopped";
            case errc::stale:
                return "stale epoch";
        }
        return "unknown worker error";
    }
    // The shared conditions (kithara/core/condition.hpp) this layer's codes mean.
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
            case errc::closed:
            case errc::stopped:
                return condition::closed;
            case errc::timed_out:
                return condition::timed_out;
            case errc::cancelled:
                return condition::cancelled;
            default:
                return {value, *this};
        }
    }
};

}  // namespace

const std::error_category& category() noexcept {
    static const worker_category cat;
    return cat;
}

}  // namespace kithara::worker
