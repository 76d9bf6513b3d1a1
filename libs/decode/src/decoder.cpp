#include <kithara/decode/decoder.hpp>

#include <kithara/decode/error.hpp>
#include <kithara/detail/log.hpp>
#include <kithara/stream/error.hpp>

#include "detail/fifo.hpp"
#include "detail/flac_framer.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libswresample/swresample.h>
}
#include <samplerate.h>

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

namespace kithara::decode {

namespace {

#ifdef KITHARA_FFMPEG_BUNDLED
// The bundled FFmpeg is Kithara's own (static, hidden), so its log goes through Kithara's logger
// instead of stderr: errors (corrupt data) as warnings, warnings as debug (e.g. the notice that a
// custom AVIOContext names no protocol), the rest dropped. With the system FFmpeg, the
// application owns av_log's process-wide callback and Kithara leaves it alone.
void ffmpeg_log(void* avcl, int level, const char* fmt, va_list args) {
    if (level > AV_LOG_WARNING) return;
    const auto lvl = level <= AV_LOG_FATAL   ? spdlog::level::err
                     : level <= AV_LOG_ERROR ? spdlog::level::warn
                                             : spdlog::level::debug;
    if (!::kithara::detail::logger().should_log(lvl)) return;
    char line[1024];
    int print_prefix = 1;
    av_log_format_line2(avcl, level, fmt, args, line, sizeof line, &print_prefix);
    std::string_view text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    KITHARA_LOG_(lvl, "ffmpeg: {}", text);
}
#endif

void route_ffmpeg_log() {
#ifdef KITHARA_FFMPEG_BUNDLED
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_callback(ffmpeg_log); });
#endif
}

constexpr int avio_buffer_bytes = 64 * 1024;
// Sample indices and times derived from container timestamps (untrusted input) are clamped here:
// 2^52 samples is over 2900 years at 48 kHz; no arithmetic on them can overflow.
constexpr std::int64_t max_samples = std::int64_t{1} << 52;

std::int64_t clamp_samples(std::int64_t v) {
    return std::clamp(v, -max_samples, max_samples);
}
std::int64_t sat_add(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}
std::int64_t sat_sub(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}
constexpr int max_consecutive_failures = 64;

std::string av_error_text(int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = {};
    av_strerror(err, buf, sizeof buf);
    return buf;
}

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f s", s);
    return buf;
}

int src_converter(resample_quality q) {
    switch (q) {
        case resample_quality::best:
            return SRC_SINC_BEST_QUALITY;
        case resample_quality::medium:
            return SRC_SINC_MEDIUM_QUALITY;
        case resample_quality::fastest:
            return SRC_SINC_FASTEST;
        case resample_quality::linear:
            return SRC_LINEAR;
        case resample_quality::zero_order_hold:
            return SRC_ZERO_ORDER_HOLD;
    }
    return SRC_SINC_MEDIUM_QUALITY;
}

// The byte window one demuxer sees: [begin, end) of the source, end = the next boundary.
struct io_window {
    stream::reader* rd = nullptr;
    stream::source* src = nullptr;
    std::uint64_t begin = 0;
    std::optional<std::uint64_t> end;
    std::optional<error> last_error;
    const AVFormatContext* fmt = nullptr;  // the demuxer reading this window (for quirks)

    void refresh_end() {
        if (!end) {
            if (auto b = src->boundary_after(begin)) end = b->offset;
        }
    }
    std::optional<std::uint64_t> size() {
        refresh_end();
        if (end) return *end - begin;
        if (auto len = src->length()) return *len > begin ? *len - begin : 0;
        return std::nullopt;
    }
};

int read_packet(void* opaque, std::uint8_t* buf, int size) {
    auto& w = *static_cast<io_window*>(opaque);
    if (size <= 0) return 0;
    const std::uint64_t pos = w.rd->tell();
    auto want = static_cast<std::size_t>(size);
    w.refresh_end();
    if (w.end) {
        if (pos >= *w.end) return AVERROR_EOF;
        want = static_cast<std::size_t>(std::min<std::uint64_t>(want, *w.end - pos));
    }
    auto r = w.rd->read(std::span<std::byte>(reinterpret_cast<std::byte*>(buf), want));
    if (!r) {
        w.last_error = r.error();
        return r.error() == stream::errc::cancelled ? AVERROR_EXIT : AVERROR(EIO);
    }
    if (*r == 0) return AVERROR_EOF;
    return static_cast<int>(*r);
}

