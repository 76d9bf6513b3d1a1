// metadata_tap: a segment's bytes seen as the decoder reads them, scanned for in-band timed
// metadata — ID3 tags in packed audio (anywhere in the segment, through packed_audio_scanner),
// `emsg` boxes at the top level of an fMP4 segment, and the ID3 tags of an MPEG-TS segment's
// timed-metadata stream (ts_metadata_scanner; placed by their PTS against the first audio PTS) —
// and handed to a sink as timed_metadata
// placed on the stream timeline. Nothing is read twice: the tap sees the bytes the reader above
// it reads, in order (a forward gap is read once from the inner source).
//
//   auto tap = std::make_shared<detail::metadata_tap>(segment, detail::metadata_tap::kind::packed,
//                                                     /*segment_start=*/12.0, "segment 6",
//                                                     [](std::vector<timed_metadata> found) {...});
//   concat->append(tap);  // reads pass through; found items go to the sink as tags complete
//
// Threads: any thread (a decoder reads it from one at a time). Locks: one leaf mutex guards the
// scan state, never held across a read of the inner source; the sink is called after it is
// released. Buffers: the scanner's (one chunk plus one
// tag or frame, see packed_audio_scanner), an emsg box being assembled (≤ max_emsg_bytes; the
// first moof, ≤ max_moof_bytes, for emsg version 1 with ≤ max_pending_v1 waiting), the TS
// scanner's (one packet, one metadata PES) with at most max_pending_ts_tags tags waiting for the
// first audio PTS, and a 4 KiB stack window for a forward gap.
#pragma once

#include "emsg.hpp"
#include "packed_scanner.hpp"
#include "ts_scanner.hpp"

#include <kithara/hls/timed_metadata.hpp>
#include <kithara/stream/source.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kithara::hls::detail {

class metadata_tap final : public stream::source {
public:
    enum class kind { packed, fmp4, ts };
    static constexpr std::size_t max_pending_ts_tags = 64;
    using sink = std::function<void(std::vector<timed_metadata>)>;
    // The media timescale of the segment's init section (fMP4), for emsg version 1; called at
    // most once, on the reading thread with no lock held, only when such a box was found.
    using timescale_source = std::function<std::optional<std::uint32_t>()>;
    static constexpr std::size_t max_pending_v1 = 16;
    static constexpr std::uint64_t max_moof_bytes = 256 * 1024;

    metadata_tap(std::shared_ptr<stream::source> inner, kind k, double segment_start,
                 std::string label, sink out, timescale_source timescale = {});

    [[nodiscard]] std::optional<std::uint64_t> length() const override { return inner_->length(); }
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override {
        return inner_->wait_range(r, until, std::move(stop));
    }
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override;
    void will_need(stream::byte_range r) override { inner_->will_need(r); }
    [[nodiscard]] stream::media_hints hints() const override { return inner_->hints(); }

private:
    // Scans bytes [offset, offset + bytes.size()) (under mutex_; a part scanned already is
    // skipped, a gap ends the scan); found items go to `found`.
    void observe(std::uint64_t offset, std::span<const std::uint8_t> bytes,
                 std::vector<timed_metadata>& found);
    void feed(std::span<const std::uint8_t> bytes, std::vector<timed_metadata>& found);
    void feed_boxes(std::span<const std::uint8_t> bytes, std::vector<timed_metadata>& found);
    void feed_ts(std::span<const std::uint8_t> bytes, std::vector<timed_metadata>& found);
    // emsg version 1 boxes placed once the timescale and the first fragment's decode time are
    // known (or left out, logged, when they cannot be).
    void place_v1(std::vector<timed_metadata>& found);
    // TS tags placed once the first audio PTS is known (or the scan ended: at the segment start).
    void place_ts(std::vector<timed_metadata>& found);
    void stop(const std::string& why);
    [[nodiscard]] bool at_end() const;  // every byte of the segment was scanned

    std::shared_ptr<stream::source> inner_;
    const kind kind_;
    const double segment_start_;
    const std::string label_;
    const sink sink_;
    const timescale_source timescale_source_;

    std::mutex mutex_;       // guards everything below
    std::uint64_t fed_ = 0;  // bytes of the segment scanned, from its start
    bool stopped_ = false;   // the structure was lost, or the segment is done
    packed_audio_scanner scanner_;
    std::vector<scanned_tag> tags_;
    // fMP4: the box being walked starts at box_at_; box_ holds its first bytes (a header, or the
    // whole of an emsg box); skip_ bytes of a box that is not emsg are still to pass.
    std::uint64_t box_at_ = 0;
    std::vector<std::uint8_t> box_;
    std::uint64_t skip_ = 0;
    // emsg version 1: boxes waiting; the first moof's decode time; the init's timescale.
    std::vector<emsg_box> pending_v1_;
    bool moof_seen_ = false;
    std::optional<std::uint64_t> decode_time_;
    bool timescale_asked_ = false;
    std::optional<std::uint32_t> timescale_;
    ts_metadata_scanner ts_;
    std::vector<ts_tag> ts_tags_;  // found, not yet placed
};

}  // namespace kithara::hls::detail
