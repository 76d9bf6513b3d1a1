// kithara::hls memory: the prefetch window's byte bound holds while the reader
// pauses under a fast (unpaced loopback) server, and decoding allocates nothing
// per chunk in Kithara's code in the steady state.
//
// Allocation counting (as libs/decode/tests/alloc_test.cpp does it): this
// executable replaces operator new/delete and interposes
// malloc/calloc/realloc/posix_memalign/aligned_alloc (forwarding to glibc's
// __libc_* entry points), counting calls made on the test thread while counting
// is on, and attributes each malloc-family call to the shared object of its
// first caller outside libc (FFmpeg's libav*/libsw*, or anything else:
// Kithara). Without sanitizers only (they own the allocator):
// KITHARA_ALLOC_HOOKS is defined then. With the bundled FFmpeg (static, inside
// libkithara_decode) malloc calls cannot be attributed: operator new counts
// alone there.
#include "hls_support.hpp"

#include <test_server.hpp>

#include <asio/post.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <limits>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <vector>

#ifdef KITHARA_ALLOC_HOOKS
#include <dlfcn.h>
#include <execinfo.h>

#include <cstdlib>

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
thread_local void* trace[3][12];
thread_local int trace_n[3];

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
    if (counting) {
        ++news;
        if (news < 4) {
            counting = false;
            trace_n[news - 1] = backtrace(trace[news - 1], 12);
            counting = true;
        }
    }
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
#endif  // KITHARA_ALLOC_HOOKS

