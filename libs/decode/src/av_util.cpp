#include "detail/av_util.hpp"

#include <kithara/detail/log.hpp>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string_view>

namespace kithara::decode::detail {

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

}  // namespace

void route_ffmpeg_log() {
#ifdef KITHARA_FFMPEG_BUNDLED
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_callback(ffmpeg_log); });
#endif
}

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

}  // namespace kithara::decode::detail
