// kithara::hls playlist parsing: a 10,000-segment VOD media playlist and a 40-variant master,
// beside FFmpeg's hls demuxer loading the same text through the system libavformat.
//
// Counters: lines/s, and malloc-family calls and bytes per parse. Allocations are counted by
// interposing malloc/calloc/realloc/posix_memalign/aligned_alloc/memalign in this executable
// (operator new goes through malloc), so FFmpeg's av_malloc calls are counted the same way.
//
// FFmpeg: avformat_open_input(format "hls") on the playlist text served from memory through a
// custom AVIOContext; every further open (first segment, variant playlists) goes through an
// io_open callback that fails at once, so hls_read_header stops right after parsing. Its time
// therefore is the playlist parse plus the cheap failed opens (counted in io_opens), plus the
// demuxer context setup; that is as close to "parse only" as FFmpeg's public API allows.
#include <kithara/hls/parser.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#ifdef KITHARA_HLS_BENCH_FFMPEG
extern "C" {
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}
#endif

// ---- allocation counting (process-wide interposition, counted per thread) ------------------
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
thread_local std::uint64_t alloc_calls = 0;
thread_local std::uint64_t alloc_bytes = 0;
inline void count(std::size_t n) {
    ++alloc_calls;
    alloc_bytes += n;
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
    count(n);
    return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
    count(a * b);
    return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
    count(n);
    return __libc_realloc(p, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
    count(n);
    void* p = __libc_memalign(align, n);
    if (p == nullptr) return ENOMEM;
    *out = p;
    return 0;
}
void* aligned_alloc(std::size_t align, std::size_t n) {
    count(n);
    return __libc_memalign(align, n);
}
void* memalign(std::size_t align, std::size_t n) {
    count(n);
    return __libc_memalign(align, n);
}
void free(void* p) {
    __libc_free(p);
}
}

namespace {

// A 10,000-segment VOD playlist as packagers write it: 6.006 s AAC segments, a key rotation
// every 1,000 segments, one program date time, titles empty.
std::string make_media(int segments) {
    std::string s =
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:7\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-PROGRAM-DATE-TIME:2026-12-04T10:00:00.000Z\n";
    char line[128];
    for (int i = 0; i < segments; ++i) {
        if (i % 1000 == 0) {
            std::snprintf(line, sizeof line,
                          "#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k/%d\"\n",
                          i / 1000);
            s += line;
        }
        std::snprintf(line, sizeof line, "#EXTINF:6.006,\naudio/128k/segment-%05d.ts\n", i);
        s += line;
    }
    s += "#EXT-X-ENDLIST\n";
    return s;
}

// A 40-variant master: 4 audio renditions, 40 STREAM-INF with the usual attributes.
std::string make_master(int variants) {
    std::string s = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n";
    const char* langs[] = {"en", "de", "fr", "es"};
    char line[512];
    for (int i = 0; i < 4; ++i) {
        std::snprintf(line, sizeof line,
                      "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"Audio %s\",LANGUAGE=\"%s\","
                      "DEFAULT=%s,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio/%s/index.m3u8\"\n",
                      langs[i], langs[i], i == 0 ? "YES" : "NO", langs[i]);
        s += line;
    }
    for (int i = 0; i < variants; ++i) {
        const int bw = 64000 + i * 150000;
        std::snprintf(line, sizeof line,
                      "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,"
                      "CODECS=\"avc1.640028,mp4a.40.2\",RESOLUTION=%dx%d,FRAME-RATE=29.970,"
                      "AUDIO=\"aac\",CLOSED-CAPTIONS=NONE\nvideo/%d/index.m3u8\n",
                      bw, bw * 9 / 10, 320 + i * 40, 180 + i * 22, bw);
        s += line;
    }
    return s;
}

std::size_t count_lines(const std::string& s) {
    std::size_t n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

const std::string& media_text() {
    static const std::string t = make_media(10'000);
    return t;
}
const std::string& master_text() {
    static const std::string t = make_master(40);
    return t;
}

void run_kithara(benchmark::State& state, const std::string& text) {
    const std::size_t lines = count_lines(text);
    std::uint64_t calls = 0;
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        const std::uint64_t c0 = alloc_calls;
        const std::uint64_t b0 = alloc_bytes;
        auto p = kithara::hls::parse_playlist(text, "https://cdn.example/vod/index.m3u8");
        if (!p) {
            state.SkipWithError(p.error().message().c_str());
            return;
        }
        benchmark::DoNotOptimize(p);
        calls += alloc_calls - c0;  // the result's destruction frees, allocates nothing
        bytes += alloc_bytes - b0;
    }
    const auto n = static_cast<double>(state.iterations());
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines),
                                                   benchmark::Counter::kIsIterationInvariantRate);
    state.counters["allocs"] = static_cast<double>(calls) / n;
    state.counters["alloc_bytes"] = static_cast<double>(bytes) / n;
    state.counters["lines"] = static_cast<double>(lines);
}

