// kithara::stream::concat_source: one byte space made of parts appended over time (other sources,
// or byte ranges of them), so a decoder reads a sequence of inputs that share one codec
// configuration as one stream: an fMP4 init followed by its media fragments, consecutive TS or
// packed-audio segments. Nothing is copied: a part is a shared_ptr to its source (the same init
// source may be appended before several fragments).
//
//   auto cat = kithara::stream::concat_source::create({.container = "mov"});
//   if (!cat->append(init) || !cat->append(seg1)) return;         // as the segments arrive
//   if (!cat->append(init2, std::nullopt, media_hints{.container = "mov"})) return;  // discontinuity
//   cat->finish();                                                 // no more parts: end known
//
// Offsets: part i starts where part i-1 ends; a part whose length is not known yet (a segment
// still downloading) is read through until its source proves its end, and the parts after it get
// their offsets then. A part appended with `boundary` hints declares a format_boundary at its first
// byte: the decoder ends its demuxer there and opens a new one (an HLS discontinuity or a new
// EXT-X-MAP), keeping its output clock and converter. wait_range past the last appended part waits
// for the next append or finish(); an owner that appends on demand sets on_demand(), called once
// per part count on the reading thread before such a wait (it appends the next part, or
// finishes).
// A long sequential run (a live stream's segments, appended for hours) releases the parts its
// reader has passed (release_parts_before): their sources are let go (a segment's cache file can
// be removed, its memory freed) and reads there fail with invalid_seek; offsets do not change.
// Threads: every member may be called from any thread. Locks: one leaf mutex guards the part list
// and the finished flag; it is never held across a call into a part's wait_range or read_at (only
// across a part's length(), a non-blocking accessor). Buffers: parts are shared with the caller
// (a read holds its part's source for the call); read_at copies from the part into the caller's
// span. At most max_parts parts held at once (bounded); released ones do not count.
#pragma once

#include <kithara/stream/export.hpp>
#include <kithara/stream/source.hpp>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace kithara::stream {

class KITHARA_STREAM_EXPORT concat_source final : public source {
public:
    static constexpr std::size_t max_parts = 1 << 16;

    // `hints`: the media at offset 0 (as source::hints()).
    [[nodiscard]] static std::shared_ptr<concat_source> create(media_hints hints = {});
    explicit concat_source(media_hints hints);

    // Appends `range` of `src` (the whole source when nullopt; a range is clamped to the part's
    // length once known). With `boundary`, a new container starts at this part's first byte.
    // Errors: invalid_seek after finish(), past max_parts, or for an inverted range.
    result<> append(std::shared_ptr<source> src, std::optional<byte_range> range = std::nullopt,
                    std::optional<media_hints> boundary = std::nullopt);
    // No more parts: length() becomes known once every part's length is.
    void finish();
    // Called (without the lock) on the thread whose wait_range reached past the last appended
    // part while not finished, once per part count; it may append or finish (or neither: the
    // wait then waits for another thread to). Set it before the first read.
    void on_demand(std::function<void()> fn);
    // Parts appended so far (released ones included).
    [[nodiscard]] std::size_t part_count() const;
    // Lets go of the parts before part `index` (counted as part_count() counts) whose extent is
    // known; the first part whose extent is not known, and those after it, are kept.
    void release_parts_before(std::size_t index);

    [[nodiscard]] std::optional<std::uint64_t> length() const override;
    result<wait_status> wait_range(byte_range r, std::optional<deadline> until,
                                   std::stop_token stop) override;
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override;
    void will_need(byte_range r) override;
    [[nodiscard]] media_hints hints() const override;
    [[nodiscard]] std::optional<format_boundary> boundary_after(std::uint64_t after) const override;

private:
    struct part {
        std::shared_ptr<source> src;
        std::uint64_t from = 0;               // first byte in src
        std::optional<std::uint64_t> to;      // one past the last byte in src (range end)
        std::optional<std::uint64_t> size;    // bytes, once known
        std::optional<std::uint64_t> start;   // offset in this byte space, once known
        std::optional<media_hints> boundary;  // a new container starts here
    };
    // Where `offset` falls: part index (== parts_.size() when past the appended parts) and the
    // offset inside it. Fills in sizes and starts that became known. Caller holds mutex_.
    struct place {
        std::size_t index = 0;
        std::uint64_t local = 0;  // offset inside the part's range (0-based)
        bool size_known = false;  // the part's size is known (so local < size)
        bool released = false;    // the offset lies in a released part
    };
    place locate(std::uint64_t offset) const;
    void learn_size(part& p) const;

    mutable std::mutex mutex_;  // guards parts_ (sizes/starts are filled in lazily), finished_
    std::condition_variable_any appended_;
    mutable std::vector<part> parts_;  // the held parts; parts_[0] is part number dropped_
    std::size_t dropped_ = 0;          // parts released from the front
    std::uint64_t dropped_bytes_ = 0;  // where parts_[0] starts (the released parts' bytes)
    bool finished_ = false;
    std::function<void()> demand_;
    std::size_t demanded_at_ = static_cast<std::size_t>(-1);  // part count of the last demand
    media_hints hints_;
};

}  // namespace kithara::stream
