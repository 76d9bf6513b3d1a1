// kithara::context end to end (issue 18): one context plays progressive and HLS URLs over the
// test server, told apart by extension, Content-Type or first bytes; offline replay and pins;
// the HLS-only calls, interrupt and close; and streams that own no thread.
#include "file_support.hpp"
#include "hls_support.hpp"

#include <kithara/kithara/context.hpp>
#include <kithara/kithara/error.hpp>
#include <kithara/net/error.hpp>

#include <test_server.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using kithara::stream_kind;

struct drained {
    std::vector<float> samples;
    std::uint32_t rate = 0;
    std::uint32_t channels = 0;
    std::size_t chunks = 0;
    std::optional<kithara::error> failure;
};

drained drain(kithara::audio_stream& s) {
    drained d;
    for (;;) {
        auto c = s.next();
        if (!c) {
            d.failure = c.error();
            break;
        }
        if (!*c) break;
        d.rate = (*c)->sample_rate;
        d.channels = (*c)->channels;
        ++d.chunks;
        d.samples.insert(d.samples.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    return d;
}

std::size_t thread_count() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/task")) ++n;
    return n;
}

std::shared_ptr<const std::string> file_body(const fs::path& p) {
    return std::make_shared<const std::string>(kithara::test::read_bytes(p.string()));
}

// Two test servers (the progressive fixtures, the HLS fixtures) and a cache directory.
struct ctx_env {
    fs::path dir;
    kithara::test::http_server files{fs::path(KITHARA_FILE_MEDIA_DIR)};
    kithara::test::http_server hls{kithara::hls_test::fixtures};

    explicit ctx_env(const std::string& name)
        : dir(fs::temp_directory_path() /
              ("kithara_context_" + name + "_" + std::to_string(::getpid()))) {
        fs::remove_all(dir);
    }
    ~ctx_env() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    kithara::context make(bool offline = false) {
        kithara::context_options o;
        o.cache_dir = dir;
        o.offline = offline;
        auto c = kithara::context::create(o);
        EXPECT_TRUE(c) << c.error().message();
        return std::move(*c);
    }

    // Serves `body` at `path` of `srv` with `content_type` ("" = application/octet-stream).
    static void serve(kithara::test::http_server& srv, const std::string& path,
                      std::shared_ptr<const std::string> body, std::string content_type) {
        srv.route(path, [body, content_type](const kithara::test::route_request&,
                                             const asio::any_io_executor&,
                                             kithara::test::route_reply reply) {
            reply({.status = 200, .body = body, .content_type = content_type});
        });
    }
};

void expect_file_content(const drained& d) {
    ASSERT_FALSE(d.failure) << d.failure->message();
    const auto want = kithara::test::reference_pcm("long.mp3");
    ASSERT_EQ(d.samples.size(), want.size());
    EXPECT_TRUE(d.samples == want) << "PCM differs from the local decode of long.mp3";
}

void expect_hls_content(const drained& d) {
    ASSERT_FALSE(d.failure) << d.failure->message();
    const auto ref = kithara::hls_test::reference("ts_aac", "index.m3u8");
    ASSERT_EQ(d.samples.size() / d.channels, ref["pcm_samples"].get<std::size_t>());
    EXPECT_EQ(kithara::hls_test::sha256(d.samples), ref["pcm_sha256"].get<std::string>());
}

std::size_t requests_for(const kithara::test::http_server& srv, std::string_view path) {
    return srv.log_for(path).size();
}

TEST(context, plays_a_progressive_url_and_an_hls_url_through_one_surface) {
    ctx_env e("surface");
    auto ctx = e.make();

    std::mutex m;
    std::multiset<kithara::audio_event_kind> kinds;
    kithara::open_options o;
    o.on_event = [&](const kithara::audio_event& ev) {
        std::lock_guard lk(m);
        kinds.insert(ev.kind);
    };

    auto f = ctx.open(e.files.url("/long.mp3"), o);
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ((*f)->kind(), stream_kind::file);
    auto fi = (*f)->info();
    EXPECT_EQ(fi.container, "mp3");
    EXPECT_EQ(fi.sample_rate, 44100u);
    EXPECT_EQ(fi.channels, 2u);
    EXPECT_NEAR(std::chrono::duration<double>(fi.duration).count(), 20.0, 0.1);
    EXPECT_FALSE(fi.hls);
    expect_file_content(drain(**f));
    const auto fs_ = (*f)->stats();
    ASSERT_TRUE(fs_.file && fs_.decode);
    EXPECT_GT(fs_.bytes_from_network, 0u);
    EXPECT_EQ(fs_.pcm_frames, kithara::test::reference_pcm("long.mp3").size() / 2);

    auto h = ctx.open(e.hls.url("/ts_aac/index.m3u8"), o);
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ((*h)->kind(), stream_kind::hls);
    auto hi = (*h)->info();  // the format is known before the first next()
    EXPECT_EQ(hi.container, "hls");
    EXPECT_GT(hi.sample_rate, 0u);
    EXPECT_GT(hi.channels, 0u);
    ASSERT_TRUE(hi.hls);
    EXPECT_FALSE(hi.live);
    EXPECT_EQ(hi.hls->segments, 5u);
    EXPECT_GT(hi.duration.count(), 0);
    const auto got = drain(**h);
    expect_hls_content(got);
    EXPECT_EQ(got.rate, hi.sample_rate);
    const auto hs = (*h)->stats();
    ASSERT_TRUE(hs.hls);
    EXPECT_EQ(hs.hls->segments_from_network, 5u);

    // A known extension needs no probe: the playlist was requested once.
    EXPECT_EQ(requests_for(e.hls, "/ts_aac/index.m3u8"), 1u);
    std::lock_guard lk(m);
    EXPECT_GE(kinds.count(kithara::audio_event_kind::request_started), 6u);  // 1 file + 5 segs
    EXPECT_GE(kinds.count(kithara::audio_event_kind::cached), 6u);
}

TEST(context, an_extensionless_url_is_told_by_its_content_type) {
    ctx_env e("by_type");
    ctx_env::serve(e.hls, "/ts_aac/by-type",
                   file_body(kithara::hls_test::fixtures / "ts_aac/index.m3u8"),
                   "application/vnd.apple.mpegurl");
    ctx_env::serve(e.files, "/audio/by-type", file_body(kithara::test::media_path("long.mp3")),
                   "audio/mpeg");
    auto ctx = e.make();
    EXPECT_EQ(ctx.detect(e.hls.url("/ts_aac/by-type")).value(), stream_kind::hls);
    EXPECT_EQ(ctx.detect(e.files.url("/audio/by-type")).value(), stream_kind::file);
    // The probe is one ranged GET of the first 4 KiB.
    const auto probe = e.files.log_for("/audio/by-type");
    ASSERT_EQ(probe.size(), 1u);
    EXPECT_EQ(probe[0].range, "bytes=0-4095");

    auto h = ctx.open(e.hls.url("/ts_aac/by-type"));
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ((*h)->kind(), stream_kind::hls);
    expect_hls_content(drain(**h));
    auto f = ctx.open(e.files.url("/audio/by-type"));
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ((*f)->kind(), stream_kind::file);
    expect_file_content(drain(**f));
}

TEST(context, an_octet_stream_is_told_by_its_first_bytes) {
    ctx_env e("by_bytes");
    ctx_env::serve(e.hls, "/ts_aac/stream",
                   file_body(kithara::hls_test::fixtures / "ts_aac/index.m3u8"), "");
    ctx_env::serve(e.files, "/audio/stream", file_body(kithara::test::media_path("long.mp3")), "");
    auto ctx = e.make();
    auto h = ctx.open(e.hls.url("/ts_aac/stream"));
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ((*h)->kind(), stream_kind::hls);
    expect_hls_content(drain(**h));
    auto f = ctx.open(e.files.url("/audio/stream"));
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ((*f)->kind(), stream_kind::file);
    expect_file_content(drain(**f));
}

// Radio lists, as stations and directories link to them: an extended M3U, a PLS whose first
// mirror is dead, one served extensionless as audio/x-scpls, and a list naming a list. The
// stream is the first entry that opens, its url() the entry's; every byte of its PCM is the
// local decode's.
TEST(context, a_radio_list_plays_its_first_entry_that_opens) {
    ctx_env e("radio");
    const auto mp3 = e.files.url("/long.mp3");
    const auto text = [](std::string s) { return std::make_shared<const std::string>(s); };
    ctx_env::serve(e.files, "/radio/station.m3u",
                   text("#EXTM3U\n#EXTINF:-1,Kithara FM\n" + mp3 + "\n"), "audio/x-mpegurl");
    ctx_env::serve(e.files, "/radio/mirrors.pls",
                   text("[playlist]\nNumberOfEntries=2\nFile1=" + e.files.url("/gone.mp3") +
                        "\nTitle1=dead mirror\nFile2=../long.mp3\nLength2=-1\nVersion=2\n"),
                   "audio/x-scpls");
    ctx_env::serve(e.files, "/radio/listen", text("[playlist]\nFile1=" + mp3 + "\n"),
                   "audio/x-scpls");
    ctx_env::serve(e.files, "/radio/directory.m3u", text(e.files.url("/radio/mirrors.pls") + "\n"),
                   "audio/x-mpegurl");
    auto ctx = e.make();
    for (const auto* path :
         {"/radio/station.m3u", "/radio/mirrors.pls", "/radio/listen", "/radio/directory.m3u"}) {
        SCOPED_TRACE(path);
        EXPECT_EQ(ctx.detect(e.files.url(path)).value(), stream_kind::file);
        auto s = ctx.open(e.files.url(path));
        ASSERT_TRUE(s) << s.error().message();
        EXPECT_EQ((*s)->kind(), stream_kind::file);
        EXPECT_EQ((*s)->url(), mp3);
        expect_file_content(drain(**s));
    }
    // The dead mirror was tried by both opens that reach it (the PLS, and the directory naming
    // it) and passed over; detect() does not request an entry whose URL names its kind.
    EXPECT_EQ(e.files.log_for("/gone.mp3").size(), 2u);
}

// An .m3u that carries HLS tags is HLS; a list served as audio/x-mpegurl is told from HLS by its
// text.
TEST(context, an_m3u_with_hls_tags_is_hls_not_a_radio_list) {
    ctx_env e("radio_hls");
    ctx_env::serve(e.hls, "/ts_aac/index.m3u",
                   file_body(kithara::hls_test::fixtures / "ts_aac/index.m3u8"), "audio/x-mpegurl");
    auto ctx = e.make();
    auto h = ctx.open(e.hls.url("/ts_aac/index.m3u"));
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_EQ((*h)->kind(), stream_kind::hls);
    EXPECT_EQ((*h)->url(), e.hls.url("/ts_aac/index.m3u"));
    expect_hls_content(drain(**h));
}

// Lists that cannot play say so, naming the list: one naming nothing, one whose every entry
// fails (the last entry's error comes along, its HTTP status compares as such), one that names
// itself (followed 4 deep, then refused). A list over 64 KiB is refused unread.
TEST(context, a_radio_list_that_cannot_play_is_an_error_naming_it) {
    ctx_env e("radio_bad");
    const auto text = [](std::string s) { return std::make_shared<const std::string>(s); };
    ctx_env::serve(e.files, "/radio/empty.m3u", text("#EXTM3U\n#EXTINF:-1,Nothing here\n"),
                   "audio/x-mpegurl");
    ctx_env::serve(e.files, "/radio/dead.pls",
                   text("[playlist]\nFile1=" + e.files.url("/gone1.mp3") +
                        "\nFile2=" + e.files.url("/gone2.mp3") + "\n"),
                   "audio/x-scpls");
    ctx_env::serve(e.files, "/radio/loop.m3u", text(e.files.url("/radio/loop.m3u") + "\n"),
                   "audio/x-mpegurl");
    ctx_env::serve(e.files, "/radio/huge.m3u",
                   text(std::string(70 * 1024, '#') + "\n" + e.files.url("/long.mp3") + "\n"),
                   "audio/x-mpegurl");
    auto ctx = e.make();

    auto empty = ctx.open(e.files.url("/radio/empty.m3u"));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error(), kithara::context_errc::bad_radio_list);
    EXPECT_NE(empty.error().message().find("/radio/empty.m3u"), std::string::npos)
        << empty.error().message();

    auto dead = ctx.open(e.files.url("/radio/dead.pls"));
    ASSERT_FALSE(dead);
    EXPECT_EQ(dead.error(), kithara::net::errc::http_status) << dead.error().message();
    EXPECT_NE(dead.error().message().find("/radio/dead.pls"), std::string::npos)
        << dead.error().message();
    EXPECT_NE(dead.error().message().find("404"), std::string::npos) << dead.error().message();
    EXPECT_EQ(requests_for(e.files, "/gone1.mp3"), 1u);
    EXPECT_EQ(requests_for(e.files, "/gone2.mp3"), 1u);

    auto loop = ctx.open(e.files.url("/radio/loop.m3u"));
    ASSERT_FALSE(loop);
    EXPECT_EQ(loop.error(), kithara::context_errc::bad_radio_list);
    EXPECT_EQ(requests_for(e.files, "/radio/loop.m3u"), 4u);

    auto huge = ctx.open(e.files.url("/radio/huge.m3u"));
    ASSERT_FALSE(huge);
    EXPECT_EQ(huge.error(), kithara::context_errc::bad_radio_list);
    EXPECT_NE(huge.error().message().find("too large"), std::string::npos)
        << huge.error().message();
    EXPECT_EQ(requests_for(e.files, "/long.mp3"), 0u);
}

