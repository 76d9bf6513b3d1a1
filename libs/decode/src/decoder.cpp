// The decoder: opens the first container, runs the decode loop (packets -> frames -> converter
// -> fifo -> pooled chunks), keeps the output clock across containers and format changes, and
// seeks. The pieces it drives live beside it: the AVIO glue (avio_window.cpp), containers
// (segment.cpp), the sample converter (converter.cpp).
#include <kithara/decode/decoder.hpp>

#include <kithara/decode/error.hpp>

#include "detail/av_util.hpp"
#include "detail/converter.hpp"
#include "detail/fifo.hpp"
#include "detail/ogg_tail.hpp"
#include "detail/segment.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>
}

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string>

namespace kithara::decode {

using detail::clamp_samples;
using detail::sat_add;
using detail::sat_sub;

struct decoder::impl {
    std::shared_ptr<stream::source> src;
    decoder_options opts;
    stream::reader rd;
    bufpool::sample_pool* pool;
    stream_info info;
    decode_stats stats;
    std::uint64_t epoch = 0;

    std::unique_ptr<detail::segment> seg;
    AVPacket* pkt = nullptr;
    AVFrame* frame = nullptr;
    AVFrame* pending = nullptr;  // a frame in a new format, held until the old one is flushed
    bool change_pending = false;
    bool mark_changed = false;
    bool ended = false;
    bool started = false;  // a chunk was emitted since open or the last seek
    std::optional<error> end_error;
    int consecutive_failures = 0;

    // Conversion of the current native format (codec: a codec change is a format change too).
    detail::converter conv;
    AVCodecID in_codec = AV_CODEC_ID_NONE;
    std::uint32_t out_rate = 0;
    std::uint32_t out_channels = 0;
    detail::sample_fifo fifo;

    // Timeline.
    std::int64_t seg_pos = 0;       // native sample index (in the segment) of the next sample
    std::int64_t seg_seen_end = 0;  // furthest pts-based sample end seen (truncation check)
    std::int64_t seg_start_ns = 0;  // timeline time of the segment's first sample
    std::int64_t base_ns = 0;       // timeline time of fifo frame `base_frames` ago
    std::uint64_t out_frames_since_base = 0;
    std::optional<std::int64_t> discard_until_ns;  // after a seek: drop samples before this
    // options.preroll_bytes: the first container's clock starts at the first frame decoded from
    // a packet at or after them (its pts, once seen; reapplied when the container is reopened).
    std::optional<std::int64_t> preroll_start_pts;
    // With pre-roll: the packet position of the last frame that had one. A parser (ADTS in a TS
    // PES) gives only a PES's first frame a position; the frames after it are from the same PES.
    std::int64_t last_pkt_pos = -1;
    bool first_after_seek = false;
    std::optional<std::int64_t> sync_expect;  // after a seek: where the next frame should start
    bool restart_needed = false;

    // Ogg opened without its tail (segment::tail_deferred): the duration is learned from the
    // last page once the source has it; until then info.duration is an estimate.
    std::vector<std::byte> tail;                // sized once, at open
    std::optional<std::int64_t> tail_duration;  // native samples, once learned
    std::uint32_t chunks_since_tail_check = 0;
    std::uint64_t packet_end = 0;  // source offset past the last packet sent (its page, for Ogg)

    impl(std::shared_ptr<stream::source> s, decoder_options o)
        : src(s),
          opts(std::move(o)),
          rd(std::move(s), opts.reader),
          pool(opts.pool != nullptr ? opts.pool : &bufpool::default_sample_pool()),
          conv(opts.quality) {}

    ~impl() {
        seg.reset();
        av_packet_free(&pkt);
        av_frame_free(&frame);
        av_frame_free(&pending);
    }

    // ---- opening -------------------------------------------------------------------------

    result<std::unique_ptr<detail::segment>> open_segment(std::uint64_t begin,
                                                          const stream::media_hints& hints) {
        return detail::open_segment({rd, *src, opts.codec_threads, opts.sequential, pkt, stats},
                                    begin, hints);
    }

