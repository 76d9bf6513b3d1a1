// Steady-state allocation counts while decoding. This executable replaces operator new/delete and
// interposes malloc/calloc/realloc/posix_memalign/aligned_alloc (forwarding to glibc's __libc_*
// entry points), counting calls made on the test thread while counting is on, and attributes each
// malloc-family call to the shared object of its first caller outside libc (FFmpeg's libav*/libsw*
// or anything else). Built only without sanitizers (they own the allocator).
#include <kithara/decode/decoder.hpp>

#include <kithara/stream/concat_source.hpp>

#include "decode_support.hpp"

#include <filesystem>

#include <cstdlib>
#include <new>

#include <dlfcn.h>
#include <execinfo.h>
#include <cstring>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
thread_local bool counting = false;
thread_local std::size_t news = 0;
thread_local std::size_t mallocs = 0;
thread_local std::size_t ffmpeg_mallocs = 0;  // first non-libc caller is libav*/libsw*

// Called with counting off. Walks the stack past this file's hooks and libc.
void attribute() {
    void* bt[8];
    const int n = backtrace(bt, 8);
    Dl_info self{};
    dladdr(reinterpret_cast<void*>(&attribute), &self);
    for (int i = 1; i < n; ++i) {
        Dl_info info{};
        if (dladdr(bt[i], &info) == 0 || info.dli_fname == nullptr) continue;
        if (info.dli_fbase == self.dli_fbase) continue;  // the hooks themselves
        if (std::strstr(info.dli_fname, "libc.so") != nullptr) continue;
        if (std::strstr(info.dli_fname, "libav") != nullptr ||
            std::strstr(info.dli_fname, "libsw") != nullptr) {
            ++ffmpeg_mallocs;
        }
        return;
    }
}

void count_malloc() {
    if (!counting) return;
    ++mallocs;
    counting = false;
    attribute();
    counting = true;
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
    count_malloc();
    return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
    count_malloc();
    return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
    count_malloc();
    return __libc_realloc(p, n);
}
int posix_memalign(void** out, std::size_t align, std::size_t n) {
    count_malloc();
    void* p = __libc_memalign(align, n);
    if (p == nullptr) return ENOMEM;
    *out = p;
    return 0;
}
void* aligned_alloc(std::size_t align, std::size_t n) {
    count_malloc();
    return __libc_memalign(align, n);
}
void free(void* p) {
    __libc_free(p);
}
}