TEST(context, offline_plays_what_was_cached_and_tells_kinds_from_the_cache) {
    ctx_env e("offline");
    ctx_env::serve(e.hls, "/ts_aac/stream",
                   file_body(kithara::hls_test::fixtures / "ts_aac/index.m3u8"), "");
    ctx_env::serve(e.files, "/audio/stream", file_body(kithara::test::media_path("long.mp3")), "");
    {
        auto ctx = e.make();
        expect_hls_content(drain(*ctx.open(e.hls.url("/ts_aac/stream")).value()));
        auto f = ctx.open(e.files.url("/audio/stream")).value();
        expect_file_content(drain(*f));
        // The file's download runs to its end: wait for it before going offline.
        ASSERT_TRUE(f->as_file());
        EXPECT_TRUE(f->as_file()->complete());
    }
    const auto hls_requests = e.hls.log().size();
    const auto file_requests = e.files.log().size();

    auto ctx = e.make(/*offline=*/true);
    EXPECT_EQ(ctx.detect(e.hls.url("/ts_aac/stream")).value(), stream_kind::hls);
    EXPECT_EQ(ctx.detect(e.files.url("/audio/stream")).value(), stream_kind::file);
    expect_hls_content(drain(*ctx.open(e.hls.url("/ts_aac/stream")).value()));
    expect_file_content(drain(*ctx.open(e.files.url("/audio/stream")).value()));
    EXPECT_EQ(e.hls.log().size(), hls_requests);
    EXPECT_EQ(e.files.log().size(), file_requests);

    // Nothing cached and nothing in the URL: offline cannot tell.
    auto unknown = ctx.open(e.files.url("/audio/never-played"));
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error(), kithara::context_errc::unknown_content_kind);
    EXPECT_EQ(unknown.error(), kithara::condition::unavailable);
}

