// kithara::storage::resource: the interface of a byte resource that is read while it is written.
//
//   res.write_at(0, bytes);                                             // downloader thread
//   auto o = res.wait_range({0, 4096}, kithara::deadline_after(5s), stop);  // decoder thread
//   if (o && *o == kithara::storage::wait_outcome::ready) n = res.read_at(0, buf);
//
// Implemented by streaming_resource (a sparse file that survives restarts) and memory_resource
// (bounded, in memory); upper layers take a `resource&` and work with either.
//
// Threads: every member may be called from any thread concurrently (writers to disjoint ranges,
// readers, waiters, commit/fail), except destruction, which must not race other calls. Locks: an
// implementation's one mutex guards only its range set, lifecycle state and waiter list; it is
// never held across I/O, a wait, or a callback. Buffers: spans are borrowed for the call only.
//
// Semantics shared by every implementation:
// - write_at(offset, data): copies data to [offset, offset + size); the bytes become available
//   (and waiters wake) only once fully stored. Overlapping rewrites must carry the same content.
//   Errors: invalid_range on 64-bit overflow, past_final_length past a committed length, the
//   fail() error on a failed resource, closed after close().
// - read_at(offset, out) never returns a short read that looks like eof:
//     * at or past the committed final length -> 0 (eof); an empty `out` -> 0;
//     * otherwise the number of bytes of the *contiguous available run* starting at offset,
//       clamped to out.size() and to the final length (>= 1);
//     * no byte at offset available yet -> errc::not_available (call wait_range first);
//     * on a failed resource -> the fail() error; invalid_range on overflow.
// - wait_range(r): ready when every byte of r (clamped to the final length, if committed) is
//   available; eof when r begins at or past the committed final length; failed when the resource
//   failed (see failure()); cancelled when the stop token fires; timed_out at the deadline. An
//   empty r is ready at once (or eof). Errors: invalid_range for begin > end, closed.
//   A write that lands between the check and the wait always wakes the waiter.
// - commit(final_len): the total length is known. Errors: length_conflict if bytes past it are
//   already available or a different length was committed. Waiters past it wake with eof.
// - fail(e): the resource fails for good; all waiters wake with `failed`; reads and writes
//   return e. The first fail() wins.
#pragma once

#include <kithara/core/deadline.hpp>
#include <kithara/core/result.hpp>
#include <kithara/storage/export.hpp>
#include <kithara/storage/range_set.hpp>

#include <asio/any_io_executor.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <type_traits>
#include <utility>

namespace kithara::storage {

enum class wait_outcome { ready, eof, failed, cancelled, timed_out };

using kithara::deadline;  // kithara/core/deadline.hpp: one type across the layers

// Called on the writing thread after each write_at with the number of bytes that became newly
// available (never 0). Must be cheap and must not call back into the resource (a counter add).
using growth_callback = std::function<void(std::uint64_t newly_available)>;

// A move-only type-erased completion handler for async_wait_range: void(result<wait_outcome>).
class wait_handler {
public:
    wait_handler() = default;
    template <class F>
    requires(!std::same_as<std::decay_t<F>, wait_handler> &&
             std::invocable<std::decay_t<F>&, result<wait_outcome>>)
        wait_handler(F&& f)  // NOLINT(google-explicit-constructor)
        : impl_(std::make_unique<model<std::decay_t<F>>>(std::forward<F>(f))) {}

    void operator()(result<wait_outcome> r) { impl_->call(std::move(r)); }
    explicit operator bool() const noexcept { return impl_ != nullptr; }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual void call(result<wait_outcome> r) = 0;
    };
    template <class F>
    struct model final : concept_t {
        explicit model(F&& f) : fn(std::move(f)) {}
        explicit model(const F& f) : fn(f) {}
        void call(result<wait_outcome> r) override { fn(std::move(r)); }
        F fn;
    };
    std::unique_ptr<concept_t> impl_;
};

class KITHARA_STORAGE_EXPORT resource {
public:
    virtual ~resource();
    resource(const resource&) = delete;
    resource& operator=(const resource&) = delete;

    result<> write_at(std::uint64_t offset, std::span<const std::byte> data) {
        return do_write_at(offset, data);
    }
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) {
        return do_read_at(offset, out);
    }

    // Blocks until an outcome (see above). Without a deadline it waits until ready, eof, failed,
    // or the stop token fires.
    result<wait_outcome> wait_range(byte_range r, std::stop_token stop = {}) {
        return do_wait_range(r, std::nullopt, std::move(stop));
    }
    result<wait_outcome> wait_range(byte_range r, deadline until, std::stop_token stop = {}) {
        return do_wait_range(r, until, std::move(stop));
    }

    // Returns at once; `handler(result<wait_outcome>)` is later posted to `executor` exactly once
    // (never run inline), with ready, eof, failed, cancelled (stop token, or the resource was
    // destroyed), or an error (invalid_range, closed). A pending wait counts as outstanding work
    // on the executor. For a deadline, request stop from an Asio timer.
    template <class Handler>
    void async_wait_range(byte_range r, const asio::any_io_executor& executor, Handler&& handler,
                          std::stop_token stop = {}) {
        do_async_wait_range(r, executor, wait_handler(std::forward<Handler>(handler)),
                            std::move(stop));
    }

    result<> commit(std::uint64_t final_length) { return do_commit(final_length); }
    void fail(error e) { do_fail(std::move(e)); }

    // Makes every byte written so far durable (and, for files, the range map that claims them).
    result<> flush() { return do_flush(); }
    // Flushes, then wakes all waiters with errc::closed; later calls return errc::closed.
    result<> close() { return do_close(); }

    // Snapshots; each may be stale as soon as it returns while writers are active.
    [[nodiscard]] range_set available() const { return do_available(); }
    [[nodiscard]] std::uint64_t available_bytes() const { return do_available_bytes(); }
    [[nodiscard]] std::optional<std::uint64_t> final_length() const { return do_final_length(); }
    [[nodiscard]] std::optional<error> failure() const { return do_failure(); }
    // True when committed and every byte up to the final length is available.
    [[nodiscard]] bool complete() const { return do_complete(); }
    // Bytes the resource occupies in its backing: allocated disk blocks (data + range map) for
    // files, allocated chunks for memory.
    [[nodiscard]] std::uint64_t stored_bytes() const { return do_stored_bytes(); }

protected:
    resource() = default;

private:
    virtual result<> do_write_at(std::uint64_t offset, std::span<const std::byte> data) = 0;
    virtual result<std::size_t> do_read_at(std::uint64_t offset, std::span<std::byte> out) = 0;
    virtual result<wait_outcome> do_wait_range(byte_range r, std::optional<deadline> until,
                                               std::stop_token stop) = 0;
    virtual void do_async_wait_range(byte_range r, const asio::any_io_executor& executor,
                                     wait_handler handler, std::stop_token stop) = 0;
    virtual result<> do_commit(std::uint64_t final_length) = 0;
    virtual void do_fail(error e) = 0;
    virtual result<> do_flush() = 0;
    virtual result<> do_close() = 0;
    [[nodiscard]] virtual range_set do_available() const = 0;
    [[nodiscard]] virtual std::uint64_t do_available_bytes() const = 0;
    [[nodiscard]] virtual std::optional<std::uint64_t> do_final_length() const = 0;
    [[nodiscard]] virtual std::optional<error> do_failure() const = 0;
    [[nodiscard]] virtual bool do_complete() const = 0;
    [[nodiscard]] virtual std::uint64_t do_stored_bytes() const = 0;
};

}  // namespace kithara::storage