void* operator new(std::size_t n) {
    if (counting) ++news;
    if (void* p = __libc_malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return operator new(n);
}
void* operator new(std::size_t n, std::align_val_t a) {
    if (counting) ++news;
    if (void* p = __libc_memalign(static_cast<std::size_t>(a), n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) {
    return operator new(n, a);
}
void operator delete(void* p) noexcept {
    __libc_free(p);
}
void operator delete[](void* p) noexcept {
    __libc_free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    __libc_free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    __libc_free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
    __libc_free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
    __libc_free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
    __libc_free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
    __libc_free(p);
}

using namespace kithara;
using namespace kithara::decode;
using namespace kithara::decode::test;

namespace {

std::vector<std::byte> load_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    EXPECT_TRUE(f) << "missing fixture " << path;
    std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> b(c.size());
    std::memcpy(b.data(), c.data(), c.size());
    return b;
}

struct counts {
    std::size_t chunks = 0;
    std::size_t news = 0;
    std::size_t mallocs = 0;
    std::size_t ffmpeg_mallocs = 0;
    std::uint64_t packets = 0;
};

// Decodes 20 warm-up chunks, then counts allocations over the next `chunks` chunks.
counts steady_state(std::shared_ptr<stream::source> src, decoder_options o, std::size_t chunks) {
    auto dec = decoder::open(std::move(src), o).value();
    for (int i = 0; i < 20; ++i) (void)dec->next().value();
    const auto p0 = dec->stats().packets;
    counts c;
    news = mallocs = ffmpeg_mallocs = 0;
    counting = true;
    for (std::size_t i = 0; i < chunks; ++i) {
        auto r = dec->next();
        if (!r || !*r) break;
        ++c.chunks;
    }
    counting = false;
    c.news = news;
    c.mallocs = mallocs;
    c.ffmpeg_mallocs = ffmpeg_mallocs;
    c.packets = dec->stats().packets - p0;
    return c;
}

counts steady_state(const char* file, decoder_options o, std::size_t chunks) {
    return steady_state(source_of(file), std::move(o), chunks);
}

// An HLS-style sequence: the segments of one rendition behind a concat_source (fMP4: the init
// first), decoded in sequential mode with a start offset.
std::shared_ptr<stream::source> rendition(const std::string& dir, const std::string& prefix,
                                          const std::string& ext, const char* container,
                                          bool init) {
    stream::media_hints h;
    h.container = container;
    auto cat = stream::concat_source::create(h);
    const std::string base = std::string(KITHARA_SEGMENTS_DIR) + "/" + dir + "/";
    if (init) {
        EXPECT_TRUE(cat->append(stream::memory_source::create(load_file(base + "init.mp4"))));
    }
    for (int i = 0; std::filesystem::exists(base + prefix + std::to_string(i) + "." + ext); ++i) {
        EXPECT_TRUE(cat->append(stream::memory_source::create(
            load_file(base + prefix + std::to_string(i) + "." + ext))));
    }
    cat->finish();
    return cat;
}

class steady : public ::testing::TestWithParam<const char*> {};

}  // namespace

TEST_P(steady, kithara_allocates_nothing_per_chunk_only_ffmpeg_does) {
    auto o = options();
    o.chunk_frames = 1024;
    const auto c = steady_state(GetParam(), o, 40);
    ASSERT_GT(c.chunks, 10u);
    EXPECT_EQ(c.news, 0u) << GetParam();
    // What remains is FFmpeg's own per-packet bookkeeping: each demuxed packet's payload
    // (av_new_packet), AVBufferRef headers for pooled frame buffers and packet refs.
    EXPECT_EQ(c.mallocs, c.ffmpeg_mallocs) << GetParam();
    std::printf(
        "%s: %zu chunks, %llu packets, %zu operator new, %zu malloc calls (%zu by FFmpeg)\n",
        GetParam(), c.chunks, static_cast<unsigned long long>(c.packets), c.news, c.mallocs,
        c.ffmpeg_mallocs);
}

INSTANTIATE_TEST_SUITE_P(fixtures, steady,
                         ::testing::Values("chirp.wav", "chirp.flac", "chirp.mp3", "chirp.m4a",
                                           "chirp.ogg", "chirp.opus"),
                         [](const auto& i) {
                             std::string n = i.param;
                             for (auto& ch : n) {
                                 if (ch == '.') ch = '_';
                             }
                             return n;
                         });

TEST(steady, resampling_and_read_ahead_add_no_allocation_per_chunk) {
    auto o = options(48000, 2);
    o.chunk_frames = 1024;
    o.reader.prefetch_bytes = 64 * 1024;
    const auto c = steady_state("chirp.mp3", o, 40);
    ASSERT_GT(c.chunks, 10u);
    EXPECT_EQ(c.news, 0u);
    EXPECT_EQ(c.mallocs, c.ffmpeg_mallocs);
}

TEST(steady, sequential_segments_through_a_concat_source_allocate_nothing_per_chunk) {
    auto o = options();
    o.chunk_frames = 1024;
    o.sequential = true;
    o.start_offset = std::chrono::seconds(7);
    for (auto [dir, prefix, ext, container, init] :
         {std::tuple{"fmp4", "f", "m4s", "mov", true},
          std::tuple{"ts_aac", "s", "ts", "mpegts", false},
          std::tuple{"ts_mp3", "s", "ts", "mpegts", false}}) {
        // 4 s of segments: 20 warm-up chunks, then 100 counted across segment joins.
        const auto c = steady_state(rendition(dir, prefix, ext, container, init), o, 100);
        ASSERT_GT(c.chunks, 90u) << dir;
        EXPECT_EQ(c.news, 0u) << dir;
        EXPECT_EQ(c.mallocs, c.ffmpeg_mallocs) << dir;
        std::printf(
            "%s (sequential): %zu chunks, %llu packets, %zu operator new, %zu malloc calls "
            "(%zu by FFmpeg)\n",
            dir, c.chunks, static_cast<unsigned long long>(c.packets), c.news, c.mallocs,
            c.ffmpeg_mallocs);
    }
}
