#include <kithara/stream/memory_source.hpp>

#include <kithara/stream/error.hpp>

#include <algorithm>
#include <cstring>

namespace kithara::stream {

std::shared_ptr<memory_source> memory_source::create(std::vector<std::byte> bytes,
                                                     media_hints hints) {
    return std::make_shared<memory_source>(std::move(bytes), std::span<const std::byte>{},
                                           std::move(hints));
}

std::shared_ptr<memory_source> memory_source::borrow(std::span<const std::byte> bytes,
                                                     media_hints hints) {
    return std::make_shared<memory_source>(std::vector<std::byte>{}, bytes, std::move(hints));
}

memory_source::memory_source(std::vector<std::byte> owned, std::span<const std::byte> view,
                             media_hints h)
    : declaring_source(std::move(h)),
      owned_(std::move(owned)),
      bytes_(owned_.empty() ? view : std::span<const std::byte>(owned_)) {}

std::optional<std::uint64_t> memory_source::length() const {
    return bytes_.size();
}

result<wait_status> memory_source::wait_range(byte_range r, std::optional<deadline> /*until*/,
                                              std::stop_token stop) {
    if (stop.stop_requested()) return wait_status::cancelled;
    if (!r.empty() && r.begin >= bytes_.size()) return wait_status::eof;
    return wait_status::ready;
}

result<std::size_t> memory_source::read_at(std::uint64_t offset, std::span<std::byte> out) {
    if (offset >= bytes_.size() || out.empty()) return std::size_t{0};
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), bytes_.size() - offset));
    std::memcpy(out.data(), bytes_.data() + offset, n);
    return n;
}

}  // namespace kithara::stream
