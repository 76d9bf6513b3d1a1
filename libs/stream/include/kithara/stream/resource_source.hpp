// kithara::stream::resource_source: a storage::resource (streaming file or memory) as a source.
//
//   std::shared_ptr<kithara::storage::resource> res = kithara::storage::memory_resource::create();
//   auto src = kithara::stream::resource_source::create(res, {.container = "mp3"});
//   kithara::stream::reader rd(src);     // reads wait for the writer to deliver bytes
//
// wait_range maps to resource::wait_range (a failed resource returns its failure() error);
// read_at maps storage::errc::not_available to stream::errc::not_available. The resource is not
// a protocol: waiting here does not fetch anything, it only waits for a writer. A protocol layer
// that owns the writer wraps this class (or implements source) to turn waits into requests.
// Threads: any thread (see resource.hpp). Hints/boundaries: see declared_hints.
#pragma once

#include <kithara/storage/resource.hpp>
#include <kithara/stream/export.hpp>
#include <kithara/stream/source.hpp>

#include <memory>

namespace kithara::stream {

// The source contract over any storage::resource (for sources that hold one): wait_range with
// storage's outcomes mapped (a failed resource returns its failure() error), and read_at with
// storage::errc::not_available mapped to stream::errc::not_available.
[[nodiscard]] KITHARA_STREAM_EXPORT result<wait_status> wait_resource(storage::resource& res,
                                                                      byte_range r,
                                                                      std::optional<deadline> until,
                                                                      std::stop_token stop);
[[nodiscard]] KITHARA_STREAM_EXPORT result<std::size_t> read_resource(storage::resource& res,
                                                                      std::uint64_t offset,
                                                                      std::span<std::byte> out);

class KITHARA_STREAM_EXPORT resource_source final : public declaring_source {
public:
    [[nodiscard]] static std::shared_ptr<resource_source> create(
        std::shared_ptr<storage::resource> res, media_hints hints = {});

    resource_source(std::shared_ptr<storage::resource> res, media_hints hints);

    [[nodiscard]] std::optional<std::uint64_t> length() const override;
    result<wait_status> wait_range(byte_range r, std::optional<deadline> until,
                                   std::stop_token stop) override;
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override;
    [[nodiscard]] storage::resource& resource() const noexcept { return *res_; }

private:
    std::shared_ptr<storage::resource> res_;
};

}  // namespace kithara::stream