namespace kithara::hls_test {
namespace {

struct window_case {
    const char* dir;
    const char* playlist;        // opened (a master plays its lowest-bandwidth variant)
    const char* segment_prefix;  // "<prefix>_NNN.<ext>" names segment NNN of the
                                 // variant played
};

// The segment index of a request path ("/demo/aac48k_44_007.m4s" -> 7), -1 for
// other files.
int segment_index(const std::string& path, const std::string& prefix) {
    const auto name = path.substr(path.rfind('/') + 1);
    if (name.rfind(prefix + "_", 0) != 0) return -1;
    const auto digits = name.substr(prefix.size() + 1, 3);
    if (digits.size() != 3 || digits.find_first_not_of("0123456789") != std::string::npos)
        return -1;
    return std::stoi(digits);
}

// Segment requests and completions seen through events (they arrive on the io
// thread).
struct fetch_log {
    std::mutex m;
    std::condition_variable cv;
    std::set<std::string> requested;
    std::set<std::string> complete;
    void on_event(const hls::event& ev) {
        if (ev.kind != hls::event_kind::segment_requested &&
            ev.kind != hls::event_kind::segment_complete)
            return;
        std::lock_guard lock(m);
        (ev.kind == hls::event_kind::segment_requested ? requested : complete).insert(ev.uri);
        cv.notify_all();
    }
};

// Waits until every request the engine started has completed and the io thread
// has run everything those completions triggered (a barrier posted behind them:
// a completion refills the window on the io thread before that handler returns,
// emitting segment_requested for any new request). Returns false after 30 s.
bool wait_until_quiet(fetch_log& f, client_env& e) {
    for (;;) {
        {
            std::unique_lock lock(f.m);
            if (!f.cv.wait_for(lock, std::chrono::seconds(30), [&] {
                    return !f.requested.empty() && f.requested.size() == f.complete.size();
                }))
                return false;
        }
        std::promise<void> ran;
        asio::post(e.io.executor(), [&] { ran.set_value(); });
        ran.get_future().wait();
        std::lock_guard lock(f.m);
        if (f.requested.size() == f.complete.size()) return true;
    }
}

class hls_prefetch_bound : public ::testing::TestWithParam<window_case> {};

// The window may hold segments while the bytes counted before a segment are
// under prefetch_bytes: the bytes requested past the segment being read never
// exceed prefetch_bytes plus the one segment that crossed the bound
// (docs/HLS.md "Prefetch"). Reading pauses after the first chunk; the server is
// unpaced, so the window fills at once. The seconds bound is out of the way.
TEST_P(hls_prefetch_bound, bytes_ahead_never_exceed_prefetch_bytes_plus_one_segment) {
    const auto& c = GetParam();
    client_env e(std::string("window_") + c.segment_prefix);
    test::http_server srv(fixtures);
    // Segment sizes of the variant played (all segments are files of their own
    // here).
    std::vector<std::uint64_t> sizes;
    for (int i = 0;; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "%s_%03d", c.segment_prefix, i);
        bool found = false;
        for (const char* ext : {".m4s", ".ts"}) {
            const auto p = fixtures / c.dir / (std::string(name) + ext);
            if (fs::exists(p)) {
                sizes.push_back(fs::file_size(p));
                found = true;
            }
        }
        if (!found) break;
    }
    ASSERT_GE(sizes.size(), 20u);
    const auto max_segment = *std::max_element(sizes.begin(), sizes.end());
    fetch_log f;
    hls::stream_options o;
    o.abr.mode = hls::abr_mode::fixed;  // one variant's window (its segment sizes above)
    o.prefetch_seconds = 1e6;
    o.prefetch_bytes = 6 * max_segment;  // well below the stream's size
    o.on_event = [&](const hls::event& ev) { f.on_event(ev); };
    auto s =
        hls::open(srv.url(std::string("/") + c.dir + "/" + c.playlist), *e.store, *e.client, o);
    ASSERT_TRUE(s) << s.error().message();
    auto first = (*s)->next();  // then the reader pauses
    ASSERT_TRUE(first && *first);
    ASSERT_TRUE(wait_until_quiet(f, e)) << "the window did not settle";
    ASSERT_TRUE(srv.wait_log(
        [](const std::vector<test::log_entry>& log) {
            for (const auto& l : log)
                if (!l.complete) return false;
            return true;
        },
        std::chrono::seconds(10)));
    // Bytes the server sent per segment (a segment may take more than one
    // request).
    std::vector<std::uint64_t> sent(sizes.size(), 0);
    for (const auto& l : srv.log()) {
        const int i = segment_index(l.path, c.segment_prefix);
        if (i >= 0) sent[static_cast<std::size_t>(i)] += l.bytes_sent;
    }
    std::uint64_t total = 0;
    std::uint64_t after_first = 0;
    std::size_t last = 0;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        total += sent[i];
        if (i > 0) after_first += sent[i];
        if (sent[i] > 0) last = i;
    }
    // The first chunk needs segment 0 and at most the start of segment 1; either
    // may be the one read, so everything past segment 0 is "ahead".
    EXPECT_LE(after_first, o.prefetch_bytes + max_segment)
        << "segments 1.." << last << " (" << after_first << " bytes) requested while paused, "
        << "prefetch_bytes " << o.prefetch_bytes << ", largest segment " << max_segment;
    // Not vacuous: the window did fill up to the bound, and not to the end of the
    // stream.
    EXPECT_GE(total, o.prefetch_bytes);
    EXPECT_LT(last + 1, sizes.size());
    std::printf(
        "%s/%s: prefetch_bytes %llu, segments 0..%zu fetched, %llu bytes "
        "ahead of "
        "segment 0 (bound %llu)\n",
        c.dir, c.playlist, static_cast<unsigned long long>(o.prefetch_bytes), last,
        static_cast<unsigned long long>(after_first),
        static_cast<unsigned long long>(o.prefetch_bytes + max_segment));
}

INSTANTIATE_TEST_SUITE_P(fixtures, hls_prefetch_bound,
                         ::testing::Values(window_case{"demo", "aac128k_48.m3u8", "aac128k_48"},
                                           window_case{"demo", "aac64k_44_ts.m3u8", "aac64k_44_ts"},
                                           window_case{"demo", "master.m3u8", "aac48k_44"}),
                         [](const auto& i) { return case_name(i.param.dir, i.param.playlist); });

#ifdef KITHARA_ALLOC_HOOKS

struct alloc_case {
    const char* dir;
    const char* playlist;
    // Allocations allowed per segment (not per chunk): an AES-128 segment creates its decryptor
    // (an OpenSSL context) and its clear-byte buffer when its first byte is read, which falls in
    // an ordinary chunk (docs/HLS.md, "Not done yet": one decryptor per run and no clear buffer).
    std::size_t per_segment = 0;
};

