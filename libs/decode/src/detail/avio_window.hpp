// Internal: the AVIO glue. An io_window is the byte window [begin, end) of a stream::source that
// one demuxer sees through a custom AVIOContext reading a stream::reader (end = the next declared
// format boundary, else the source's length). Reader errors are kept in last_error (FFmpeg only
// sees EIO/EXIT) so the decoder reports the real cause. One thread: the decoder's.
#pragma once

#include <kithara/core/error.hpp>
#include <kithara/stream/reader.hpp>
#include <kithara/stream/source.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

struct AVFormatContext;
struct AVIOContext;

namespace kithara::decode::detail {

struct io_window {
    stream::reader* rd = nullptr;
    stream::source* src = nullptr;
    std::uint64_t begin = 0;
    std::optional<std::uint64_t> end;
    std::optional<error> last_error;
    const AVFormatContext* fmt = nullptr;  // the demuxer reading this window (for quirks)
    // While set: the window's first bytes as the demuxer reads them in order from its start, up
    // to head_limit (for headers FFmpeg does not export: the MP4 edit list, detail/mp4_edits).
    std::vector<std::byte>* head = nullptr;
    std::size_t head_limit = 0;

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

// A read-only AVIOContext over `w` with a 64 KiB buffer (nullptr when out of memory). Free it
// with free_avio. `w` must outlive it.
AVIOContext* make_avio(io_window& w);
void free_avio(AVIOContext*& avio);

}  // namespace kithara::decode::detail
