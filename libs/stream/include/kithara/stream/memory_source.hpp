// kithara::stream::memory_source: a complete byte buffer as a source (tests, fuzzing, small
// embedded media).
//
//   auto src = kithara::stream::memory_source::create(std::move(bytes));  // owns the bytes
//   auto view = kithara::stream::memory_source::borrow(span);  // the caller keeps span alive
//   src->declare_boundary({.offset = 81920, .hints = {.container = "mpegts"}});
//
// Every byte is available at once: wait_range is ready (or eof past the end) and never blocks.
// Threads: any thread; the bytes are immutable. Hints/boundaries: see declared_hints.
#pragma once

#include <kithara/stream/export.hpp>
#include <kithara/stream/source.hpp>

#include <memory>
#include <vector>

namespace kithara::stream {

class KITHARA_STREAM_EXPORT memory_source final : public declaring_source {
public:
    [[nodiscard]] static std::shared_ptr<memory_source> create(std::vector<std::byte> bytes,
                                                               media_hints hints = {});
    // The span must outlive the source.
    [[nodiscard]] static std::shared_ptr<memory_source> borrow(std::span<const std::byte> bytes,
                                                               media_hints hints = {});

    memory_source(std::vector<std::byte> owned, std::span<const std::byte> view, media_hints h);

    [[nodiscard]] std::optional<std::uint64_t> length() const override;
    result<wait_status> wait_range(byte_range r, std::optional<deadline> until,
                                   std::stop_token stop) override;
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override;

private:
    std::vector<std::byte> owned_;
    std::span<const std::byte> bytes_;
};

}  // namespace kithara::stream