std::int64_t seek_packet(void* opaque, std::int64_t offset, int whence) {
    auto& w = *static_cast<io_window*>(opaque);
    whence &= ~AVSEEK_FORCE;
    const auto size = w.size();
    if (whence == AVSEEK_SIZE) {
        if (size) return static_cast<std::int64_t>(*size);
        // Unknown size. FFmpeg 5.1's mp3 demuxer casts a negative avio_size() to a huge size and
        // then drops the Xing frame count (no gapless trim); it treats 0 as unknown. Others (mov)
        // take 0 literally, so they get ENOSYS.
        const bool mp3 = w.fmt != nullptr && w.fmt->iformat != nullptr &&
                         std::strcmp(w.fmt->iformat->name, "mp3") == 0;
        return mp3 ? 0 : AVERROR(ENOSYS);
    }
    std::int64_t target = 0;
    switch (whence) {
        case SEEK_SET:
            target = offset;
            break;
        case SEEK_CUR:
            target = static_cast<std::int64_t>(w.rd->tell() - w.begin) + offset;
            break;
        case SEEK_END:
            if (!size) return AVERROR(ENOSYS);
            target = static_cast<std::int64_t>(*size) + offset;
            break;
        default:
            return AVERROR(EINVAL);
    }
    if (target < 0) return AVERROR(EINVAL);
    if (size && static_cast<std::uint64_t>(target) > *size) return AVERROR(EINVAL);
    auto r = w.rd->seek(w.begin + static_cast<std::uint64_t>(target));
    if (!r) {
        w.last_error = r.error();
        return AVERROR(EIO);
    }
    return target;
}

// True when the demuxer's header already named the audio codec and its duration, so the stream
// analysis of avformat_find_stream_info is not needed to pick a decoder or to tell the duration
// (raw ADTS/AC-3 and MP3 without a Xing header only get an estimate from the analysis).
bool header_describes_audio(const AVFormatContext* fmt) {
    if ((fmt->ctx_flags & AVFMTCTX_NOHEADER) != 0) return false;  // streams appear with packets
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        const AVStream* st = fmt->streams[i];
        const AVCodecParameters* p = st->codecpar;
        if (p->codec_type == AVMEDIA_TYPE_AUDIO && p->codec_id != AV_CODEC_ID_NONE)
            return st->duration > 0 && st->duration != AV_NOPTS_VALUE;
    }
    return false;
}

// Without stream analysis av_find_best_stream skips streams of unknown rate: the first audio
// stream with a decoder (as av_find_best_stream: index, or AVERROR_DECODER_NOT_FOUND).
int first_audio_stream(const AVFormatContext* fmt, const AVCodec** dec) {
    int ret = AVERROR_STREAM_NOT_FOUND;
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        const AVCodecParameters* p = fmt->streams[i]->codecpar;
        if (p->codec_type != AVMEDIA_TYPE_AUDIO) continue;
        *dec = avcodec_find_decoder(p->codec_id);
        if (*dec != nullptr) return static_cast<int>(i);
        ret = AVERROR_DECODER_NOT_FOUND;
    }
    return ret;
}

// One container's demuxer + decoder over an io_window.
struct segment {
    io_window io;
    AVIOContext* avio = nullptr;
    AVFormatContext* fmt = nullptr;
    AVCodecContext* codec = nullptr;
    AVStream* st = nullptr;
    int stream_index = -1;
    std::int64_t start_pts = 0;                    // stream time base
    std::optional<std::int64_t> end_sample;        // gapless end (MP4 edit list), native samples
    std::optional<std::int64_t> duration_samples;  // declared duration, for truncation checks
    std::int64_t preroll = 0;                      // native samples decoded before a seek target
    AVFrame* primed = nullptr;  // the first frame, decoded at open to learn rate and channels
    std::optional<detail::flac_framer> flac;  // native FLAC without stream analysis
    bool start_known = true;  // start_pts is final (else taken from the first demuxed packet)
    bool draining = false;