TEST(context, pin_downloads_a_file_and_an_hls_stream_whole_for_offline_play) {
    ctx_env e("pin");
    const auto file_url = e.files.url("/long.mp3");
    const auto hls_url = e.hls.url("/ts_aac/index.m3u8");
    {
        auto ctx = e.make();
        auto pf = ctx.pin(file_url);
        ASSERT_TRUE(pf) << pf.error().message();
        EXPECT_EQ(pf->kind, stream_kind::file);
        const auto size = fs::file_size(kithara::test::media_path("long.mp3"));
        EXPECT_EQ(pf->bytes_from_network, size);
        EXPECT_GE(pf->bytes_cached, size);
        EXPECT_TRUE(ctx.is_pinned(file_url).value());

        auto ph = ctx.pin(hls_url);
        ASSERT_TRUE(ph) << ph.error().message();
        EXPECT_EQ(ph->kind, stream_kind::hls);
        ASSERT_TRUE(ph->hls);
        EXPECT_EQ(ph->hls->segments_from_network, 5u);
        EXPECT_GT(ph->bytes_cached, 0u);
        EXPECT_TRUE(ctx.is_pinned(hls_url).value());
    }
    const auto requests = e.files.log().size() + e.hls.log().size();
    {
        auto ctx = e.make(/*offline=*/true);
        expect_file_content(drain(*ctx.open(file_url).value()));
        expect_hls_content(drain(*ctx.open(hls_url).value()));
        EXPECT_TRUE(ctx.unpin(file_url));
        EXPECT_FALSE(ctx.is_pinned(file_url).value());
        EXPECT_TRUE(ctx.is_pinned(hls_url).value());
    }
    EXPECT_EQ(e.files.log().size() + e.hls.log().size(), requests);
}

