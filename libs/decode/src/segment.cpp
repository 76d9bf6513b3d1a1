#include "detail/segment.hpp"

#include <kithara/decode/error.hpp>

#include "detail/av_util.hpp"
#include "detail/mp4_edits.hpp"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace kithara::decode::detail {

namespace {

// How much of a container's head is kept while the demuxer opens it (an fMP4 init is ~1 KB; a
// moov larger than this is read as "unknown": the edit-list end applies as before).
constexpr std::size_t mp4_head_bytes = 64 * 1024;

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

// Sequential mode: the header (or the TS PMT) already named the audio codec; the first decoded
// frame tells rate and channels, and no duration is needed.
bool header_names_audio_codec(const AVFormatContext* fmt) {
    for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        const AVCodecParameters* p = fmt->streams[i]->codecpar;
        if (p->codec_type == AVMEDIA_TYPE_AUDIO && p->codec_id != AV_CODEC_ID_NONE) return true;
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

// Decodes the segment's first frame into s.primed (the decode loop delivers it first), so the
// codec context knows rate and channels. Bounded by max_consecutive_failures.
result<> prime(segment& s, const segment_context& ctx, const std::string& where) {
    s.primed = av_frame_alloc();
    if (s.primed == nullptr) return fail(std::make_error_code(std::errc::not_enough_memory));
    AVPacket* pkt = ctx.pkt;
    int failures = 0;
    bool sent_eof = false;
    // As far as the stream analysis would have read at most (with hints), plus a frame.
    constexpr std::uint64_t max_prime_bytes = 1 << 20;
    while (failures < max_consecutive_failures &&
           s.byte_position() - s.io.begin <= max_prime_bytes) {
        int ret = avcodec_receive_frame(s.codec, s.primed);
        if (ret == 0) {
            if (s.primed->sample_rate > 0 && s.primed->ch_layout.nb_channels > 0) {
                ++ctx.stats.codec_frames;
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
            ++ctx.stats.packets;
            if (avcodec_send_packet(s.codec, pkt) < 0) ++failures;
        }
        av_packet_unref(pkt);
    }
    return fail(errc::open_failed, "no decodable audio frame in the first " +
                                       std::to_string(s.byte_position() - s.io.begin) + " bytes " +
                                       where);
}

}  // namespace

segment::~segment() {
    av_frame_free(&primed);
    avcodec_free_context(&codec);
    if (fmt != nullptr) avformat_close_input(&fmt);
    free_avio(avio);
}

int segment::read(AVPacket* pkt) {
    if (flac) return flac->next(fmt->pb, pkt, stream_index);
    const int ret = av_read_frame(fmt, pkt);
    if (ret >= 0 && !start_known) {
        // Without stream analysis the demuxer learns the start time from the first packet, as
        // the analysis would have.
        start_known = true;
        if (st->start_time != AV_NOPTS_VALUE) start_pts = st->start_time;
    }
    return ret;
}

void segment::refresh_end_sample() {
    if (!mp4 || st->duration <= 0 || rate() == 0) return;
    const AVRational per_sample{1, static_cast<int>(rate())};
    const auto d = clamp_samples(av_rescale_q(st->duration, st->time_base, per_sample));
    if (d > 0 && (!end_sample || d > *end_sample)) end_sample = d;
}

std::uint32_t segment::rate() const {
    return static_cast<std::uint32_t>(std::max(codec->sample_rate, 0));
}

std::uint64_t segment::byte_position() const {
    return io.begin + static_cast<std::uint64_t>(std::max<std::int64_t>(avio_tell(fmt->pb), 0));
}

const char* segment::container_name() const {
    return fmt->iformat->name;
}

result<std::unique_ptr<segment>> open_segment(const segment_context& ctx, std::uint64_t begin,
                                              const stream::media_hints& hints) {
    auto s = std::make_unique<segment>();
    s->io.rd = &ctx.rd;
    s->io.src = &ctx.src;
    s->io.begin = begin;
    if (auto r = ctx.rd.seek(begin); !r) return fail(r.error());
    s->avio = make_avio(s->io);
    if (s->avio == nullptr) return fail(std::make_error_code(std::errc::not_enough_memory));
    s->fmt = avformat_alloc_context();
    if (s->fmt == nullptr) return fail(std::make_error_code(std::errc::not_enough_memory));
    s->io.fmt = s->fmt;
    s->fmt->pb = s->avio;
    s->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    if (ctx.sequential) {
        // Every tail read in FFmpeg's demuxers is guarded by AVIO_SEEKABLE_NORMAL: mov's walk of
        // the top-level atoms and its mfra lookup, the TS/PS duration from the last PTS,
        // ID3v1 and APE tags (mp3, aac), the Ogg duration page.
        s->avio->seekable = 0;
        s->fmt->skip_estimate_duration_from_pts = 1;
    }
    const AVInputFormat* ifmt = nullptr;
    if (!hints.container.empty()) ifmt = av_find_input_format(hints.container.c_str());
    if (!hints.empty() || ctx.sequential) {
        s->fmt->probesize = 64 * 1024;
        s->fmt->max_analyze_duration = AV_TIME_BASE / 4;
    }
    const std::string where = "at byte " + std::to_string(begin);
    // Progressive start-up: the Ogg duration page (the last 65307 bytes) and the ID3v1/APE tags
    // of MP3 and ADTS are the only reads past the head these demuxers make at open, and on one link
    // they come before the first sample. Open them as a non-seekable input (FFmpeg skips those
    // reads), then make it seekable again: seeking is unchanged, and the decoder learns the Ogg
    // duration from the tail once it is there (detail/ogg_tail.hpp).
    const bool defer_tail =
        !ctx.sequential &&
        (hints.container == "ogg" || hints.container == "mp3" || hints.container == "aac");
    if (defer_tail) s->avio->seekable = 0;
    // The head the demuxer reads at open, for the MP4 edit list (FFmpeg does not export it).
    std::vector<std::byte> head;
    if (hints.container.empty() || hints.container.find("mov") != std::string::npos ||
        hints.container.find("mp4") != std::string::npos) {
        s->io.head = &head;
        s->io.head_limit = mp4_head_bytes;
    }
    const int opened = avformat_open_input(&s->fmt, nullptr, ifmt, nullptr);
    s->io.head = nullptr;
    if (int ret = opened; ret < 0) {
        s->fmt = nullptr;  // freed by FFmpeg
        if (s->io.last_error) return fail(*s->io.last_error);
        return fail(errc::open_failed, "container " + where + ": " + av_error_text(ret));
    }
    // The stream analysis reads far ahead (MP3 ~10 KB, FLAC ~100 KB) and costs start-up bytes:
    // with a container hint and a codec named by the header, the first decoded frame tells rate
    // and channels instead (see prime).
    const bool analyse =
        hints.container.empty() || !(ctx.sequential || (defer_tail && hints.container == "ogg")
                                         ? header_names_audio_codec(s->fmt)
                                         : header_describes_audio(s->fmt));
    if (analyse) {
        if (int ret = avformat_find_stream_info(s->fmt, nullptr); ret < 0) {
            if (s->io.last_error) return fail(*s->io.last_error);
            return fail(errc::open_failed, "stream info " + where + ": " + av_error_text(ret));
        }
    }
    if (defer_tail) {
        s->avio->seekable = AVIO_SEEKABLE_NORMAL;
        s->tail_deferred = hints.container == "ogg";
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
    s->codec->thread_count = static_cast<int>(ctx.codec_threads);
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
        if (auto r = prime(*s, ctx, where); !r) return fail(r.error());
    }
    s->start_pts = s->st->start_time != AV_NOPTS_VALUE ? s->st->start_time : 0;
    s->start_known = analyse || s->flac || s->st->start_time != AV_NOPTS_VALUE;
    const std::int64_t rate = s->codec->sample_rate;
    if (rate > 0) {
        const AVRational per_sample{1, static_cast<int>(rate)};
        // The edit-list end (encoder padding) is cut where the file declares the track's end.
        // A fragmented file whose edit list runs to the end of the media (FFmpeg's hls and
        // CMAF muxers write segment_duration 0) declares none: its last frame is kept whole, as
        // FFmpeg, ExoPlayer and MSE players play it (docs/DECODE.md, "Gapless").
        s->mp4 = std::strstr(s->fmt->iformat->name, "mp4") != nullptr &&
                 mp4_track_end(head, s->st->id) != mp4_end::open_ended;
        if (s->st->duration > 0) {
            const auto d =
                clamp_samples(av_rescale_q(s->st->duration, s->st->time_base, per_sample));
            if (s->mp4 && d > 0) s->end_sample = d;
            // Sequential input: the header describes only what was read so far (fMP4: the
            // fragments' sidx), not the segment; the protocol layer knows the lengths.
            if (d > 0 && s->fmt->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE &&
                !ctx.sequential) {
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

}  // namespace kithara::decode::detail
