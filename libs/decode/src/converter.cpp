#include "detail/converter.hpp"

#include <kithara/decode/error.hpp>

#include "detail/av_util.hpp"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
}
#include <samplerate.h>

#include <algorithm>

namespace kithara::decode::detail {

namespace {

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

}  // namespace

converter::~converter() {
    swr_free(&swr_);
    if (sr_ != nullptr) src_delete(sr_);
}

bool converter::accepts(const AVFrame* f) const {
    return in_rate_ != 0 && static_cast<std::uint32_t>(f->sample_rate) == in_rate_ &&
           static_cast<std::uint32_t>(f->ch_layout.nb_channels) == in_channels_ &&
           f->format == in_format_;
}

void converter::reset() {
    if (sr_ != nullptr) src_reset(sr_);
}

result<> converter::drain(sample_fifo& out, std::uint64_t& growths) {
    if (sr_ == nullptr) return {};
    for (;;) {
        float dummy = 0;
        out.reserve_frames(4096, out_channels_, growths);
        SRC_DATA d{};
        d.data_in = &dummy;
        d.input_frames = 0;
        d.data_out = out.write_ptr();
        d.output_frames = 4096;
        d.end_of_input = 1;
        d.src_ratio = static_cast<double>(out_rate_) / in_rate_;
        if (int e = src_process(sr_, &d); e != 0) {
            return fail(errc::resample_failed, src_strerror(e));
        }
        if (d.output_frames_gen == 0) break;
        out.commit_frames(static_cast<std::size_t>(d.output_frames_gen), out_channels_);
    }
    src_reset(sr_);
    return {};
}

result<> converter::configure(const AVFrame* f, std::uint32_t out_rate,
                              std::uint32_t out_channels) {
    in_rate_ = static_cast<std::uint32_t>(f->sample_rate);
    in_channels_ = static_cast<std::uint32_t>(f->ch_layout.nb_channels);
    in_format_ = f->format;
    out_rate_ = out_rate;
    out_channels_ = out_channels;

    swr_free(&swr_);
    mono_fanout_ = in_channels_ == 1 && out_channels_ > 1;
    AVChannelLayout out_layout{};
    av_channel_layout_default(&out_layout, mono_fanout_ ? 1 : static_cast<int>(out_channels_));
    AVChannelLayout in_layout{};
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
        av_channel_layout_default(&in_layout, f->ch_layout.nb_channels);
    } else {
        av_channel_layout_copy(&in_layout, &f->ch_layout);
    }
    const int r = static_cast<int>(in_rate_);
    int ret = swr_alloc_set_opts2(&swr_, &out_layout, AV_SAMPLE_FMT_FLT, r, &in_layout,
                                  static_cast<AVSampleFormat>(f->format), r, 0, nullptr);
    av_channel_layout_uninit(&in_layout);
    av_channel_layout_uninit(&out_layout);
    if (ret >= 0) ret = swr_init(swr_);
    if (ret < 0) return fail(errc::resample_failed, "swr_init: " + av_error_text(ret));

    if (sr_ != nullptr) {
        src_delete(sr_);
        sr_ = nullptr;
    }
    if (out_rate_ != in_rate_) {
        int err = 0;
        sr_ = src_new(src_converter(quality_), static_cast<int>(out_channels_), &err);
        if (sr_ == nullptr) return fail(errc::resample_failed, src_strerror(err));
    }
    return {};
}

result<> converter::convert(const AVFrame* f, int skip, int count, sample_fifo& out,
                            std::uint64_t& growths) {
    const int n = f->nb_samples;
    const std::size_t conv_ch = mono_fanout_ ? 1 : out_channels_;
    const int cap = swr_get_out_samples(swr_, n);
    ensure_size(scratch_, static_cast<std::size_t>(std::max(cap, n)) * conv_ch, growths);
    auto* buf = reinterpret_cast<std::uint8_t*>(scratch_.data());
    const int got = swr_convert(swr_, &buf, std::max(cap, n),
                                const_cast<const std::uint8_t**>(f->extended_data), n);
    if (got < 0) return fail(errc::resample_failed, "swr_convert: " + av_error_text(got));
    count = std::min(count, got - skip);
    if (count <= 0) return {};
    const float* in = scratch_.data() + static_cast<std::size_t>(skip) * conv_ch;
    if (mono_fanout_) {
        ensure_size(fanout_, static_cast<std::size_t>(count) * out_channels_, growths);
        for (int i = 0; i < count; ++i) {
            for (std::size_t c = 0; c < out_channels_; ++c) {
                fanout_[static_cast<std::size_t>(i) * out_channels_ + c] = in[i];
            }
        }
        in = fanout_.data();
    }
    const auto frames = static_cast<std::size_t>(count);
    if (sr_ == nullptr) {
        out.push(in, frames, out_channels_, growths);
        return {};
    }
    const double ratio = static_cast<double>(out_rate_) / in_rate_;
    std::size_t done = 0;
    while (done < frames) {
        const auto room = static_cast<std::size_t>(static_cast<double>(frames - done) * ratio) + 64;
        out.reserve_frames(room, out_channels_, growths);
        SRC_DATA d{};
        d.data_in = in + done * out_channels_;
        d.input_frames = static_cast<long>(frames - done);
        d.data_out = out.write_ptr();
        d.output_frames = static_cast<long>(room);
        d.end_of_input = 0;
        d.src_ratio = ratio;
        if (int e = src_process(sr_, &d); e != 0) {
            return fail(errc::resample_failed, src_strerror(e));
        }
        out.commit_frames(static_cast<std::size_t>(d.output_frames_gen), out_channels_);
        done += static_cast<std::size_t>(d.input_frames_used);
        if (d.input_frames_used == 0 && d.output_frames_gen == 0) break;
    }
    return {};
}

}  // namespace kithara::decode::detail