    segment() = default;
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;
    ~segment() {
        av_frame_free(&primed);
        avcodec_free_context(&codec);
        if (fmt != nullptr) avformat_close_input(&fmt);
        if (avio != nullptr) {
            av_freep(&avio->buffer);
            avio_context_free(&avio);
        }
    }

    // The next packet: from the FLAC framer when there is one, else from the demuxer.
    int read(AVPacket* pkt) {
        if (flac) return flac->next(fmt->pb, pkt, stream_index);
        const int ret = av_read_frame(fmt, pkt);
        if (ret >= 0 && !start_known) {
            // Without stream analysis the demuxer learns the start time from the first packet,
            // as the analysis would have.
            start_known = true;
            if (st->start_time != AV_NOPTS_VALUE) start_pts = st->start_time;
        }
        return ret;
    }

    [[nodiscard]] std::uint32_t rate() const {
        return static_cast<std::uint32_t>(std::max(codec->sample_rate, 0));
    }
    [[nodiscard]] std::uint64_t byte_position() const {
        return io.begin + static_cast<std::uint64_t>(std::max<std::int64_t>(avio_tell(fmt->pb), 0));
    }
};

}  // namespace

struct decoder::impl {
    std::shared_ptr<stream::source> src;
    decoder_options opts;
    stream::reader rd;
    bufpool::sample_pool* pool;
    stream_info info;
    decode_stats stats;
    std::uint64_t epoch = 0;

    std::unique_ptr<segment> seg;
    AVPacket* pkt = nullptr;
    AVFrame* frame = nullptr;
    AVFrame* pending = nullptr;  // a frame in a new format, held until the old one is flushed
    bool change_pending = false;
    bool mark_changed = false;
    bool ended = false;
    bool started = false;  // a chunk was emitted since open or the last seek
    std::optional<error> end_error;
    int consecutive_failures = 0;

    // Converter state for the current native format.
    std::uint32_t in_rate = 0;
    std::uint32_t in_channels = 0;
    int in_format = -1;
    AVCodecID in_codec = AV_CODEC_ID_NONE;
    std::uint32_t out_rate = 0;
    std::uint32_t out_channels = 0;
    SwrContext* swr = nullptr;
    bool mono_fanout = false;  // mono source duplicated to every output channel
    SRC_STATE* sr = nullptr;
    std::vector<float> scratch;  // native-rate float frames of one codec frame
    std::vector<float> scratch2;
    detail::sample_fifo fifo;

    // Timeline.
    std::int64_t seg_pos = 0;       // native sample index (in the segment) of the next sample
    std::int64_t seg_seen_end = 0;  // furthest pts-based sample end seen (truncation check)
    std::int64_t seg_start_ns = 0;  // timeline time of the segment's first sample
    std::int64_t base_ns = 0;       // timeline time of fifo frame `base_frames` ago
    std::uint64_t out_frames_since_base = 0;
    std::optional<std::int64_t> discard_until_ns;  // after a seek: drop samples before this
    bool first_after_seek = false;
    std::optional<std::int64_t> sync_expect;  // after a seek: where the next frame should start
    bool restart_needed = false;

    impl(std::shared_ptr<stream::source> s, decoder_options o)
        : src(s),
          opts(std::move(o)),
          rd(std::move(s), opts.reader),
          pool(opts.pool != nullptr ? opts.pool : &bufpool::default_sample_pool()) {}

    ~impl() {
        seg.reset();
        av_packet_free(&pkt);
        av_frame_free(&frame);
        av_frame_free(&pending);
        swr_free(&swr);
        if (sr != nullptr) src_delete(sr);
    }

    // ---- opening -------------------------------------------------------------------------

