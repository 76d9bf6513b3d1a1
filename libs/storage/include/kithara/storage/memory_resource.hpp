// kithara::storage::memory_resource: a bounded, memory-backed resource with the same interface
// and semantics as streaming_resource, for ephemeral data and tests.
//
//   auto res = kithara::storage::memory_resource::create({.max_size = 8 << 20});
//   res->write_at(0, bytes); res->commit(bytes.size());
//   auto n = res->read_at(0, out);
//
// Memory is allocated lazily in fixed chunks from kithara::bufpool's default byte pool, so a
// sparse resource only holds the chunks written; at most max_size bytes. flush() is a no-op.
// Threads and locks: see resource.hpp (one mutex guards ranges, state and waiters; a second leaf
// mutex guards chunk allocation; copies run without either). Ownership: chunks are pooled buffers
// owned by the resource and returned to the pool when it is destroyed.
#pragma once

#include <kithara/storage/export.hpp>
#include <kithara/storage/resource.hpp>

#include <cstdint>
#include <memory>

namespace kithara::storage {

struct memory_options {
    std::uint64_t max_size = 64 * 1024 * 1024;  // writes ending past it fail with too_large
    // Allocation granularity, rounded to a power of two in [4 KiB, 1 GiB] and grown so that the
    // chunk table (32 B per chunk of max_size) has at most 65536 entries; max_size is capped at
    // 64 TiB.
    std::uint32_t chunk_bytes = 64 * 1024;
    growth_callback on_growth{};  // see resource.hpp
};

class KITHARA_STORAGE_EXPORT memory_resource final : public resource {
public:
    [[nodiscard]] static std::unique_ptr<memory_resource> create(memory_options options = {});
    ~memory_resource() override;

private:
    struct impl;
    explicit memory_resource(std::unique_ptr<impl> p);

    result<> do_write_at(std::uint64_t offset, std::span<const std::byte> data) override;
    result<std::size_t> do_read_at(std::uint64_t offset, std::span<std::byte> out) override;
    result<wait_outcome> do_wait_range(byte_range r, std::optional<deadline> until,
                                       std::stop_token stop) override;
    void do_async_wait_range(byte_range r, const asio::any_io_executor& executor,
                             wait_handler handler, std::stop_token stop) override;
    result<> do_commit(std::uint64_t final_length) override;
    void do_fail(error e) override;
    result<> do_flush() override;
    result<> do_close() override;
    [[nodiscard]] range_set do_available() const override;
    [[nodiscard]] std::uint64_t do_available_bytes() const override;
    [[nodiscard]] std::optional<std::uint64_t> do_final_length() const override;
    [[nodiscard]] std::optional<error> do_failure() const override;
    [[nodiscard]] bool do_complete() const override;
    [[nodiscard]] std::uint64_t do_stored_bytes() const override;

    std::unique_ptr<impl> impl_;
};

}  // namespace kithara::storage
