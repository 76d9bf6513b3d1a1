#include "detail/avio_window.hpp"

#include <kithara/stream/error.hpp>

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/mem.h>
}

#include <algorithm>
#include <cstring>
#include <span>

namespace kithara::decode::detail {

namespace {

constexpr int avio_buffer_bytes = 64 * 1024;

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
    if (w.head != nullptr && pos - w.begin == w.head->size() && w.head->size() < w.head_limit) {
        const auto* b = reinterpret_cast<const std::byte*>(buf);
        w.head->insert(w.head->end(), b, b + std::min(*r, w.head_limit - w.head->size()));
    }
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

}  // namespace

AVIOContext* make_avio(io_window& w) {
    auto* buf = static_cast<unsigned char*>(av_malloc(avio_buffer_bytes));
    if (buf == nullptr) return nullptr;
    AVIOContext* avio =
        avio_alloc_context(buf, avio_buffer_bytes, 0, &w, read_packet, nullptr, seek_packet);
    if (avio == nullptr) av_free(buf);
    return avio;
}

void free_avio(AVIOContext*& avio) {
    if (avio == nullptr) return;
    av_freep(&avio->buffer);
    avio_context_free(&avio);
}

}  // namespace kithara::decode::detail