// next() over a whole stream: a chunk during which the stream's window moved
// (the engine emitted an event on this thread: a segment requested, or found
// complete in the cache) may allocate (the request, the event's strings); the
// other chunks allocate nothing in Kithara's code (only FFmpeg's per-packet
// bookkeeping remains) but for a few allocations per segment (the segment joining
// its run; AES-128's decryptor). KITHARA_ALLOC_TRACE=1 prints the stacks of the first
// allocations of each such chunk that did allocate.
void steady_state(const alloc_case& c, bool replay) {
    client_env e(std::string("alloc_") + case_name(c.dir, c.playlist));
    test::http_server srv(fixtures);
    static thread_local bool window_moved = false;
    hls::stream_options o;
    o.decode.chunk_frames = 1024;
    o.on_event = [](const hls::event&) { window_moved = true; };  // allocates nothing itself
    const auto url = srv.url(std::string("/") + c.dir + "/" + c.playlist);
    if (replay) {  // the whole stream in the cache first: no read ever waits for
                   // the network
        auto first = hls::open(url, *e.store, *e.client, o);
        ASSERT_TRUE(first) << first.error().message();
        ASSERT_FALSE(drain(**first).failure);
    }
    auto s = hls::open(url, *e.store, *e.client, o);
    ASSERT_TRUE(s) << s.error().message();
    for (int i = 0; i < 20; ++i) {  // warm-up: the decoder open, the pool's buffers
        auto r = (*s)->next();
        ASSERT_TRUE(r && *r);
    }
    std::size_t steady = 0, moved = 0, steady_news = 0, steady_ours = 0, moved_news = 0,
                moved_mallocs = 0, ffmpeg = 0;
    for (;;) {
        window_moved = false;
        news = mallocs = ffmpeg_mallocs = 0;
        counting = true;
        bool more = false;
        {
            auto r = (*s)->next();
            more = r && *r;
        }
        counting = false;
        if (!more) break;
        ffmpeg += ffmpeg_mallocs;
        if (window_moved) {
            ++moved;
            moved_news += news;
            moved_mallocs += mallocs - ffmpeg_mallocs;
        } else {
            if (news > 0 && std::getenv("KITHARA_ALLOC_TRACE")) {
                for (std::size_t i = 0; i < std::min<std::size_t>(news, 3); ++i) {
                    backtrace_symbols_fd(trace[i], trace_n[i], 2);
                    std::fprintf(stderr, "----\n");
                }
            }
            ++steady;
            steady_news += news;
            steady_ours += mallocs - ffmpeg_mallocs;
        }
    }
    ASSERT_GT(steady, 10 * moved) << "too few chunks without a window move to judge";
    // A VOD run holds two segments at a time: each next one joins it when the decoder gets there
    // (its source, its cache handle, the run's part: a few allocations per segment, in exchange
    // for not holding one open cache file per segment played). Measured 2-5 per segment with
    // the system FFmpeg, up to 7.3 with the bundled one while downloading (which chunks see the
    // window move depends on timing); a per-chunk allocation would still add ~170 per segment.
    constexpr std::size_t per_segment_joining = 12;
    const std::size_t allowed =
        (c.per_segment + per_segment_joining) * segment_starts(c.dir, c.playlist).size();
    EXPECT_LE(steady_news, allowed) << "operator new in " << steady << " steady chunks";
#ifdef KITHARA_FFMPEG_SHARED
    // FFmpeg in shared objects of its own: every other malloc-family call is
    // Kithara's. (The bundled FFmpeg lives inside libkithara_decode: there only
    // operator new, which FFmpeg never calls, tells Kithara's allocations apart.)
    EXPECT_LE(steady_ours, allowed)
        << "malloc calls outside FFmpeg in " << steady << " steady chunks";
#endif
    std::printf(
        "%s/%s (%s): %zu steady chunks (%zu operator new, %zu other "
        "mallocs), %zu chunks "
        "that moved the window (%zu operator new, %zu other mallocs), "
        "%zu FFmpeg mallocs\n",
        c.dir, c.playlist, replay ? "from the cache" : "downloading", steady, steady_news,
        steady_ours, moved, moved_news, moved_mallocs, ffmpeg);
}

class hls_steady_from_cache : public ::testing::TestWithParam<alloc_case> {};

// Played from the cache: the decode path alone, every byte there.
TEST_P(hls_steady_from_cache, kithara_allocates_nothing_per_chunk) {
    steady_state(GetParam(), true);
}

INSTANTIATE_TEST_SUITE_P(fixtures, hls_steady_from_cache,
                         ::testing::Values(alloc_case{"demo", "aac128k_48.m3u8"},
                                           alloc_case{"demo", "aac64k_44_ts.m3u8"},
                                           alloc_case{"flac_fmp4", "index.m3u8"},
                                           alloc_case{"aes_ts", "iv_explicit.m3u8", 4},
                                           alloc_case{"packed_adts", "index.m3u8"}),
                         [](const auto& i) { return case_name(i.param.dir, i.param.playlist); });

