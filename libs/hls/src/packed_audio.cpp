// Packed audio: a segment's leading ID3v2 tag skipped, its transportStreamTimestamp read.
#include "detail/packed_audio.hpp"

#include <kithara/stream/error.hpp>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace kithara::hls::detail {

namespace {
constexpr std::size_t resync_window = 16;  // bytes searched for a sync word after the tag
constexpr std::string_view timestamp_owner = "com.apple.streaming.transportStreamTimestamp";
// The owner, its terminating NUL and the 8-byte timestamp.
constexpr std::size_t timestamp_priv_bytes = timestamp_owner.size() + 1 + 8;
constexpr std::size_t scan_window = 4096;  // bytes of the tag searched at a time (on the stack)

std::uint64_t syncsafe(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 7) | (std::to_integer<std::uint64_t>(p[i]) & 0x7f);
    return v;
}
}  // namespace

std::optional<std::uint64_t> transport_stream_timestamp(std::span<const std::byte> tag) {
    constexpr std::string_view owner = timestamp_owner;
    const std::string_view text(reinterpret_cast<const char*>(tag.data()), tag.size());
    const auto at = text.find(owner);
    if (at == std::string_view::npos || at + owner.size() + 1 + 8 > text.size())
        return std::nullopt;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i)
        v = (v << 8) | std::to_integer<std::uint64_t>(tag[at + owner.size() + 1 + i]);
    return v & ((std::uint64_t{1} << 33) - 1);
}

id3_skip_source::id3_skip_source(std::shared_ptr<stream::source> inner)
    : inner_(std::move(inner)) {}

std::optional<std::uint64_t> id3_skip_source::timestamp_90k() const {
    std::lock_guard lock(mutex_);
    return timestamp_;
}

std::optional<std::uint64_t> id3_skip_source::length() const {
    std::uint64_t skip = 0;
    {
        std::lock_guard lock(mutex_);
        if (!skip_) return std::nullopt;
        skip = *skip_;
    }
    auto len = inner_->length();
    if (!len) return std::nullopt;
    return *len > skip ? *len - skip : 0;
}

result<std::optional<std::uint64_t>> id3_skip_source::scan_timestamp(std::uint64_t tag_bytes) {
    // The tag is read in fixed-size windows that overlap by one PRIV frame's owner and payload
    // less a byte, so a frame across two windows is found in the second: nothing is allocated.
    constexpr std::size_t overlap = timestamp_priv_bytes - 1;
    std::byte buf[scan_window];
    std::size_t kept = 0;
    std::uint64_t pos = 0;
    while (pos < tag_bytes) {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(scan_window - kept, tag_bytes - pos));
        auto m = inner_->read_at(pos, std::span(buf + kept, want));
        if (!m) return kithara::fail(m.error());
        if (*m == 0) break;
        pos += *m;
        const std::size_t n = kept + *m;
        if (auto ts = transport_stream_timestamp(std::span<const std::byte>(buf, n))) return ts;
        kept = std::min(n, overlap);
        std::memmove(buf, buf + n - kept, kept);
    }
    return std::optional<std::uint64_t>{};
}

result<stream::wait_status> id3_skip_source::resolve(std::optional<stream::deadline> until,
                                                     std::stop_token stop) {
    auto w = inner_->wait_range({0, 10}, until, stop);
    if (!w) return w;
    if (*w == stream::wait_status::cancelled || *w == stream::wait_status::timed_out) return *w;
    std::byte head[10]{};
    std::size_t got = 0;
    while (*w == stream::wait_status::ready && got < sizeof head) {
        auto n = inner_->read_at(got, std::span(head + got, sizeof head - got));
        if (!n) return kithara::fail(n.error());
        if (*n == 0) break;
        got += *n;
    }
    std::uint64_t skip = 0;
    std::optional<std::uint64_t> ts;
    if (got == sizeof head && std::memcmp(head, "ID3", 3) == 0) {
        skip = 10 + syncsafe(head + 6) + ((std::to_integer<unsigned>(head[5]) & 0x10) ? 10 : 0);
        // Packagers write tags whose declared size is a few bytes short (a frame size that
        // leaves out the text encoding byte): find the first sync word just after the tag.
        auto a = inner_->wait_range({skip, skip + resync_window + 2}, until, stop);
        if (!a) return a;
        if (*a == stream::wait_status::cancelled || *a == stream::wait_status::timed_out) return *a;
        std::byte after[resync_window + 2]{};
        std::size_t n = 0;
        while (*a == stream::wait_status::ready && n < sizeof after) {
            auto r = inner_->read_at(skip + n, std::span(after + n, sizeof after - n));
            if (!r) return kithara::fail(r.error());
            if (*r == 0) break;
            n += *r;
        }
        for (std::size_t d = 0; d + 1 < n; ++d) {
            const auto b0 = std::to_integer<unsigned>(after[d]);
            const auto b1 = std::to_integer<unsigned>(after[d + 1]);
            if ((b0 == 0xFF && (b1 & 0xE0) == 0xE0) || (b0 == 0x0B && b1 == 0x77)) {
                skip += d;
                break;
            }
        }
        const auto tag_bytes = std::min(skip, max_tag_bytes);
        auto t = inner_->wait_range({0, tag_bytes}, until, stop);
        if (!t) return t;
        if (*t == stream::wait_status::cancelled || *t == stream::wait_status::timed_out) return *t;
        auto found = scan_timestamp(tag_bytes);
        if (!found) return kithara::fail(found.error());
        ts = *found;
    }
    std::lock_guard lock(mutex_);
    skip_ = skip;
    timestamp_ = ts;
    return stream::wait_status::ready;
}

result<stream::wait_status> id3_skip_source::wait_range(stream::byte_range r,
                                                        std::optional<stream::deadline> until,
                                                        std::stop_token stop) {
    std::optional<std::uint64_t> skip;
    {
        std::lock_guard lock(mutex_);
        skip = skip_;
    }
    if (!skip) {
        auto w = resolve(until, stop);
        if (!w || *w != stream::wait_status::ready) return w;
        std::lock_guard lock(mutex_);
        skip = skip_;
    }
    return inner_->wait_range({r.begin + *skip, r.end + *skip}, until, std::move(stop));
}

result<std::size_t> id3_skip_source::read_at(std::uint64_t offset, std::span<std::byte> out) {
    std::optional<std::uint64_t> skip;
    {
        std::lock_guard lock(mutex_);
        skip = skip_;
    }
    // The head is not read yet: flow control, not a failure (no context string: no allocation).
    if (!skip) return kithara::fail(stream::errc::not_available);
    return inner_->read_at(offset + *skip, out);
}

}  // namespace kithara::hls::detail
