// kithara::stream::source: the random-access byte interface decoders read through, plus the
// media hints and format boundaries a protocol layer knows.
//
//   std::shared_ptr<kithara::stream::source> src = kithara::stream::memory_source::create(bytes);
//   auto w = src->wait_range({0, 4096}, std::nullopt, stop);
//   if (w && *w == kithara::stream::wait_status::ready) n = src->read_at(0, buf);  // >= 1, 0: end
//
// Implementations: memory_source, resource_source (a storage::resource), and the protocol layers
// (file: progressive HTTP; hls: segments). What an implementation must do:
// - wait_range(r, deadline, stop) blocks until every byte of r (clamped to the known length) can be
//   read. It is ALSO the demand signal: a protocol source starts fetching at r.begin (e.g. a Range
//   request) when the bytes are not there yet. Outcomes: ready, eof (r.begin at or past a known
//   end), cancelled (stop token), timed_out (deadline); a failed source returns its error.
// - read_at(offset, out) never blocks on the network: it copies the contiguous run available at
//   offset (>= 1 byte, clamped to out.size() and the length), returns 0 only at or past the proven
//   end, and errc::not_available when the byte at offset is not there yet.
// - hints() and boundaries: see media_hints / format_boundary below. A boundary must be declared
//   (declare_boundary) before any byte at or after its offset becomes readable.
//
// Threads: every member may be called from any thread concurrently. Locks: declared_hints guards
// its hints and boundary list with one leaf mutex, never held across a call out. Buffers: spans are
// borrowed for the call only.
#pragma once

#include <kithara/core/deadline.hpp>
#include <kithara/core/result.hpp>
#include <kithara/storage/range_set.hpp>
#include <kithara/stream/export.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

namespace kithara::stream {

using kithara::deadline;  // kithara/core/deadline.hpp: one type across the layers
using storage::byte_range;

enum class wait_status { ready, eof, cancelled, timed_out };

// What the protocol knows about the media; empty fields are unknown. Names are FFmpeg's short
// names ("mp3", "aac", "mov", "mpegts", "flac", "ogg", "wav", ...), which the decoder uses to skip
// or shorten probing.
struct media_hints {
    std::string container;  // demuxer name, e.g. "mpegts", "mov", "aac" (ADTS), "mp3"
    std::string codec;      // decoder name, e.g. "aac", "mp3", "opus"
    std::uint32_t sample_rate = 0;
    std::uint32_t channels = 0;

    [[nodiscard]] bool empty() const noexcept {
        return container.empty() && codec.empty() && sample_rate == 0 && channels == 0;
    }
};

// "From byte `offset` on, a new container/codec starts": the decoder ends its demuxer at `offset`
// and opens a new one there (an HLS variant switch to a different container or codec).
struct format_boundary {
    std::uint64_t offset = 0;
    media_hints hints;  // what starts at offset, if known
};

class KITHARA_STREAM_EXPORT source {
public:
    virtual ~source();
    source(const source&) = delete;
    source& operator=(const source&) = delete;

    // The total length in bytes, once known.
    [[nodiscard]] virtual std::optional<std::uint64_t> length() const = 0;

    // See the contract above. `until` = nullopt waits without a deadline.
    virtual result<wait_status> wait_range(byte_range r, std::optional<deadline> until,
                                           std::stop_token stop) = 0;

    [[nodiscard]] virtual result<std::size_t> read_at(std::uint64_t offset,
                                                      std::span<std::byte> out) = 0;

    // Advice that r will be read soon (a demuxer's known look-ahead, e.g. a tail it reads at
    // open): a protocol source may start fetching it now. Never blocks; default: ignored.
    virtual void will_need(byte_range r) { (void)r; }

    // Hints for the media starting at offset 0 (empty when unknown).
    [[nodiscard]] virtual media_hints hints() const { return {}; }

    // The first declared boundary with offset > `after`, if any. May grow while reading.
    [[nodiscard]] virtual std::optional<format_boundary> boundary_after(std::uint64_t after) const {
        (void)after;
        return std::nullopt;
    }

protected:
    source() = default;
};

// Thread-safe storage for hints and boundaries that a source implementation can embed.
class KITHARA_STREAM_EXPORT declared_hints {
public:
    void set_hints(media_hints h);
    // Boundaries must be declared in increasing offset order; returns false otherwise.
    bool declare_boundary(format_boundary b);
    [[nodiscard]] media_hints hints() const;
    [[nodiscard]] std::optional<format_boundary> boundary_after(std::uint64_t after) const;

private:
    mutable std::mutex mutex_;  // guards hints_ and boundaries_
    media_hints hints_;
    std::vector<format_boundary> boundaries_;
};

// A source whose hints and boundaries are declared by its owner (memory and resource sources,
// protocol layers that build on them).
class KITHARA_STREAM_EXPORT declaring_source : public source {
public:
    [[nodiscard]] media_hints hints() const override { return declared_.hints(); }
    [[nodiscard]] std::optional<format_boundary> boundary_after(
        std::uint64_t after) const override {
        return declared_.boundary_after(after);
    }
    void set_hints(media_hints h) { declared_.set_hints(std::move(h)); }
    bool declare_boundary(format_boundary b) { return declared_.declare_boundary(std::move(b)); }

protected:
    explicit declaring_source(media_hints h = {}) { declared_.set_hints(std::move(h)); }

private:
    declared_hints declared_;
};

}  // namespace kithara::stream