    result<std::unique_ptr<segment>> open_segment(std::uint64_t begin,
                                                  const stream::media_hints& hints) {
        auto s = std::make_unique<segment>();
        s->io.rd = &rd;
        s->io.src = src.get();
        s->io.begin = begin;
        if (auto r = rd.seek(begin); !r) return fail(r.error());
        auto* buf = static_cast<unsigned char*>(av_malloc(avio_buffer_bytes));
        if (buf == nullptr) return fail(std::make_error_code(std::errc::not_enough_memory));
        s->avio = avio_alloc_context(buf, avio_buffer_bytes, 0, &s->io, read_packet, nullptr,
                                     seek_packet);
        if (s->avio == nullptr) {
            av_free(buf);
            return fail(std::make_error_code(std::errc::not_enough_memory));
        }
        s->fmt = avformat_alloc_context();
        if (s->fmt == nullptr) return fail(std::make_error_code(std::errc::not_enough_memory));
        s->io.fmt = s->fmt;
        s->fmt->pb = s->avio;
        s->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
        const AVInputFormat* ifmt = nullptr;
        if (!hints.container.empty()) ifmt = av_find_input_format(hints.container.c_str());
        if (!hints.empty()) {
            s->fmt->probesize = 64 * 1024;
            s->fmt->max_analyze_duration = AV_TIME_BASE / 4;
        }
        const std::string where = "at byte " + std::to_string(begin);
        if (hints.container == "ogg") {
            // FFmpeg's Ogg demuxer reads the last 65307 bytes (its largest page) at open for the
            // duration: let a network source fetch them alongside the head.
            if (auto len = s->io.size(); len && !s->io.end) {
                constexpr std::uint64_t ogg_tail = 65307;
                src->will_need({begin + *len - std::min(*len, ogg_tail), begin + *len});
            }
        }
        if (int ret = avformat_open_input(&s->fmt, nullptr, ifmt, nullptr); ret < 0) {
            s->fmt = nullptr;  // freed by FFmpeg
            if (s->io.last_error) return fail(*s->io.last_error);
            return fail(errc::open_failed, "container " + where + ": " + av_error_text(ret));
        }
        // The stream analysis reads far ahead (MP3 ~10 KB, FLAC ~100 KB) and costs start-up
        // bytes: with a container hint and a codec named by the header, the first decoded frame
        // tells rate and channels instead (see prime).
        const bool analyse = hints.container.empty() || !header_describes_audio(s->fmt);
        if (analyse) {
            if (int ret = avformat_find_stream_info(s->fmt, nullptr); ret < 0) {
                if (s->io.last_error) return fail(*s->io.last_error);
                return fail(errc::open_failed, "stream info " + where + ": " + av_error_text(ret));
            }
        }
        const AVCodec* dec = nullptr;
        const int idx = analyse ? av_find_best_stream(s->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &dec, 0)
                                : first_audio_stream(s->fmt, &dec);
        if (idx == AVERROR_DECODER_NOT_FOUND) {
            return fail(errc::unsupported_codec, "audio stream " + where);
        }
        if (idx < 0 || dec == nullptr) return fail(errc::no_audio_stream, "container " + where);
        s->stream_index = idx;
        s->st = s->fmt->streams[idx];
        for (unsigned i = 0; i < s->fmt->nb_streams; ++i) {
            if (static_cast<int>(i) != idx) s->fmt->streams[i]->discard = AVDISCARD_ALL;
        }
        s->codec = avcodec_alloc_context3(dec);
        if (s->codec == nullptr) return fail(std::make_error_code(std::errc::not_enough_memory));
        if (int ret = avcodec_parameters_to_context(s->codec, s->st->codecpar); ret < 0) {
            return fail(errc::unsupported_codec,
                        "codec parameters " + where + ": " + av_error_text(ret));
        }
        s->codec->pkt_timebase = s->st->time_base;
        s->codec->thread_count = static_cast<int>(opts.codec_threads);
        if (int ret = avcodec_open2(s->codec, dec, nullptr); ret < 0) {
            return fail(errc::unsupported_codec,
                        std::string(dec->name) + " " + where + ": " + av_error_text(ret));
        }
        if (!analyse && s->st->codecpar->codec_id == AV_CODEC_ID_FLAC &&
            std::strcmp(s->fmt->iformat->name, "flac") == 0) {
            // FFmpeg's FLAC parser holds back the first frame until it has seen ten headers.
            const AVCodecParameters* par = s->st->codecpar;
            std::uint32_t fixed = 0;
            if (par->extradata != nullptr && par->extradata_size >= 4) {
                const std::uint8_t* e = par->extradata;
                const auto min_block = static_cast<std::uint32_t>((e[0] << 8) | e[1]);
                const auto max_block = static_cast<std::uint32_t>((e[2] << 8) | e[3]);
                if (min_block == max_block) fixed = min_block;
            }
            s->flac.emplace(fixed);
        }
        if (!analyse && (s->codec->sample_rate <= 0 || s->codec->ch_layout.nb_channels <= 0)) {
            if (auto r = prime(*s, where); !r) return fail(r.error());
        }
        s->start_pts = s->st->start_time != AV_NOPTS_VALUE ? s->st->start_time : 0;
        s->start_known = analyse || s->flac || s->st->start_time != AV_NOPTS_VALUE;
        const std::int64_t rate = s->codec->sample_rate;
        if (rate > 0) {
            const AVRational per_sample{1, static_cast<int>(rate)};
            const bool mp4 = std::strstr(s->fmt->iformat->name, "mp4") != nullptr;
            if (s->st->duration > 0) {
                const auto d =
                    clamp_samples(av_rescale_q(s->st->duration, s->st->time_base, per_sample));
                if (mp4 && d > 0) s->end_sample = d;
                if (d > 0 && s->fmt->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE) {
                    s->duration_samples = d;
                }
            }
            const auto* desc = avcodec_descriptor_get(s->codec->codec_id);
            const bool lossless = desc != nullptr && (desc->props & AV_CODEC_PROP_LOSSLESS) != 0;
            s->preroll = s->st->codecpar->seek_preroll > 0 ? s->st->codecpar->seek_preroll
                         : lossless                        ? 0
                                                           : rate / 10;
        }
        return s;
    }

