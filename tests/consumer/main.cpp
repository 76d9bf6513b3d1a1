// The program both consumer tests build: uses the public API of the linked components, one part
// per component (KITHARA_CONSUMER_<LAYER>), so it links with core alone or bufpool alone.
#ifdef KITHARA_CONSUMER_CORE
#include <kithara/core/condition.hpp>
#include <kithara/core/log.hpp>
#include <kithara/core/result.hpp>
#include <kithara/core/url.hpp>
#endif

#ifdef KITHARA_CONSUMER_BUFPOOL
#include <kithara/bufpool/pool.hpp>
#endif
#ifdef KITHARA_CONSUMER_FILE
#include <kithara/core/error.hpp>
#include <kithara/file/error.hpp>
#endif

#ifdef KITHARA_CONSUMER_DECODE
#include <kithara/decode/decoder.hpp>
#include <kithara/stream/memory_source.hpp>

#include <cmath>
#include <vector>
#endif

#ifdef KITHARA_CONSUMER_KITHARA
#include <kithara/kithara/context.hpp>

#include <unistd.h>
#include <filesystem>
#include <string>
#endif

#include <cstdio>
#include <cstring>
#include <system_error>

namespace {
#ifdef KITHARA_CONSUMER_CORE
kithara::result<int> twice(int v) {
    if (v < 0) return kithara::fail(std::errc::invalid_argument, "negative input");
    return 2 * v;
}
#endif
#ifdef KITHARA_CONSUMER_DECODE
// A 0.1 s, 8 kHz mono 16-bit WAV of a 1 kHz tone, built in memory and decoded.
bool decode_wav() {
    constexpr std::uint32_t rate = 8000;
    constexpr std::uint32_t frames = 800;
    std::vector<std::byte> wav;
    const auto put = [&](std::uint32_t v, int n) {
        for (int i = 0; i < n; ++i) wav.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
    };
    const auto tag = [&](const char* t) {
        for (int i = 0; i < 4; ++i) wav.push_back(static_cast<std::byte>(t[i]));
    };
    tag("RIFF");
    put(36 + frames * 2, 4);
    tag("WAVE");
    tag("fmt ");
    put(16, 4);
    put(1, 2);
    put(1, 2);
    put(rate, 4);
    put(rate * 2, 4);
    put(2, 2);
    put(16, 2);
    tag("data");
    put(frames * 2, 4);
    for (std::uint32_t i = 0; i < frames; ++i) {
        const double s = std::sin(2 * 3.141592653589793 * 1000.0 * i / rate) * 16000.0;
        put(static_cast<std::uint32_t>(static_cast<std::int16_t>(s)) & 0xffff, 2);
    }
    auto dec = kithara::decode::decoder::open(kithara::stream::memory_source::create(wav));
    if (!dec) return false;
    std::size_t got = 0;
    for (;;) {
        auto c = (*dec)->next();
        if (!c) return false;
        if (!*c) break;
        got += (*c)->samples.size();
    }
    return got == frames;
}
#endif

}  // namespace

int main() {
#ifdef KITHARA_CONSUMER_CORE
    kithara::set_log_level(kithara::log_level::off);
    const auto r = twice(21);
    const auto bad = twice(-1);
    if (!r || *r != 42 || bad || bad.error() != kithara::condition::invalid_argument) return 1;
    if (kithara::resolve_url("https://h/a/b.m3u8", "../c.ts") != "https://h/c.ts") return 1;
    std::printf("consumer used core: %s\n", bad.error().message().c_str());
#endif
#ifdef KITHARA_CONSUMER_BUFPOOL
    auto buf = kithara::bufpool::default_byte_pool().get(1000);
    std::memset(buf.data(), 1, buf.size());
    if (buf.capacity() != 1024) return 1;
    std::puts("consumer pooled 1024 bytes");
#endif
#ifdef KITHARA_CONSUMER_FILE
    const kithara::error miss{kithara::file::errc::offline_miss, "consumer"};
    if (miss != kithara::condition::unavailable) return 1;
    std::puts("consumer mapped a file error");
#endif
#ifdef KITHARA_CONSUMER_KITHARA
    {
        // A context on a temporary cache, offline: an uncached URL is unavailable, no network.
        const auto dir = std::filesystem::temp_directory_path() /
                         ("kithara-consumer-" + std::to_string(::getpid()));
        kithara::context_options o;
        o.cache_dir = dir;
        o.offline = true;
        auto ctx = kithara::context::create(o);
        if (!ctx) return 1;
        auto s = ctx->open("https://example.invalid/never.mp3");
        if (s || s.error() != kithara::condition::unavailable) return 1;
        std::printf("consumer opened a context: %s\n", s.error().message().c_str());
    }
    std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                ("kithara-consumer-" + std::to_string(::getpid())));
#endif
#ifdef KITHARA_CONSUMER_DECODE
    if (!decode_wav()) return 1;
    std::puts("consumer decoded 800 frames");
#endif
    std::puts("consumer ok");
    return 0;
}