TEST(context, hls_only_calls_interrupt_and_close) {
    ctx_env e("calls");
    auto ctx = e.make();
    auto f = ctx.open(e.files.url("/long.flac")).value();
    EXPECT_EQ(f->lock_variant(1).error(), kithara::context_errc::not_supported);
    EXPECT_EQ(f->set_max_bandwidth(1).error(), kithara::context_errc::not_supported);
    EXPECT_EQ(f->seek_to_live_edge().error(), kithara::context_errc::not_supported);
    EXPECT_FALSE(f->wall_clock(std::chrono::seconds(1)));
    EXPECT_FALSE(f->as_hls());
    ASSERT_TRUE(f->next());
    f->interrupt();
    auto after = f->next();
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error(), kithara::condition::cancelled);

    auto h = ctx.open(e.hls.url("/ts_aac/index.m3u8")).value();
    EXPECT_TRUE(h->lock_variant(0));
    ASSERT_TRUE(h->seek(std::chrono::seconds(2)));
    auto c = h->next();
    ASSERT_TRUE(c && *c);
    EXPECT_NEAR(std::chrono::duration<double>((*c)->start).count(), 2.0, 0.001);
    h->close();
    auto closed = h->next();
    ASSERT_FALSE(closed);
    EXPECT_EQ(closed.error(), kithara::condition::closed);
    EXPECT_EQ(h->lock_variant(0).error(), kithara::condition::closed);
    h->close();  // idempotent
}