    // Decodes the segment's first frame into s.primed (decode_more delivers it first), so the
    // codec context knows rate and channels. Bounded by max_consecutive_failures.
    result<> prime(segment& s, const std::string& where) {
        s.primed = av_frame_alloc();
        if (s.primed == nullptr) return fail(std::make_error_code(std::errc::not_enough_memory));
        int failures = 0;
        bool sent_eof = false;
        // As far as the stream analysis would have read at most (with hints), plus a frame.
        constexpr std::uint64_t max_prime_bytes = 1 << 20;
        while (failures < max_consecutive_failures &&
               s.byte_position() - s.io.begin <= max_prime_bytes) {
            int ret = avcodec_receive_frame(s.codec, s.primed);
            if (ret == 0) {
                if (s.primed->sample_rate > 0 && s.primed->ch_layout.nb_channels > 0) {
                    ++stats.codec_frames;
                    return {};
                }
                av_frame_unref(s.primed);
                ++failures;
                continue;
            }
            if (ret == AVERROR_EOF || sent_eof) break;
            if (ret != AVERROR(EAGAIN)) {
                ++failures;
                continue;
            }
            ret = s.read(pkt);
            if (ret < 0) {
                if (s.io.last_error) return fail(*s.io.last_error);
                if (ret != AVERROR_EOF && !avio_feof(s.fmt->pb)) {
                    ++failures;
                    continue;
                }
                avcodec_send_packet(s.codec, nullptr);
                sent_eof = true;
                continue;
            }
            if (pkt->stream_index == s.stream_index) {
                ++stats.packets;
                if (avcodec_send_packet(s.codec, pkt) < 0) ++failures;
            }
            av_packet_unref(pkt);
        }
        return fail(errc::open_failed, "no decodable audio frame in the first " +
                                           std::to_string(s.byte_position() - s.io.begin) +
                                           " bytes " + where);
    }

    void describe(const segment& s) {
        info.container = s.fmt->iformat->name;
        info.codec = s.codec->codec->name;
        info.source_rate = s.rate();
        info.source_channels = static_cast<std::uint32_t>(s.codec->ch_layout.nb_channels);
        info.seekable = src->length().has_value();
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
        return {};
    }

    // ---- conversion ----------------------------------------------------------------------

    static bool same_format(const AVFrame* f, std::uint32_t rate, std::uint32_t ch, int fmt) {
        return static_cast<std::uint32_t>(f->sample_rate) == rate &&
               static_cast<std::uint32_t>(f->ch_layout.nb_channels) == ch && f->format == fmt;
    }

