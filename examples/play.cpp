// play: any URL (a progressive MP3/AAC/FLAC/Opus/WAV file or an HLS playlist, VOD or live) to
// raw PCM, interleaved float32 little-endian, on stdout or into a file. The whole of Kithara's
// set-up is one kithara::context; open() tells a file from a playlist by itself.
//
//   play https://example.com/podcast.mp3 | aplay -f FLOAT_LE -c 2 -r 44100
//   play https://example.com/master.m3u8 out.f32     # the format is printed on stderr
//
// The cache is $XDG_CACHE_HOME/kithara (else ~/.cache/kithara), 500 MB: a second run of the
// same URL plays from it. Exit status: 0 at the end of the media, 1 on an error, 2 on usage.
#include <kithara/kithara/context.hpp>

#include <chrono>
#include <cstdio>
#include <memory>

namespace {

int fail(const char* what, const kithara::error& e) {
    std::fprintf(stderr, "play: %s: %s\n", what, e.message().c_str());
    return 1;
}

const char* kind_name(kithara::stream_kind k) {
    return k == kithara::stream_kind::hls ? "hls" : "file";
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: play URL [OUT.f32]   (float32 PCM; stdout without OUT)\n");
        return 2;
    }
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, &std::fclose);
    if (argc == 3) {
        file.reset(std::fopen(argv[2], "wb"));
        if (!file) {
            std::perror(argv[2]);
            return 1;
        }
    }
    std::FILE* out = file ? file.get() : stdout;

    // --- the whole player ---
    auto ctx = kithara::context::create();
    if (!ctx) return fail("cache", ctx.error());
    auto s = ctx->open(argv[1]);
    if (!s) return fail("open", s.error());
    const auto info = (*s)->info();
    std::fprintf(stderr, "play: %s, %s %s, %u Hz, %u channels, %.1f s\n", kind_name(info.kind),
                 info.container.c_str(), info.codec.c_str(), info.sample_rate, info.channels,
                 std::chrono::duration<double>(info.duration).count());
    for (;;) {
        auto c = (*s)->next();
        if (!c) return fail("play", c.error());
        if (!*c) break;  // the end of the media
        const auto& pcm = (*c)->samples;
        if (std::fwrite(pcm.data(), sizeof(float), pcm.size(), out) != pcm.size()) {
            std::perror("play: write");
            return 1;
        }
    }
    const auto st = (*s)->stats();
    std::fprintf(stderr, "play: %llu frames, %llu bytes from the network, %llu from the cache\n",
                 static_cast<unsigned long long>(st.pcm_frames),
                 static_cast<unsigned long long>(st.bytes_from_network),
                 static_cast<unsigned long long>(st.bytes_from_cache));
    return std::fflush(out) == 0 ? 0 : 1;
}
