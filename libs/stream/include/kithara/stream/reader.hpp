// kithara::stream::reader: a blocking read/seek/tell/size cursor over a source, for decoders, with
// a bounded read-ahead.
//
//   kithara::stream::reader rd(src, {.prefetch_bytes = 256 * 1024, .stop = stop});
//   auto n = rd.read(buf);            // >= 1 byte; 0 only at the proven end; or an error
//   rd.seek(4096);                    // drops read-ahead that does not cover the new position
//
// Read-ahead: with prefetch_bytes > 0 a background thread owned by the reader waits on the source
// (the demand signal) and copies up to prefetch_bytes ahead of the read position into a pooled
// ring buffer. Each seek that leaves the buffered window starts a new epoch: the in-flight wait is
// cancelled and bytes fetched for an older epoch are discarded, so no stale byte is ever delivered.
// With prefetch_bytes == 0 reads go straight to the source on the calling thread.
//
// Results: read() returns 0 only when the source proved the end (eof); "not yet" blocks until the
// bytes arrive, the deadline (`timeout` per read) passes (errc::timed_out), the stop token fires
// (errc::cancelled), or the source fails (its error).
// Threads: one consumer thread calls read/seek/tell (not thread-safe among themselves); stats(),
// size() and epoch() may be called from any thread. Locks: one mutex guards the ring indices,
// epoch and end/error state; it is never held across a source call or a copy out of the source.
// Buffers: the ring comes from bufpool's default byte pool and is owned by the reader.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/stream/export.hpp>
#include <kithara/stream/source.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>

namespace kithara::stream {

struct reader_options {
    std::size_t prefetch_bytes = 256 * 1024;  // read-ahead bound; 0: no background read-ahead
    std::size_t block_bytes = 64 * 1024;      // largest single copy from the source
    std::optional<std::chrono::milliseconds> timeout;  // per read(); nullopt: wait indefinitely
    std::stop_token stop;                              // cancels reads and the read-ahead
};

struct reader_stats {
    std::uint64_t bytes_read = 0;       // delivered to the caller
    std::uint64_t bytes_fetched = 0;    // copied from the source (including discarded)
    std::uint64_t bytes_discarded = 0;  // read ahead for an old epoch and dropped
    std::uint64_t underruns = 0;        // reads that had to block for bytes
    std::uint64_t seeks = 0;            // seeks that left the buffered window (new epochs)
};

class KITHARA_STREAM_EXPORT reader {
public:
    explicit reader(std::shared_ptr<source> src, reader_options options = {});
    ~reader();
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;

    // Reads up to out.size() bytes at tell(); advances. See the header comment for results.
    [[nodiscard]] result<std::size_t> read(std::span<std::byte> out);

    // Moves the read position. Errors: invalid_seek past a known length. Seeking to the length
    // itself is allowed (the next read returns 0).
    result<std::uint64_t> seek(std::uint64_t position);

    [[nodiscard]] std::uint64_t tell() const noexcept;
    [[nodiscard]] std::optional<std::uint64_t> size() const;
    [[nodiscard]] std::uint64_t epoch() const;
    [[nodiscard]] reader_stats stats() const;
    [[nodiscard]] source& get_source() const noexcept;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace kithara::stream