    // Drains libsamplerate's tail (end of input) into the fifo.
    result<> flush_resampler() {
        if (sr == nullptr) return {};
        for (;;) {
            float dummy = 0;
            fifo.reserve_frames(4096, out_channels, stats.buffer_growths);
            SRC_DATA d{};
            d.data_in = &dummy;
            d.input_frames = 0;
            d.data_out = fifo.write_ptr();
            d.output_frames = 4096;
            d.end_of_input = 1;
            d.src_ratio = static_cast<double>(out_rate) / in_rate;
            if (int e = src_process(sr, &d); e != 0) {
                return fail(errc::resample_failed, src_strerror(e));
            }
            if (d.output_frames_gen == 0) break;
            fifo.commit_frames(static_cast<std::size_t>(d.output_frames_gen), out_channels);
        }
        src_reset(sr);
        return {};
    }

    result<> configure(const AVFrame* f) {
        const bool had = in_rate != 0;
        in_rate = static_cast<std::uint32_t>(f->sample_rate);
        in_channels = static_cast<std::uint32_t>(f->ch_layout.nb_channels);
        in_format = f->format;
        in_codec = seg->codec->codec_id;
        if (opts.sample_rate == 0) out_rate = in_rate;
        if (opts.channels == 0) out_channels = in_channels;
        info.source_rate = in_rate;
        info.source_channels = in_channels;
        info.output_rate = out_rate;
        info.output_channels = out_channels;
        info.codec = seg->codec->codec->name;
        info.container = seg->fmt->iformat->name;

        swr_free(&swr);
        mono_fanout = in_channels == 1 && out_channels > 1;
        AVChannelLayout out_layout{};
        av_channel_layout_default(&out_layout, mono_fanout ? 1 : static_cast<int>(out_channels));
        AVChannelLayout in_layout{};
        if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
            av_channel_layout_default(&in_layout, f->ch_layout.nb_channels);
        } else {
            av_channel_layout_copy(&in_layout, &f->ch_layout);
        }
        const int r = static_cast<int>(in_rate);
        int ret = swr_alloc_set_opts2(&swr, &out_layout, AV_SAMPLE_FMT_FLT, r, &in_layout,
                                      static_cast<AVSampleFormat>(f->format), r, 0, nullptr);
        av_channel_layout_uninit(&in_layout);
        av_channel_layout_uninit(&out_layout);
        if (ret >= 0) ret = swr_init(swr);
        if (ret < 0) return fail(errc::resample_failed, "swr_init: " + av_error_text(ret));