void kithara_media_10k(benchmark::State& state) {
    run_kithara(state, media_text());
}
void kithara_master_40(benchmark::State& state) {
    run_kithara(state, master_text());
}
BENCHMARK(kithara_media_10k)->Unit(benchmark::kMicrosecond);
BENCHMARK(kithara_master_40)->Unit(benchmark::kMicrosecond);

#ifdef KITHARA_HLS_BENCH_FFMPEG
struct memory_input {
    const std::string* text;
    std::size_t pos = 0;
    int io_opens = 0;
};

int read_packet(void* opaque, std::uint8_t* buf, int size) {
    auto* in = static_cast<memory_input*>(opaque);
    const std::size_t left = in->text->size() - in->pos;
    if (left == 0) return AVERROR_EOF;
    const std::size_t n = std::min(left, static_cast<std::size_t>(size));
    std::memcpy(buf, in->text->data() + in->pos, n);
    in->pos += n;
    return static_cast<int>(n);
}

int fail_open(AVFormatContext* s, AVIOContext**, const char*, int, AVDictionary**) {
    ++static_cast<memory_input*>(s->opaque)->io_opens;
    return AVERROR(ENOENT);
}

void quiet_log(void*, int, const char*, va_list) {}

void run_ffmpeg(benchmark::State& state, const std::string& text) {
    av_log_set_callback(quiet_log);
    const AVInputFormat* hls = av_find_input_format("hls");
    if (hls == nullptr) {
        state.SkipWithError("libavformat has no hls demuxer");
        return;
    }
    const std::size_t lines = count_lines(text);
    std::uint64_t calls = 0;
    std::uint64_t bytes = 0;
    int io_opens = 0;
    for (auto _ : state) {
        const std::uint64_t c0 = alloc_calls;
        const std::uint64_t b0 = alloc_bytes;
        memory_input in{&text};
        auto* buffer = static_cast<std::uint8_t*>(av_malloc(32768));
        AVIOContext* pb = avio_alloc_context(buffer, 32768, 0, &in, read_packet, nullptr, nullptr);
        AVFormatContext* ctx = avformat_alloc_context();
        ctx->pb = pb;
        ctx->flags |= AVFMT_FLAG_CUSTOM_IO;
        ctx->opaque = &in;
        ctx->io_open = fail_open;
        const int r = avformat_open_input(&ctx, "file:///nonexistent/vod/index.m3u8", hls, nullptr);
        if (r >= 0) avformat_close_input(&ctx);  // on failure ctx was freed by FFmpeg
        av_freep(&pb->buffer);
        avio_context_free(&pb);
        calls += alloc_calls - c0;
        bytes += alloc_bytes - b0;
        io_opens = in.io_opens;
    }
    const auto n = static_cast<double>(state.iterations());
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines),
                                                   benchmark::Counter::kIsIterationInvariantRate);
    state.counters["allocs"] = static_cast<double>(calls) / n;
    state.counters["alloc_bytes"] = static_cast<double>(bytes) / n;
    state.counters["io_opens"] = io_opens;
}

void ffmpeg_media_10k(benchmark::State& state) {
    run_ffmpeg(state, media_text());
}
void ffmpeg_master_40(benchmark::State& state) {
    run_ffmpeg(state, master_text());
}
BENCHMARK(ffmpeg_media_10k)->Unit(benchmark::kMicrosecond);
BENCHMARK(ffmpeg_master_40)->Unit(benchmark::kMicrosecond);
#endif

}  // namespace

BENCHMARK_MAIN();
