// id3_skip_source: a packed-audio segment (ADTS, MP3, AC-3 with an ID3v2 tag in front) without
// its leading ID3 tag, so consecutive segments concatenate into one elementary stream; it reads
// the tag's PRIV com.apple.streaming.transportStreamTimestamp (33-bit, 90 kHz, masked).
//
//   auto raw = std::make_shared<detail::id3_skip_source>(segment);
//   concat->append(raw);  // raw->timestamp_90k() once the head was read
//
// Threads: any thread. Locks: one leaf mutex guards the skip length and the timestamp.
// Buffers: none of its own; the tag (at most max_tag_bytes of it) is searched once through a
// fixed 4 KiB window on the stack, so a segment's head allocates nothing.
#pragma once

#include <kithara/stream/source.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <span>

namespace kithara::hls::detail {

// The 33-bit 90 kHz timestamp of an ID3v2 tag's transportStreamTimestamp PRIV frame, masked; the
// tag is the whole of `tag`. nullopt when there is none.
std::optional<std::uint64_t> transport_stream_timestamp(std::span<const std::byte> tag);

class id3_skip_source final : public stream::source {
public:
    static constexpr std::uint64_t max_tag_bytes = 256 * 1024;
    explicit id3_skip_source(std::shared_ptr<stream::source> inner);

    [[nodiscard]] std::optional<std::uint64_t> length() const override;
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override;
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override;
    [[nodiscard]] stream::media_hints hints() const override { return inner_->hints(); }
    [[nodiscard]] std::optional<std::uint64_t> timestamp_90k() const;

private:
    result<stream::wait_status> resolve(std::optional<stream::deadline> until,
                                        std::stop_token stop);
    // The transportStreamTimestamp of the tag's first `tag_bytes` (all available), if any.
    result<std::optional<std::uint64_t>> scan_timestamp(std::uint64_t tag_bytes);

    std::shared_ptr<stream::source> inner_;
    mutable std::mutex mutex_;  // guards skip_, timestamp_
    std::optional<std::uint64_t> skip_;
    std::optional<std::uint64_t> timestamp_;
};

}  // namespace kithara::hls::detail
