#include <kithara/stream/source.hpp>

namespace kithara::stream {

source::~source() = default;

void declared_hints::set_hints(media_hints h) {
    std::lock_guard lock(mutex_);
    hints_ = std::move(h);
}

bool declared_hints::declare_boundary(format_boundary b) {
    std::lock_guard lock(mutex_);
    if (!boundaries_.empty() && b.offset <= boundaries_.back().offset) return false;
    boundaries_.push_back(std::move(b));
    return true;
}

media_hints declared_hints::hints() const {
    std::lock_guard lock(mutex_);
    return hints_;
}

std::optional<format_boundary> declared_hints::boundary_after(std::uint64_t after) const {
    std::lock_guard lock(mutex_);
    for (const auto& b : boundaries_) {
        if (b.offset > after) return b;
    }
    return std::nullopt;
}

}  // namespace kithara::stream