        if (sr != nullptr) {
            src_delete(sr);
            sr = nullptr;
        }
        if (out_rate != in_rate) {
            int err = 0;
            sr = src_new(src_converter(opts.quality), static_cast<int>(out_channels), &err);
            if (sr == nullptr) return fail(errc::resample_failed, src_strerror(err));
        }
        if (had) {
            ++stats.format_changes;
            mark_changed = true;
        }
        return {};
    }

    // Converts frames [skip, skip + count) of f into the fifo.
    result<> convert(const AVFrame* f, int skip, int count) {
        const int n = f->nb_samples;
        const std::size_t conv_ch = mono_fanout ? 1 : out_channels;
        const int cap = swr_get_out_samples(swr, n);
        detail::ensure_size(scratch, static_cast<std::size_t>(std::max(cap, n)) * conv_ch,
                            stats.buffer_growths);
        auto* out = reinterpret_cast<std::uint8_t*>(scratch.data());
        const int got = swr_convert(swr, &out, std::max(cap, n),
                                    const_cast<const std::uint8_t**>(f->extended_data), n);
        if (got < 0) return fail(errc::resample_failed, "swr_convert: " + av_error_text(got));
        count = std::min(count, got - skip);
        if (count <= 0) return {};
        const float* in = scratch.data() + static_cast<std::size_t>(skip) * conv_ch;
        if (mono_fanout) {
            detail::ensure_size(scratch2, static_cast<std::size_t>(count) * out_channels,
                                stats.buffer_growths);
            for (int i = 0; i < count; ++i) {
                for (std::size_t c = 0; c < out_channels; ++c) {
                    scratch2[static_cast<std::size_t>(i) * out_channels + c] = in[i];
                }
            }
            in = scratch2.data();
        }
        const auto frames = static_cast<std::size_t>(count);
        if (sr == nullptr) {
            fifo.push(in, frames, out_channels, stats.buffer_growths);
            return {};
        }
        const double ratio = static_cast<double>(out_rate) / in_rate;
        std::size_t done = 0;
        while (done < frames) {
            const auto room =
                static_cast<std::size_t>(static_cast<double>(frames - done) * ratio) + 64;
            fifo.reserve_frames(room, out_channels, stats.buffer_growths);
            SRC_DATA d{};
            d.data_in = in + done * out_channels;
            d.input_frames = static_cast<long>(frames - done);
            d.data_out = fifo.write_ptr();
            d.output_frames = static_cast<long>(room);
            d.end_of_input = 0;
            d.src_ratio = ratio;
            if (int e = src_process(sr, &d); e != 0) {
                return fail(errc::resample_failed, src_strerror(e));
            }
            fifo.commit_frames(static_cast<std::size_t>(d.output_frames_gen), out_channels);
            done += static_cast<std::size_t>(d.input_frames_used);
            if (d.input_frames_used == 0 && d.output_frames_gen == 0) break;
        }
        return {};
    }

    [[nodiscard]] std::int64_t ns_to_seg_samples(std::int64_t ns, std::uint32_t rate) const {
        return clamp_samples(av_rescale(sat_sub(ns, seg_start_ns), rate, 1'000'000'000));
    }

    // Handles one decoded frame in the current format.
    result<> handle_frame(AVFrame* f) {
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
        if (seg->end_sample && idx + skip + count > *seg->end_sample) {
            count = static_cast<int>(std::max<std::int64_t>(0, *seg->end_sample - idx - skip));
        }
        if (count <= 0) return {};
        return convert(f, skip, count);
    }

    // ---- decode loop ---------------------------------------------------------------------

    error position_context(error e, const char* what) const {
        const double t = seg->rate() > 0 ? static_cast<double>(seg_pos) / seg->rate() : 0.0;
        e.add_context(std::string(what) + " at byte " + std::to_string(seg->byte_position()) +
                      ", " + seconds_text(static_cast<double>(seg_start_ns) / 1e9 + t));
        return e;
    }

    result<> count_failure(int ret, const char* what) {
        ++stats.packets_dropped;
        if (++consecutive_failures > max_consecutive_failures) {
            return fail(position_context(error(errc::decode_failed, av_error_text(ret)), what));
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
                return fail(errc::truncated, "ends at byte " +
                                                 std::to_string(seg->byte_position()) + ", " +
                                                 seconds_text(static_cast<double>(seg_pos) / rate) +
                                                 ", before its duration " +
                                                 seconds_text(static_cast<double>(expect) / rate));
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
                if (in_rate == 0 || !same_format(frame, in_rate, in_channels, in_format) ||
                    seg->codec->codec_id != in_codec) {
                    if (frame->sample_rate <= 0 || frame->ch_layout.nb_channels <= 0) {
                        av_frame_unref(frame);
                        continue;
                    }
                    if (in_rate == 0) {
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
            base_ns,
            av_rescale(static_cast<std::int64_t>(out_frames_since_base), 1'000'000'000, out_rate)));
        out_frames_since_base += frames;
        c.epoch = epoch;
        started = true;
        c.format_changed = std::exchange(mark_changed, false);
        c.source_rate = in_rate;
        c.source_channels = in_channels;
        stats.pcm_frames += frames;
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
        if (sr != nullptr) src_reset(sr);
        const std::int64_t ns = position.count();
        // Ogg: FFmpeg 5.1 derives wrong packet timestamps when it seeks with index entries
        // gathered by earlier reads (off by up to a few thousand samples); a fresh demuxer
        // seeks exactly. Opening one costs only the header pages.
        const bool fresh = seg->io.begin != 0 || std::strcmp(seg->fmt->iformat->name, "ogg") == 0;
        if (fresh) {
            seg.reset();
            auto s = open_segment(0, src->hints());
            if (!s) return fail(s.error());
            seg = std::move(*s);
        }
        seg_start_ns = 0;
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
    route_ffmpeg_log();
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
