#include <kithara/stream/resource_source.hpp>

#include <kithara/storage/error.hpp>
#include <kithara/stream/error.hpp>

namespace kithara::stream {

std::shared_ptr<resource_source> resource_source::create(std::shared_ptr<storage::resource> res,
                                                         media_hints hints) {
    return std::make_shared<resource_source>(std::move(res), std::move(hints));
}

resource_source::resource_source(std::shared_ptr<storage::resource> res, media_hints hints)
    : declaring_source(std::move(hints)), res_(std::move(res)) {}

std::optional<std::uint64_t> resource_source::length() const {
    return res_->final_length();
}

result<wait_status> resource_source::wait_range(byte_range r, std::optional<deadline> until,
                                                std::stop_token stop) {
    return wait_resource(*res_, r, until, std::move(stop));
}

result<std::size_t> resource_source::read_at(std::uint64_t offset, std::span<std::byte> out) {
    return read_resource(*res_, offset, out);
}

result<wait_status> wait_resource(storage::resource& res, byte_range r,
                                  std::optional<deadline> until, std::stop_token stop) {
    auto w =
        until ? res.wait_range(r, *until, std::move(stop)) : res.wait_range(r, std::move(stop));
    if (!w) return fail(w.error());
    switch (*w) {
        case storage::wait_outcome::ready:
            return wait_status::ready;
        case storage::wait_outcome::eof:
            return wait_status::eof;
        case storage::wait_outcome::cancelled:
            return wait_status::cancelled;
        case storage::wait_outcome::timed_out:
            return wait_status::timed_out;
        case storage::wait_outcome::failed:
            break;
    }
    if (auto e = res.failure()) return fail(*e);
    return fail(errc::source_failed, "resource failed");
}

result<std::size_t> read_resource(storage::resource& res, std::uint64_t offset,
                                  std::span<std::byte> out) {
    auto r = res.read_at(offset, out);
    if (!r && r.error() == storage::errc::not_available)
        return fail(errc::not_available, r.error().context());
    return r;
}

}  // namespace kithara::stream