class hls_steady_downloading : public ::testing::TestWithParam<alloc_case> {};

// Played while downloading from the unpaced loopback server: reads may reach
// the download edge.
TEST_P(hls_steady_downloading, kithara_allocates_nothing_per_chunk) {
    steady_state(GetParam(), false);
}

INSTANTIATE_TEST_SUITE_P(fixtures, hls_steady_downloading,
                         ::testing::Values(alloc_case{"demo", "aac128k_48.m3u8"},
                                           alloc_case{"demo", "aac64k_44_ts.m3u8"},
                                           alloc_case{"flac_fmp4", "index.m3u8"},
                                           alloc_case{"aes_ts", "iv_explicit.m3u8", 4},
                                           alloc_case{"packed_adts", "index.m3u8"}),
                         [](const auto& i) { return case_name(i.param.dir, i.param.playlist); });

#endif  // KITHARA_ALLOC_HOOKS

// The process's open descriptors on files under `dir` (the cache: sockets and other files the
// process holds do not count).
std::size_t open_cache_files(const fs::path& dir) {
    const auto root = fs::weakly_canonical(dir).string() + "/";
    std::size_t n = 0;
    for (const auto& d : fs::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        const auto target = fs::read_symlink(d.path(), ec);
        if (!ec && target.string().rfind(root, 0) == 0) ++n;
    }
    return n;
}

// Plays `s` to its end, counting the cache descriptors it holds at every chunk, and expects the
// fewest it held between 80 s and 95 s of media to be at most `slack` more than the most it held
// between 5 s and 20 s. Each open cache file is three descriptors (data, range log, its
// directory). What is open ahead (the prefetch window) comes and goes with load from chunk to
// chunk; comparing the late minimum with the early maximum leaves that out, while holding every
// segment played in between (about 35 of 2 s) would still add about 100.
void play_counting_descriptors(hls::hls_stream& s, const fs::path& cache, std::size_t slack) {
    std::optional<std::size_t> early_max;
    std::optional<std::size_t> late_min;
    double position = 0;
    for (;;) {
        auto c = s.next();
        ASSERT_TRUE(c) << c.error().message();
        if (!*c) break;
        position = std::chrono::duration<double>((*c)->start).count();
        if (position >= 5 && position < 20)
            early_max = std::max(early_max.value_or(0), open_cache_files(cache));
        if (position >= 80 && position < 95)
            late_min = std::min(late_min.value_or(std::numeric_limits<std::size_t>::max()),
                                open_cache_files(cache));
    }
    EXPECT_GT(position, 95.0);
    ASSERT_TRUE(early_max && late_min);
    std::printf(
        "cache descriptors: at most %zu between 5 s and 20 s, at least %zu between 80 s "
        "and 95 s\n",
        *early_max, *late_min);
    EXPECT_LE(*late_min, *early_max + slack)
        << "cache descriptors: at most " << *early_max << " between 5 s and 20 s, at least "
        << *late_min << " between 80 s and 95 s";
}

// A long VOD stream holds a few cache files open, not one per segment it played: the fewest it
// holds near its end are no more than the most it held after its first segments. 50 segments of
// 2 s; one file of slack.
TEST(hls_descriptors, a_long_vod_stream_holds_a_few_cache_files_whatever_it_played) {
    env e("descriptors");
    auto s = hls::open(e.srv->url("/abr/a128.m3u8"), *e.store, *e.client, {}).value();
    play_counting_descriptors(*s, e.cache, 3);
}

// The same through a master playlist with ABR on: an adaptive run lets go of what it played as
// it grows, in whichever variant. A variant switched away from keeps its last segments and what
// it had fetched ahead until it is played again, so a few more files than VOD's may stay open
// (five files of slack). Before adaptive runs released anything, the process's descriptors went
// from 58 to 173.
TEST(hls_descriptors, a_long_adaptive_stream_holds_a_few_cache_files_whatever_it_played) {
    env e("descriptors_abr");
    auto s = hls::open(e.srv->url("/abr/master_ts.m3u8"), *e.store, *e.client, {}).value();
    play_counting_descriptors(*s, e.cache, 15);
}

}  // namespace
}  // namespace kithara::hls_test