TEST(context, a_missing_url_is_an_error_naming_its_status) {
    ctx_env e("missing");
    auto ctx = e.make();
    for (const std::string path : {"/nothing-here", "/nothing.mp3", "/nothing.m3u8"}) {
        auto s = ctx.open(e.files.url(path));
        ASSERT_FALSE(s) << path;
        EXPECT_NE(s.error().message().find("404"), std::string::npos) << s.error().message();
    }
}

// Streams own no thread: opening and playing several adds none to the process (decoding runs
// on the thread calling next(); downloads on the context's io thread).
TEST(context, streams_own_no_thread) {
    ctx_env e("threads");
    auto ctx = e.make();
    // Warm up: one stream of each kind, so lazily started pools exist before the count.
    drain(*ctx.open(e.files.url("/long.opus")).value());
    drain(*ctx.open(e.hls.url("/ts_aac/index.m3u8")).value());
    const auto before = thread_count();
    std::vector<std::unique_ptr<kithara::audio_stream>> streams;
    for (const char* p : {"/long.mp3", "/long.m4a", "/long.flac"})
        streams.push_back(ctx.open(e.files.url(p)).value());
    for (const char* p : {"/opus_fmp4/index.m3u8", "/ts_mp3/index.m3u8", "/flac_fmp4/index.m3u8"})
        streams.push_back(ctx.open(e.hls.url(p)).value());
    for (auto& s : streams) {
        for (int i = 0; i < 4; ++i) {
            auto c = s->next();
            ASSERT_TRUE(c && *c) << s->url();
        }
    }
    EXPECT_EQ(thread_count(), before);
}

}  // namespace