    void describe(const detail::segment& s) {
        info.container = s.container_name();
        info.codec = s.codec->codec->name;
        info.source_rate = s.rate();
        info.source_channels = static_cast<std::uint32_t>(s.codec->ch_layout.nb_channels);
        info.seekable = !opts.sequential && src->length().has_value();
        if (s.fmt->duration > 0 && s.fmt->duration < INT64_MAX / 1000) {
            info.duration = std::chrono::microseconds(s.fmt->duration);
        } else if (s.st->duration > 0) {  // no stream analysis: the header's duration
            const auto us = av_rescale_q(s.st->duration, s.st->time_base, AVRational{1, 1000000});
            if (us > 0 && us < INT64_MAX / 1000) info.duration = std::chrono::microseconds(us);
        }
        if (s.end_sample && s.rate() > 0) {
            info.duration =
                std::chrono::nanoseconds(av_rescale(*s.end_sample, 1'000'000'000, s.rate()));
        }
        // Sequential input: a header's duration describes what was read so far (an fMP4 sidx) or
        // the whole file a segment was cut from, not this input.
        if (opts.sequential) info.duration = std::chrono::nanoseconds(-1);
    }

    // Reads the Ogg tail if the source already has it (read_at never blocks nor demands bytes)
    // and sets the duration from its last granule. True when the duration is settled.
    bool learn_tail_duration() {
        const auto len = src->length();
        if (!len || seg == nullptr || seg->rate() == 0) return false;
        const std::uint64_t n = std::min<std::uint64_t>(*len, detail::ogg_tail_bytes);
        tail.resize(static_cast<std::size_t>(n));  // allocates once
        std::uint64_t got = 0;
        while (got < n) {
            auto r = src->read_at(*len - n + got, std::span(tail).subspan(got));
            if (!r || *r == 0) return false;  // not there yet
            got += *r;
        }
        info.duration_provisional = false;
        const auto g = detail::last_ogg_granule(tail);
        if (!g) return true;  // no final page: the duration stays unknown
        const std::int64_t start = seg->st->start_time != AV_NOPTS_VALUE ? seg->st->start_time : 0;
        const std::int64_t d = clamp_samples(av_rescale_q(
            sat_sub(*g, start), seg->st->time_base, AVRational{1, static_cast<int>(seg->rate())}));
        if (d <= 0) return true;
        tail_duration = d;
        seg->duration_samples = d;
        info.duration = std::chrono::microseconds(
            av_rescale_q(sat_sub(*g, start), seg->st->time_base, AVRational{1, 1000000}));
        return true;
    }

    // While the duration is provisional: every 16 chunks, look for the tail; until it is there,
    // estimate from the bytes and time decoded so far.
    void refresh_provisional_duration() {
        if (!info.duration_provisional || ++chunks_since_tail_check < 16) return;
        chunks_since_tail_check = 0;
        if (learn_tail_duration()) return;
        const auto len = src->length();
        const std::uint64_t pos = packet_end;  // not the demuxer's position: it reads ahead
        if (!len || pos < 4096 || seg->rate() == 0 || seg_pos <= 0) return;
        const double seconds = static_cast<double>(seg_pos) / seg->rate();
        info.duration = std::chrono::nanoseconds(static_cast<std::int64_t>(
            seconds * static_cast<double>(*len) / static_cast<double>(pos) * 1e9));
    }

    result<> open_first() {
        if (opts.channels > 32) return fail(errc::invalid_argument, "channels > 32");
        if (opts.chunk_frames == 0) opts.chunk_frames = 4096;
        if (opts.start_chunk_frames == 0 || opts.start_chunk_frames > opts.chunk_frames)
            opts.start_chunk_frames = opts.chunk_frames;
        pkt = av_packet_alloc();
        frame = av_frame_alloc();
        pending = av_frame_alloc();
        if (pkt == nullptr || frame == nullptr || pending == nullptr) {
            return fail(std::make_error_code(std::errc::not_enough_memory));
        }
        auto s = open_segment(0, src->hints());
        if (!s) return fail(s.error());
        seg = std::move(*s);
        describe(*seg);
        out_rate = opts.sample_rate != 0 ? opts.sample_rate : info.source_rate;
        out_channels = opts.channels != 0 ? opts.channels : info.source_channels;
        info.output_rate = out_rate;
        info.output_channels = out_channels;
        if (seg->tail_deferred && !src->boundary_after(0)) {
            info.duration = std::chrono::nanoseconds(-1);
            info.duration_provisional = true;
            if (!learn_tail_duration()) {
                // Fetch the tail after the head: the first sample does not wait for it.
                if (auto len = src->length()) {
                    src->will_need({*len - std::min(*len, detail::ogg_tail_bytes), *len});
                }
            }
        }
        return {};
    }

    // ---- conversion ----------------------------------------------------------------------

    // A frame in a new native format (or from a new codec): the output follows it where the
    // options leave rate or channels native.
    result<> configure(const AVFrame* f) {
        const bool had = conv.configured();
        const auto in_rate = static_cast<std::uint32_t>(f->sample_rate);
        const auto in_channels = static_cast<std::uint32_t>(f->ch_layout.nb_channels);
        in_codec = seg->codec->codec_id;
        if (opts.sample_rate == 0) out_rate = in_rate;
        if (opts.channels == 0) out_channels = in_channels;
        info.source_rate = in_rate;
        info.source_channels = in_channels;
        info.output_rate = out_rate;
        info.output_channels = out_channels;
        info.codec = seg->codec->codec->name;
        info.container = seg->container_name();
        if (auto r = conv.configure(f, out_rate, out_channels); !r) return r;
        if (had) {
            ++stats.format_changes;
            mark_changed = true;
        }
        return {};
    }

    result<> flush_resampler() { return conv.drain(fifo, stats.buffer_growths); }

    [[nodiscard]] std::int64_t ns_to_seg_samples(std::int64_t ns, std::uint32_t rate) const {
        return clamp_samples(av_rescale(sat_sub(ns, seg_start_ns), rate, 1'000'000'000));
    }

    // options.preroll_bytes: a frame decoded from a packet that starts in the pre-roll bytes of
    // the first container only primes the codec. A frame without a position comes from the
    // packet of the last frame that had one; with none yet, it is kept.
    [[nodiscard]] bool is_preroll(const AVFrame* f) {
        if (opts.preroll_bytes == 0 || seg->io.begin != 0) return false;
        if (f->pkt_pos >= 0) last_pkt_pos = f->pkt_pos;
        return last_pkt_pos >= 0 && static_cast<std::uint64_t>(last_pkt_pos) < opts.preroll_bytes;
    }

    // After (re)opening the first container: its clock starts where the pre-roll ends.
    void apply_preroll_start() {
        if (seg->io.begin == 0 && preroll_start_pts) seg->start_pts = *preroll_start_pts;
    }

    // Handles one decoded frame in the current format.
    result<> handle_frame(AVFrame* f) {
        if (is_preroll(f)) return {};
        if (opts.preroll_bytes > 0 && seg->io.begin == 0 && !preroll_start_pts &&
            f->pts != AV_NOPTS_VALUE) {
            preroll_start_pts = f->pts;
            apply_preroll_start();
        }
        const int n = f->nb_samples;
        const auto rate = static_cast<std::uint32_t>(f->sample_rate);
        std::int64_t idx = seg_pos;
        if (f->pts != AV_NOPTS_VALUE) {
            seg_seen_end = std::max(
                seg_seen_end,
                clamp_samples(av_rescale_q(sat_sub(f->pts, seg->start_pts), seg->st->time_base,
                                           AVRational{1, static_cast<int>(rate)})) +
                    n);
        }
        if (first_after_seek) {
            const std::int64_t pts = f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp;
            if (pts == AV_NOPTS_VALUE) {
                restart_needed = true;  // no timestamps: decode from the start and count
                return {};
            }
            idx = clamp_samples(av_rescale_q_rnd(
                sat_sub(pts, seg->start_pts), seg->st->time_base,
                AVRational{1, static_cast<int>(rate)},
                static_cast<AVRounding>(AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX)));
            if (seg->preroll > 0 && sync_expect != idx) {
                // Lossy codecs: the first timestamps after a container seek can be estimates
                // (Ogg pages, MP3 TOC). Trust them once two consecutive frames agree.
                sync_expect = idx + n;
                return {};
            }
            first_after_seek = false;
            sync_expect.reset();
            if (discard_until_ns && idx > ns_to_seg_samples(*discard_until_ns, rate)) {
                restart_needed = true;  // the container seek overshot: go back to the start
                return {};
            }
        }
        seg_pos = idx + n;
        int skip = 0;
        if (discard_until_ns) {
            const std::int64_t target = ns_to_seg_samples(*discard_until_ns, rate);
            if (idx + n <= target) return {};
            if (idx < target) skip = static_cast<int>(target - idx);
            discard_until_ns.reset();
        }
        int count = n - skip;
        if (opts.sequential) seg->refresh_end_sample();
        if (seg->end_sample && idx + skip + count > *seg->end_sample) {
            count = static_cast<int>(std::max<std::int64_t>(0, *seg->end_sample - idx - skip));
        }
        if (count <= 0) return {};
        return conv.convert(f, skip, count, fifo, stats.buffer_growths);
    }

    // ---- decode loop ---------------------------------------------------------------------

    error position_context(error e, const char* what) const {
        const double t = seg->rate() > 0 ? static_cast<double>(seg_pos) / seg->rate() : 0.0;
        e.add_context(std::string(what) + " at byte " + std::to_string(seg->byte_position()) +
                      ", " + detail::seconds_text(static_cast<double>(seg_start_ns) / 1e9 + t));
        return e;
    }

    result<> count_failure(int ret, const char* what) {
        ++stats.packets_dropped;
        if (++consecutive_failures > detail::max_consecutive_failures) {
            return fail(
                position_context(error(errc::decode_failed, detail::av_error_text(ret)), what));
        }
        return {};
    }

    // Switches to the segment at the next declared boundary, if any.
    result<bool> next_segment() {
        auto b = src->boundary_after(seg->io.begin);
        if (!b) return false;
        const std::uint32_t old_rate = seg->rate();
        const std::int64_t decoded = seg_pos;
        auto s = open_segment(b->offset, b->hints);
        if (!s) return fail(s.error());
        if (old_rate > 0) {
            seg_start_ns = sat_add(seg_start_ns, av_rescale(decoded, 1'000'000'000, old_rate));
        }
        seg = std::move(*s);
        seg_pos = 0;
        seg_seen_end = 0;
        return true;
    }

    result<> final_checks() {
        if (seg->duration_samples && seg->rate() > 0) {
            const std::int64_t expect = *seg->duration_samples;
            const std::int64_t slack = std::max<std::int64_t>(expect / 20, seg->rate() / 4);
            if (std::max(seg_pos, seg_seen_end) + slack < expect) {
                const double rate = seg->rate();
                return fail(errc::truncated,
                            "ends at byte " + std::to_string(seg->byte_position()) + ", " +
                                detail::seconds_text(static_cast<double>(seg_pos) / rate) +
                                ", before its duration " +
                                detail::seconds_text(static_cast<double>(expect) / rate));
            }
        }
        return {};
    }

    // Decodes until one frame reached the fifo (true) or the stream ended (false).
    result<bool> decode_more() {
        for (;;) {
            if (restart_needed) {
                restart_needed = false;
                if (auto r = restart_segment(); !r) return fail(r.error());
                continue;
            }
            int ret = 0;
            if (seg->primed != nullptr) {
                av_frame_move_ref(frame, seg->primed);
                av_frame_free(&seg->primed);
            } else {
                ret = avcodec_receive_frame(seg->codec, frame);
                if (ret == 0) ++stats.codec_frames;
            }
            if (ret == 0) {
                consecutive_failures = 0;
                if (!conv.accepts(frame) || seg->codec->codec_id != in_codec) {
                    if (frame->sample_rate <= 0 || frame->ch_layout.nb_channels <= 0) {
                        av_frame_unref(frame);
                        continue;
                    }
                    if (!conv.configured()) {
                        if (auto r = configure(frame); !r) return fail(r.error());
                    } else {
                        av_frame_move_ref(pending, frame);
                        change_pending = true;
                        return true;
                    }
                }
                auto r = handle_frame(frame);
                av_frame_unref(frame);
                if (!r) return fail(r.error());
                return true;
            }
            if (ret == AVERROR(EAGAIN) && seg->draining) ret = AVERROR_EOF;  // drained
            if (ret == AVERROR_EOF) {
                if (first_after_seek && src->boundary_after(seg->io.begin)) {
                    // The seek ran past this container's end before any frame told us its
                    // length: count it from its start to place the next container on the clock.
                    restart_needed = true;
                    continue;
                }
                auto more = next_segment();
                if (!more) return fail(more.error());
                if (*more) continue;
                if (auto r = flush_resampler(); !r) return fail(r.error());
                if (auto r = final_checks(); !r) end_error = r.error();
                return false;
            }
            if (ret != AVERROR(EAGAIN)) {
                if (auto r = count_failure(ret, "decode"); !r) return fail(r.error());
                continue;
            }
            ret = seg->read(pkt);
            if (ret < 0) {
                if (seg->io.last_error) {
                    auto e = *seg->io.last_error;
                    seg->io.last_error.reset();
                    return fail(position_context(std::move(e), "demux"));
                }
                if (ret != AVERROR_EOF && !avio_feof(seg->fmt->pb)) {
                    if (auto r = count_failure(ret, "demux"); !r) return fail(r.error());
                    continue;
                }
                seg->draining = true;
                avcodec_send_packet(seg->codec, nullptr);
                continue;
            }
            if (pkt->stream_index != seg->stream_index) {
                av_packet_unref(pkt);
                continue;
            }
            ++stats.packets;
            if (pkt->pos >= 0) {
                packet_end = seg->io.begin + static_cast<std::uint64_t>(pkt->pos) +
                             static_cast<std::uint64_t>(pkt->size);
            }
            ret = avcodec_send_packet(seg->codec, pkt);
            av_packet_unref(pkt);
            if (ret < 0 && ret != AVERROR(EAGAIN)) {
                if (auto r = count_failure(ret, "decode packet"); !r) return fail(r.error());
            }
        }
    }

    result<> restart_segment() {
        // Reopen the current segment from its first byte and discard up to the target by counting.
        const auto begin = seg->io.begin;
        stream::media_hints hints;
        if (begin == 0) {
            hints = src->hints();
        } else if (auto b = src->boundary_after(begin - 1)) {
            hints = b->hints;
        }
        seg.reset();
        auto s = open_segment(begin, hints);
        if (!s) return fail(s.error());
        seg = std::move(*s);
        if (begin == 0 && seg->tail_deferred && tail_duration)
            seg->duration_samples = tail_duration;
        apply_preroll_start();
        last_pkt_pos = -1;
        seg_pos = 0;
        seg_seen_end = 0;
        first_after_seek = false;
        return {};
    }

    result<std::optional<pcm_chunk>> emit(std::size_t frames) {
        pcm_chunk c;
        c.samples = pool->get(frames * out_channels);
        fifo.pop(c.samples.data(), frames, out_channels);
        c.sample_rate = out_rate;
        c.channels = out_channels;
        c.start = std::chrono::nanoseconds(sat_add(
            sat_add(opts.start_offset.count(), base_ns),
            av_rescale(static_cast<std::int64_t>(out_frames_since_base), 1'000'000'000, out_rate)));
        out_frames_since_base += frames;
        c.epoch = epoch;
        started = true;
        c.format_changed = std::exchange(mark_changed, false);
        c.source_rate = conv.in_rate();
        c.source_channels = conv.in_channels();
        stats.pcm_frames += frames;
        refresh_provisional_duration();
        return std::optional<pcm_chunk>(std::move(c));
    }

    result<std::optional<pcm_chunk>> next() {
        if (opts.reader.stop.stop_requested()) return fail(errc::cancelled, "next");
        for (;;) {
            const std::size_t want = started ? opts.chunk_frames : opts.start_chunk_frames;
            if (fifo.frames(out_channels) >= want) return emit(want);
            if (change_pending) {
                if (auto r = flush_resampler(); !r) return fail(r.error());
                const bool out_changes =
                    (opts.sample_rate == 0 &&
                     static_cast<std::uint32_t>(pending->sample_rate) != out_rate) ||
                    (opts.channels == 0 &&
                     static_cast<std::uint32_t>(pending->ch_layout.nb_channels) != out_channels);
                if (out_changes && fifo.frames(out_channels) > 0) {
                    return emit(fifo.frames(out_channels));
                }
                if (out_changes) {
                    // New output format: restart the chunk clock at the current time.
                    base_ns = sat_add(base_ns,
                                      av_rescale(static_cast<std::int64_t>(out_frames_since_base),
                                                 1'000'000'000, out_rate));
                    out_frames_since_base = 0;
                }
                change_pending = false;
                if (auto r = configure(pending); !r) return fail(r.error());
                auto r = handle_frame(pending);
                av_frame_unref(pending);
                if (!r) return fail(r.error());
                continue;
            }
            if (ended) {
                if (fifo.frames(out_channels) > 0) return emit(fifo.frames(out_channels));
                if (end_error) return fail(*end_error);
                return std::optional<pcm_chunk>();
            }
            auto more = decode_more();
            if (!more) return fail(more.error());
            if (!*more) ended = true;
        }
    }

    result<> seek(std::chrono::nanoseconds position) {
        if (position.count() < 0) return fail(errc::invalid_argument, "negative seek position");
        ++epoch;
        started = false;
        ++stats.seeks;
        fifo.clear();
        av_frame_unref(pending);
        change_pending = false;
        ended = false;
        end_error.reset();
        consecutive_failures = 0;
        conv.reset();
        const std::int64_t ns = position.count();
        // Ogg: FFmpeg 5.1 derives wrong packet timestamps when it seeks with index entries
        // gathered by earlier reads (off by up to a few thousand samples); a fresh demuxer
        // seeks exactly. Opening one costs only the header pages.
        const bool fresh = seg->io.begin != 0 || std::strcmp(seg->container_name(), "ogg") == 0;
        if (fresh) {
            seg.reset();
            auto s = open_segment(0, src->hints());
            if (!s) return fail(s.error());
            seg = std::move(*s);
            if (seg->tail_deferred && tail_duration) seg->duration_samples = tail_duration;
            apply_preroll_start();
        }
        seg_start_ns = 0;
        last_pkt_pos = -1;
        seg->draining = false;
        av_frame_free(&seg->primed);
        base_ns = ns;
        out_frames_since_base = 0;
        discard_until_ns = ns;
        const std::uint32_t rate = seg->rate();
        bool sought = false;
        if (rate > 0) {
            const std::int64_t target = av_rescale(ns, rate, 1'000'000'000);
            const std::int64_t from = target - seg->preroll;  // may precede the start: priming
            const std::int64_t ts = sat_add(
                seg->start_pts,
                av_rescale_q(from, AVRational{1, static_cast<int>(rate)}, seg->st->time_base));
            sought = av_seek_frame(seg->fmt, seg->stream_index, ts, AVSEEK_FLAG_BACKWARD) >= 0;
            if (seg->flac) seg->flac->reset();  // pb is at a frame start now
            if (seg->io.last_error) {
                auto e = *seg->io.last_error;
                seg->io.last_error.reset();
                return fail(position_context(std::move(e), "seek"));
            }
        }
        if (sought) {
            avcodec_flush_buffers(seg->codec);
            first_after_seek = true;
            sync_expect.reset();
            return {};
        }
        auto r = restart_segment();
        if (r) discard_until_ns = ns;
        return r;
    }
};

decoder::decoder(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
decoder::~decoder() = default;

result<std::unique_ptr<decoder>> decoder::open(std::shared_ptr<stream::source> src,
                                               decoder_options options) {
    assert(src != nullptr);
    detail::route_ffmpeg_log();
    auto p = std::make_unique<impl>(std::move(src), std::move(options));
    if (auto r = p->open_first(); !r) return fail(r.error());
    return std::unique_ptr<decoder>(new decoder(std::move(p)));
}

result<std::optional<pcm_chunk>> decoder::next() {
    return impl_->next();
}

result<> decoder::seek(std::chrono::nanoseconds position) {
    return impl_->seek(position);
}

const stream_info& decoder::info() const noexcept {
    return impl_->info;
}

decode_stats decoder::stats() const noexcept {
    auto s = impl_->stats;
    s.underruns = impl_->rd.stats().underruns;
    return s;
}

std::uint64_t decoder::epoch() const noexcept {
    return impl_->epoch;
}

}  // namespace kithara::decode
