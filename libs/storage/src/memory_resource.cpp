#include <kithara/storage/memory_resource.hpp>

#include <kithara/bufpool/pool.hpp>
#include <kithara/storage/error.hpp>

#include "detail/range_state.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <mutex>
#include <vector>

namespace kithara::storage {

struct memory_resource::impl {
    memory_options options;
    unsigned chunk_shift = 16;
    detail::range_state state;
    // chunks_mu guards allocation of chunk slots; a slot, once set, never changes until
    // destruction, and readers only touch slots of published bytes (set before publication).
    std::mutex chunks_mu;
    std::vector<bufpool::byte_buffer> chunks;
    std::atomic<std::uint64_t> allocated{0};

    [[nodiscard]] static detail::op_desc describe(const char* op, std::uint64_t offset,
                                                  std::optional<std::uint64_t> length) {
        return {op, offset, length, "memory resource"};
    }

    [[nodiscard]] std::uint64_t chunk_bytes() const { return std::uint64_t{1} << chunk_shift; }

    void ensure_chunks(byte_range r) {
        std::lock_guard lock(chunks_mu);
        const auto first = static_cast<std::size_t>(r.begin >> chunk_shift);
        const auto last = static_cast<std::size_t>((r.end - 1) >> chunk_shift);
        for (std::size_t i = first; i <= last; ++i) {
            if (!chunks[i]) {
                chunks[i] =
                    bufpool::default_byte_pool().get(static_cast<std::size_t>(chunk_bytes()));
                allocated.fetch_add(chunk_bytes(), std::memory_order_relaxed);
            }
        }
    }

    // Copies between `bytes` and [offset, offset + bytes.size()) across chunk boundaries.
    template <class Copy>
    void for_chunks(std::uint64_t offset, std::size_t length, Copy copy) {
        std::size_t done = 0;
        while (done < length) {
            const std::uint64_t at = offset + done;
            const auto index = static_cast<std::size_t>(at >> chunk_shift);
            const auto within = static_cast<std::size_t>(at & (chunk_bytes() - 1));
            const std::size_t n =
                std::min(length - done, static_cast<std::size_t>(chunk_bytes()) - within);
            copy(chunks[index].data() + within, done, n);
            done += n;
        }
    }
};

std::unique_ptr<memory_resource> memory_resource::create(memory_options options) {
    // The chunk table has at most max_slots entries: chunks grow for large max sizes.
    constexpr std::uint64_t max_slots = 65536;
    constexpr std::uint64_t max_chunk = std::uint64_t{1} << 30;
    std::uint64_t chunk =
        std::bit_ceil(std::clamp<std::uint64_t>(options.chunk_bytes, 4096, max_chunk));
    auto slots_for = [&](std::uint64_t c) {
        return options.max_size / c + (options.max_size % c != 0);
    };
    while (chunk < max_chunk && slots_for(chunk) > max_slots) chunk <<= 1;
    options.max_size = std::min(options.max_size, chunk * max_slots);
    auto p = std::make_unique<impl>();
    p->chunk_shift = static_cast<unsigned>(std::countr_zero(chunk));
    p->chunks.resize(static_cast<std::size_t>(slots_for(chunk)));
    p->options = std::move(options);
    return std::unique_ptr<memory_resource>(new memory_resource(std::move(p)));
}

memory_resource::memory_resource(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
memory_resource::~memory_resource() = default;

result<> memory_resource::do_write_at(std::uint64_t offset, std::span<const std::byte> data) {
    auto r = byte_range::at(offset, data.size());
    if (!r) return kithara::fail(r.error().add_context("write_at of memory resource"));
    const detail::op_desc what = impl::describe("write_at", offset, data.size());
    if (r->end > impl_->options.max_size) {
        return kithara::fail(errc::too_large, what.str() + " (max size " +
                                                  std::to_string(impl_->options.max_size) + ")");
    }
    if (auto c = impl_->state.check_write(*r, what); !c) return c;
    if (data.empty()) return {};
    impl_->ensure_chunks(*r);
    // Only copy what is not yet published: readers may be reading the published bytes.
    for (const byte_range gap : impl_->state.missing(*r)) {
        const auto skip = static_cast<std::size_t>(gap.begin - offset);
        impl_->for_chunks(gap.begin, static_cast<std::size_t>(gap.size()),
                          [&](std::byte* chunk, std::size_t done, std::size_t n) {
                              std::memcpy(chunk, data.data() + skip + done, n);
                          });
    }
    auto done = impl_->state.finish_write(*r, what);
    if (!done) return kithara::fail(done.error());
    if (done->added != 0 && impl_->options.on_growth) impl_->options.on_growth(done->added);
    return {};
}

result<std::size_t> memory_resource::do_read_at(std::uint64_t offset, std::span<std::byte> out) {
    if (auto r = byte_range::at(offset, out.size()); !r) {
        return kithara::fail(r.error().add_context("read_at of memory resource"));
    }
    auto n =
        impl_->state.readable(offset, out.size(), impl_->describe("read_at", offset, out.size()));
    if (!n || *n == 0) return n;
    impl_->for_chunks(offset, *n, [&](std::byte* chunk, std::size_t done, std::size_t len) {
        std::memcpy(out.data() + done, chunk, len);
    });
    return n;
}

result<wait_outcome> memory_resource::do_wait_range(byte_range r, std::optional<deadline> until,
                                                    std::stop_token stop) {
    return impl_->state.wait(r, until, std::move(stop));
}

void memory_resource::do_async_wait_range(byte_range r, const asio::any_io_executor& executor,
                                          wait_handler handler, std::stop_token stop) {
    impl_->state.async_wait(r, executor, std::move(handler), std::move(stop));
}

result<> memory_resource::do_commit(std::uint64_t final_length) {
    return impl_->state.commit(final_length, impl::describe("commit", final_length, std::nullopt));
}

void memory_resource::do_fail(error e) {
    impl_->state.mark_failed(std::move(e));
}

result<> memory_resource::do_flush() {
    if (impl_->state.closed()) return kithara::fail(errc::closed, "flush of memory resource");
    return {};
}

result<> memory_resource::do_close() {
    impl_->state.close();
    return {};
}

range_set memory_resource::do_available() const {
    return impl_->state.available();
}
std::uint64_t memory_resource::do_available_bytes() const {
    return impl_->state.available_bytes();
}
std::optional<std::uint64_t> memory_resource::do_final_length() const {
    return impl_->state.final_length();
}
std::optional<error> memory_resource::do_failure() const {
    return impl_->state.failure();
}
bool memory_resource::do_complete() const {
    return impl_->state.complete();
}
std::uint64_t memory_resource::do_stored_bytes() const {
    return impl_->allocated.load(std::memory_order_relaxed);
}

}  // namespace kithara::storage
