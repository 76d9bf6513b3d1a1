// kithara::decode::errc and the "decode" error category.
//
//   auto chunk = dec->next();
//   if (!chunk && chunk.error() == kithara::decode::errc::truncated) show(chunk.error().message());
//   // "decode: input truncated (ends at byte 16384, 0.37 s, before its duration 2.00 s)"
//
// Plain values; any thread; no locks, no buffers. Codes map onto kithara::condition (cancelled,
// invalid_argument, ...). FFmpeg failures carry FFmpeg's message (av_strerror) and the byte
// position / time in the context; errors from the source (storage, net, stream) pass through
// unchanged.
#pragma once

#include <kithara/decode/export.hpp>

#include <system_error>
#include <type_traits>

namespace kithara::decode {

enum class errc {
    ok_ = 0,            // unused
    no_audio_stream,    // the input holds no decodable audio stream
    unsupported_codec,  // FFmpeg has no decoder for the stream's codec
    open_failed,        // the container could not be opened/probed
    decode_failed,      // too many consecutive undecodable packets
    truncated,          // the input ends before its declared duration
    resample_failed,    // libswresample / libsamplerate failed
    invalid_argument,   // bad options (e.g. > 32 channels) or a negative seek
    cancelled,          // the session or decoder was stopped
    timed_out,          // unused: a session's pull passes worker::errc::timed_out through
    closed,             // unused: a session's pull passes worker::errc::closed through
};

[[nodiscard]] KITHARA_DECODE_EXPORT const std::error_category& category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), category()};
}

}  // namespace kithara::decode

template <>
struct std::is_error_code_enum<kithara::decode::errc> : std::true_type {};