namespace {

// --- decoding ahead on the decode pool ---

TEST(context, the_decode_ahead_queue_stays_within_its_bound) {
    ctx_env e("bound");
    auto ctx = e.make();
    kithara::open_options o;
    o.decode_ahead_chunks = 3;
    o.decode.start_chunk_frames = 0;  // every chunk 4096 frames
    auto s = ctx.open(e.files.url("/long.flac"), o).value();
    std::uint64_t returned = 0;
    for (int i = 0; i < 40; ++i) {
        auto c = s->next();
        ASSERT_TRUE(c && *c);
        returned += (*c)->frames();
        // What the decoder produced is what was returned plus at most the queue (3 chunks) and
        // the one chunk a running turn holds.
        const auto st = s->stats();
        ASSERT_TRUE(st.decode);
        EXPECT_LE(st.decode->pcm_frames, returned + 4 * 4096) << "after chunk " << i;
    }
    EXPECT_EQ(s->stats().pcm_frames, returned);
}

TEST(context, decoding_on_the_callers_thread_plays_alike) {
    ctx_env e("direct");
    auto ctx = e.make();
    kithara::open_options o;
    o.decode_ahead_chunks = 0;
    expect_file_content(drain(*ctx.open(e.files.url("/long.mp3"), o).value()));
    expect_hls_content(drain(*ctx.open(e.hls.url("/ts_aac/index.m3u8"), o).value()));
}

// One application thread serves twelve streams with try_next() and on_ready: every stream's
// audio is whole and right, they progress together, and no thread is added.
TEST(context, one_thread_serves_many_streams_with_try_next) {
    ctx_env e("many");
    auto ctx = e.make();
    drain(*ctx.open(e.files.url("/long.opus")).value());  // starts the decode pool
    const auto before = thread_count();

    std::mutex m;
    std::condition_variable cv;
    std::size_t readies = 0;
    kithara::open_options o;
    o.on_ready = [&] {
        {
            std::lock_guard lk(m);
            ++readies;
        }
        cv.notify_one();
    };
    struct entry {
        std::unique_ptr<kithara::audio_stream> s;
        drained d;
        bool done = false;
        std::size_t chunks_when_first_ended = 0;
    };
    std::vector<entry> streams;
    for (int i = 0; i < 6; ++i) {
        // Distinct URLs (a query the server ignores): each file is downloaded, not cached.
        for (const auto& url : {e.files.url("/long.mp3?s=" + std::to_string(i)),
                                e.hls.url("/ts_aac/index.m3u8?s=" + std::to_string(i))}) {
            entry en;
            en.s = ctx.open(url, o).value();
            streams.push_back(std::move(en));
        }
    }
    std::size_t left = streams.size();
    bool first_ended = false;
    while (left > 0) {
        std::size_t seen = 0;
        {
            std::lock_guard lk(m);
            seen = readies;
        }
        bool progressed = false;
        for (auto& en : streams) {
            if (en.done) continue;
            kithara::decode::pcm_chunk c;
            auto r = en.s->try_next(c);
            ASSERT_TRUE(r) << r.error().message();
            if (*r == kithara::poll_state::pending) continue;
            progressed = true;
            if (*r == kithara::poll_state::ended) {
                en.done = true;
                --left;
                if (!first_ended) {
                    first_ended = true;
                    for (auto& other : streams) other.chunks_when_first_ended = other.d.chunks;
                }
                continue;
            }
            en.d.rate = c.sample_rate;
            en.d.channels = c.channels;
            ++en.d.chunks;
            en.d.samples.insert(en.d.samples.end(), c.samples.begin(), c.samples.end());
        }
        if (!progressed) {
            std::unique_lock lk(m);
            cv.wait(lk, [&] { return readies != seen; });  // an on_ready since the sweep began
        }
    }
    EXPECT_EQ(thread_count(), before);
    // The streams share the context's connections: at most the per-host limit (16) at once,
    // reused (keep-alive) rather than one per request.
    std::size_t requests = 0;
    for (const auto& entry : e.files.log()) requests += entry.path.empty() ? 0 : 1;
    for (const auto& entry : e.hls.log()) requests += entry.path.empty() ? 0 : 1;
    EXPECT_LE(e.files.connections_accepted(), 16u);
    EXPECT_LE(e.hls.connections_accepted(), 16u);
    EXPECT_LT(e.files.connections_accepted() + e.hls.connections_accepted(), requests);
    for (std::size_t i = 0; i < streams.size(); ++i) {
        SCOPED_TRACE(streams[i].s->url());
        if (streams[i].s->kind() == stream_kind::file)
            expect_file_content(streams[i].d);
        else
            expect_hls_content(streams[i].d);
        // Fairness: when the first stream ended, every other had had a good share of turns.
        EXPECT_GE(streams[i].chunks_when_first_ended * 4, streams[i].d.chunks / 2);
    }
}

TEST(context, a_seek_while_decoding_ahead_drops_the_old_position) {
    ctx_env e("seek_ahead");
    auto ctx = e.make();
    auto s = ctx.open(e.files.url("/long.flac")).value();
    auto first = s->next();
    ASSERT_TRUE(first && *first);
    const auto epoch = (*first)->epoch;
    ASSERT_TRUE(s->seek(std::chrono::seconds(5)));
    drained d = drain(*s);
    ASSERT_FALSE(d.failure);
    const auto want = kithara::test::reference_pcm("long.flac", std::chrono::seconds(5));
    ASSERT_EQ(d.samples.size(), want.size());
    EXPECT_TRUE(d.samples == want);
    // And the chunks after the seek carry the new epoch.
    ASSERT_TRUE(s->seek(std::chrono::seconds(1)));
    auto c = s->next();
    ASSERT_TRUE(c && *c);
    EXPECT_GT((*c)->epoch, epoch);
    EXPECT_EQ((*c)->start, std::chrono::seconds(1));
}

TEST(context, interrupt_ends_a_next_waiting_on_a_stalled_network) {
    ctx_env e("interrupt");
    // Every segment after the first stalls for 30 s a little way in.
    for (int i = 1; i < 5; ++i)
        e.hls.add_fault("/ts_aac/index_00" + std::to_string(i) + ".ts",
                        {.stall_after = 2000, .stall_for = std::chrono::seconds(30)}, 1, 0);
    auto ctx = e.make();
    std::mutex m;
    std::condition_variable cv;
    bool stalled = false;
    kithara::open_options o;
    o.hls.prefetch_seconds = 0;
    o.on_event = [&](const kithara::audio_event& ev) {
        if (ev.kind != kithara::audio_event_kind::stall) return;
        {
            std::lock_guard lk(m);
            stalled = true;
        }
        cv.notify_all();
    };
    auto s = ctx.open(e.hls.url("/ts_aac/index.m3u8"), o).value();
    std::optional<kithara::error> ended;
    std::thread consumer([&] { ended = drain(*s).failure; });
    {
        std::unique_lock lk(m);
        cv.wait(lk, [&] { return stalled; });
    }
    const auto t0 = std::chrono::steady_clock::now();
    s->interrupt();
    consumer.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    ASSERT_TRUE(ended);
    EXPECT_EQ(*ended, kithara::condition::cancelled) << ended->message();
}

}  // namespace
