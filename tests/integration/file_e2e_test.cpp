// kithara::file end to end over the loopback test server: real HTTP, a real disk cache, FFmpeg
// decoding; PCM compared with decoding the local file.
#include "file_support.hpp"

#include <test_server.hpp>

#include <kithara/net/error.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>

namespace kithara::test {
namespace {

using namespace std::chrono_literals;

std::uint64_t range_start(const log_entry& e) {
    unsigned long long v = 0;
    if (std::sscanf(e.range.c_str(), "bytes=%llu-", &v) != 1) return 0;
    return v;
}

// Opens `path` again with a new store over the same directory: the cached copy is complete and
// fresh (o.trust_cache), so the PCM is the reference and the server sees no request.
void expect_replay_without_requests(file_env& env, http_server& srv, const std::string& path,
                                    const std::string& media, const file::options& o) {
    srv.clear_log();
    auto store = env.open_store();
    auto src = file::open(srv.url(path), store, *env.client, o);
    ASSERT_TRUE(src) << src.error().message();
    EXPECT_TRUE(plays_as_local(*src, media));
    EXPECT_TRUE(srv.log().empty());
}

// A one-thread background pool whose thread is busy and whose queue (of one) is full until
// release(): every try_submit fails meanwhile.
struct full_pool {
    full_pool() {
        std::promise<void> started;
        auto open_gate = gate.get_future().share();
        EXPECT_TRUE(pool.try_submit([&started, open_gate] {
            started.set_value();
            open_gate.wait();
        }));
        started.get_future().wait();
        EXPECT_TRUE(pool.try_submit([open_gate] { open_gate.wait(); }));
    }
    ~full_pool() { release(); }
    void release() {
        if (!released_) gate.set_value();
        released_ = true;
    }

    std::promise<void> gate;
    worker::blocking_pool pool{{.threads = 1, .max_queued = 1, .name = "test-bg"}};

private:
    bool released_ = false;
};

class file_formats : public ::testing::TestWithParam<std::string> {};

TEST_P(file_formats, pcm_identical_to_local_decode) {
    const std::string name = GetParam();
    http_server srv;
    srv.put("/" + name, read_bytes(media_path(name)));
    file_env env;
    auto store = env.open_store();
    auto src = file::open(srv.url("/" + name), store, *env.client, file_env::quick_options());
    ASSERT_TRUE(src) << src.error().message();
    EXPECT_TRUE(plays_as_local(*src, name));
}

INSTANTIATE_TEST_SUITE_P(progressive, file_formats,
                         ::testing::Values("long.mp3", "long.m4a", "long.flac", "long.opus"),
                         [](const auto& param_info) {
                             std::string s = param_info.param;
                             std::replace(s.begin(), s.end(), '.', '_');
                             return s;
                         });

TEST(file, moov_at_end_is_fetched_by_range_request) {
    const std::string body = read_bytes(media_path("long.m4a"));
    http_server srv;
    srv.put("/a.m4a", body);
    srv.set_rate(128 * 1024);  // the sequential download would take seconds to reach the end
    file_env env;
    auto store = env.open_store();
    auto o = file_env::quick_options();
    o.prefetch_bytes = 32 * 1024;  // the fixture is small
    auto src = file::open(srv.url("/a.m4a"), store, *env.client, o);
    ASSERT_TRUE(src) << src.error().message();
    auto dec = decode::decoder::open(*src);
    ASSERT_TRUE(dec) << dec.error().message();
    auto c = (*dec)->next();
    ASSERT_TRUE(c && *c);
    bool tail_request = false;
    for (const auto& e : srv.log_for("/a.m4a")) tail_request |= range_start(e) > body.size() / 2;
    EXPECT_TRUE(tail_request);
    EXPECT_FALSE((*src)->complete());
}

// The moov at the end is a small gap of known extent: it is fetched by parallel Range requests
// that tile it exactly, within max_requests, and the PCM is unchanged.
TEST(file, moov_at_end_is_split_across_free_request_slots) {
    const std::string body = read_bytes(media_path("long.m4a"));
    for (const std::uint64_t split_min : {std::uint64_t{1024}, std::uint64_t{0}}) {
        SCOPED_TRACE(split_min);
        http_server srv;
        srv.put("/a.m4a", body);
        srv.set_rate(64 * 1024);  // the sequential download stays far from the end
        file_env env;
        auto store = env.open_store();
        auto o = file_env::quick_options();
        o.prefetch_bytes = 32 * 1024;
        o.max_requests = 4;
        o.split_min_bytes = split_min;
        auto src = file::open(srv.url("/a.m4a"), store, *env.client, o);
        ASSERT_TRUE(src) << src.error().message();
        auto dec = decode::decoder::open(*src);
        ASSERT_TRUE(dec) << dec.error().message();
        std::vector<std::pair<std::uint64_t, std::uint64_t>> tail;  // [first, last] requested
        for (const auto& e : srv.log_for("/a.m4a")) {
            unsigned long long b = 0;
            unsigned long long l = 0;
            if (std::sscanf(e.range.c_str(), "bytes=%llu-%llu", &b, &l) == 2 && b > body.size() / 2)
                tail.emplace_back(b, l);
        }
        std::sort(tail.begin(), tail.end());
        if (split_min == 0) {
            EXPECT_EQ(tail.size(), 1u);
        } else {
            EXPECT_GE(tail.size(), 2u);
            EXPECT_LE(tail.size(), 3u);  // one slot serves the sequential download
            for (std::size_t i = 1; i < tail.size(); ++i)
                EXPECT_EQ(tail[i].first, tail[i - 1].second + 1);  // tiled: no gap, no overlap
        }
        ASSERT_FALSE(tail.empty());
        EXPECT_EQ(tail.back().second, body.size() - 1);
        EXPECT_LE(srv.peak_concurrent_responses(), 4u);
        srv.set_rate(0);
        EXPECT_TRUE(plays_as_local(*src, "long.m4a"));
    }
}

TEST(file, seek_to_90_percent_starts_range_request_at_once) {
    const std::string body = read_bytes(media_path("long.m4a"));
    http_server srv;
    srv.put("/s.m4a", body);
    srv.set_rate(64 * 1024);
    file_env env;
    auto store = env.open_store();
    auto o = file_env::quick_options();
    o.prefetch_bytes = 32 * 1024;  // the fixture is small
    auto src = file::open(srv.url("/s.m4a"), store, *env.client, o);
    ASSERT_TRUE(src) << src.error().message();
    auto dec = decode::decoder::open(*src);
    ASSERT_TRUE(dec) << dec.error().message();
    ASSERT_TRUE((*dec)->seek(std::chrono::seconds(18)));  // 90% of 20 s
    auto c = (*dec)->next();
    ASSERT_TRUE(c && *c) << (c ? "end" : c.error().message());
    EXPECT_GE((**c).start, 17s);
    // First PCM arrived while most of the file was still missing: it came from a range request
    // near the end, not from the sequential download.
    EXPECT_LT((*src)->cached_bytes(), body.size() / 2);
    bool range_near_end = false;
    for (const auto& e : srv.log_for("/s.m4a"))
        range_near_end |= range_start(e) >= body.size() * 8 / 10;
    EXPECT_TRUE(range_near_end);
    EXPECT_GE((*src)->stats().demand_requests, 1u);
}

TEST(file, concurrent_requests_per_file_never_exceed_the_bound) {
    constexpr std::uint64_t size = 4 << 20;
    const std::string body = make_body(size, 7);
    http_server srv;
    srv.put("/big.bin", body);
    srv.set_rate(256 * 1024);  // slow enough that requests overlap
    file_env env;
    auto store = env.open_store();
    auto o = file_env::quick_options();
    o.max_requests = 2;
    o.prefetch_bytes = 16 * 1024;
    auto src = file::open(srv.url("/big.bin"), store, *env.client, o);
    ASSERT_TRUE(src) << src.error().message();
    // Reads far apart, each a demand that wants its own range request.
    const std::uint64_t offsets[] = {size / 4, size / 2, size * 3 / 4, size - 4096};
    for (const auto off : offsets) {
        auto r = (*src)->wait_range({off, off + 1}, std::chrono::steady_clock::now() + 100ms, {});
        ASSERT_TRUE(r) << r.error().message();
    }
    // The last demand is served within the bound, and its bytes are the server's.
    const std::uint64_t last = offsets[3];
    auto r = (*src)->wait_range({last, last + 4096}, std::chrono::steady_clock::now() + 20s, {});
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_EQ(*r, stream::wait_status::ready);
    std::string got(4096, '\0');
    auto n = (*src)->read_at(last, std::as_writable_bytes(std::span(got)));
    ASSERT_TRUE(n) << n.error().message();
    ASSERT_EQ(*n, 4096u);
    EXPECT_EQ(got, body.substr(last, 4096));
    EXPECT_GE((*src)->stats().demand_requests, 2u);
    EXPECT_GE(srv.log_for("/big.bin").size(), 3u);
    EXPECT_LE(srv.peak_concurrent_responses(), 2u);
}

TEST(file, seeked_playback_matches_local_seek) {
    http_server srv;
    srv.put("/k.flac", read_bytes(media_path("long.flac")));
    file_env env;
    auto store = env.open_store();
    auto src = file::open(srv.url("/k.flac"), store, *env.client, file_env::quick_options());
    ASSERT_TRUE(src) << src.error().message();
    EXPECT_TRUE(plays_as_local(*src, "long.flac", 15s));
}

TEST(file, connection_dropped_every_256_kib_gives_identical_pcm) {
    http_server srv;
    srv.put("/d.flac", read_bytes(media_path("long.flac")));
    srv.add_fault("/d.flac", {.drop_after = 256 * 1024}, 1, 0);
    file_env env;
    auto store = env.open_store();
    auto src = file::open(srv.url("/d.flac"), store, *env.client, file_env::quick_options());
    ASSERT_TRUE(src) << src.error().message();
    EXPECT_TRUE(plays_as_local(*src, "long.flac"));
    EXPECT_GT(srv.log_for("/d.flac").size(), 4u);
}

TEST(file, restart_mid_download_fetches_no_byte_twice) {
    const std::string body = read_bytes(media_path("long.flac"));
    http_server srv;
    srv.put("/r.flac", body);
    file_env env;
    std::uint64_t cached = 0;
    {
        srv.set_rate(512 * 1024);
        auto store = env.open_store();
        auto o = file_env::quick_options();
        o.flush_every_bytes = 64 * 1024;
        auto src = file::open(srv.url("/r.flac"), store, *env.client, o);
        ASSERT_TRUE(src) << src.error().message();
        ASSERT_TRUE((*src)->wait_range({0, body.size() / 3}, std::nullopt, {}));
        cached = (*src)->cached_bytes();
    }  // "process exit": source and store closed mid-download
    ASSERT_GT(cached, 0u);
    ASSERT_LT(cached, body.size());
    srv.set_rate(0);
    srv.clear_log();
    auto store = env.open_store();
    auto src = file::open(srv.url("/r.flac"), store, *env.client, file_env::quick_options());
    ASSERT_TRUE(src) << src.error().message();
    const auto at_open = (*src)->stats().cached_at_open;
    EXPECT_GE(at_open, cached);
    EXPECT_TRUE(plays_as_local(*src, "long.flac"));
    // The second run asked only for what was missing, with If-Range, and got each byte once.
    auto log = srv.log_for("/r.flac");
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(range_start(log.front()), at_open);
    EXPECT_FALSE(log.front().if_range.empty());
    std::uint64_t sent = 0;
    for (const auto& e : log) sent += e.bytes_sent;
    EXPECT_EQ(sent, body.size() - at_open);
}

TEST(file, offline_replay_with_server_stopped) {
    const std::string name = "long.mp3";
    file_env env;
    std::string url;
    {
        http_server srv;
        srv.put("/o.mp3", read_bytes(media_path(name)));
        url = srv.url("/o.mp3");
        auto store = env.open_store();
        auto src = file::open(url, store, *env.client, file_env::quick_options());
        ASSERT_TRUE(src) << src.error().message();
        ASSERT_TRUE(decode_all(*src));
        EXPECT_TRUE((*src)->complete());
    }  // server stopped
    auto store = env.open_store();
    for (bool offline : {false, true}) {
        auto o = file_env::quick_options();
        o.offline = offline;
        std::vector<file::event_kind> kinds;
        o.on_event = [&](const file::event& e) { kinds.push_back(e.kind); };
        auto src = file::open(url, store, *env.client, o);
        ASSERT_TRUE(src) << src.error().message();
        EXPECT_TRUE(plays_as_local(*src, name));
        EXPECT_EQ((*src)->stats().bytes_fetched, 0u);
        src->reset();
        env.client.reset();
        env.io.reset();  // joins the io thread: the posted events have run
        env.io.emplace();
        env.client.emplace(env.io->executor());
        EXPECT_NE(
            std::find(kinds.begin(), kinds.end(),
                      offline ? file::event_kind::opened_cached : file::event_kind::stale_served),
            kinds.end());
    }
}

TEST(file, fresh_cache_opens_with_zero_requests) {
    http_server srv;
    srv.put("/f.opus", read_bytes(media_path("long.opus")));
    file_env env;
    auto store = env.open_store();
    auto o = file_env::quick_options();
    o.trust_cache = std::chrono::seconds(3600);
    {
        auto src = file::open(srv.url("/f.opus"), store, *env.client, o);
        ASSERT_TRUE(src);
        ASSERT_TRUE(decode_all(*src));
    }
    srv.clear_log();
    auto src = file::open(srv.url("/f.opus"), store, *env.client, o);
    ASSERT_TRUE(src);
    EXPECT_TRUE(plays_as_local(*src, "long.opus"));
    EXPECT_TRUE(srv.log().empty());
}

// A background pool whose queue is full postpones flushes and metadata writes; closing the
// source stores them, so the next open finds a complete, fresh copy and makes no request.
TEST(file, full_background_queue_loses_no_metadata) {
    http_server srv;
    srv.put("/q.mp3", read_bytes(media_path("long.mp3")));
    file_env env;
    full_pool pool;
    auto o = file_env::quick_options();
    o.trust_cache = std::chrono::seconds(3600);
    o.background = &pool.pool;
    o.flush_every_bytes = 16 * 1024;
    {
        auto store = env.open_store();
        auto src = file::open(srv.url("/q.mp3"), store, *env.client, o);
        ASSERT_TRUE(src) << src.error().message();
        ASSERT_TRUE(decode_all(*src));
        EXPECT_TRUE((*src)->complete());
    }
    pool.release();
    o.background = nullptr;
    expect_replay_without_requests(env, srv, "/q.mp3", "long.mp3", o);
}

// Tasks a cancelled pool drops unrun do not keep the source from closing, and closing stores the
// metadata they would have written.
TEST(file, background_tasks_dropped_unrun_do_not_hang_close) {
    http_server srv;
    srv.put("/d.mp3", read_bytes(media_path("long.mp3")));
    file_env env;
    worker::blocking_pool pool({.threads = 1, .max_queued = 8, .name = "test-bg"});
    std::promise<void> started;
    // Occupies the pool's thread until the pool is shut down (its stop token fires).
    ASSERT_TRUE(pool.try_submit([&started](std::stop_token stop) {
        started.set_value();
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        cv.wait(lock, stop, [] { return false; });
    }));
    started.get_future().wait();
    auto o = file_env::quick_options();
    o.trust_cache = std::chrono::seconds(3600);
    o.background = &pool;
    o.flush_every_bytes = 16 * 1024;
    {
        auto store = env.open_store();
        auto src = file::open(srv.url("/d.mp3"), store, *env.client, o);
        ASSERT_TRUE(src) << src.error().message();
        ASSERT_TRUE(decode_all(*src));
        pool.shutdown(worker::shutdown_mode::cancel);  // drops the queued flush and metadata
    }                                                  // closing returns
    o.background = nullptr;
    expect_replay_without_requests(env, srv, "/d.mp3", "long.mp3", o);
}

// Files share one background thread by default: none starts its own.
TEST(file, files_share_one_background_thread) {
    http_server srv;
    srv.put("/s.mp3", read_bytes(media_path("long.mp3")));
    file_env env;
    auto store = env.open_store();
    auto threads_named = [](std::string_view prefix) {  // blocking_pool names "<name>-<i>"
        std::size_t n = 0;
        for (const auto& t : std::filesystem::directory_iterator("/proc/self/task")) {
            std::ifstream f(t.path() / "comm");
            std::string comm;
            std::getline(f, comm);
            n += comm.rfind(prefix, 0) == 0;
        }
        return n;
    };
    std::vector<std::shared_ptr<file::file_source>> files;
    for (int i = 0; i < 6; ++i) {
        auto o = file_env::quick_options();
        o.flush_every_bytes = 8 * 1024;
        auto src = file::open(srv.url("/s.mp3?copy=" + std::to_string(i)), store, *env.client, o);
        ASSERT_TRUE(src) << src.error().message();
        files.push_back(*src);
    }
    for (auto& f : files) ASSERT_TRUE(decode_all(f));
    EXPECT_EQ(threads_named("kithara-flush"), 1u);
}

TEST(file, changed_upstream_invalidates_cached_copy) {
    http_server srv;
    srv.put("/c", read_bytes(media_path("long.mp3")));
    file_env env;
    auto store = env.open_store();
    {
        auto src = file::open(srv.url("/c"), store, *env.client, file_env::quick_options());
        ASSERT_TRUE(src);
        ASSERT_TRUE(decode_all(*src));
    }
    srv.put("/c", read_bytes(media_path("long.opus")));  // new ETag / Last-Modified
    bool invalidated = false;
    auto o = file_env::quick_options();
    o.on_event = [&](const file::event& e) {
        invalidated |= e.kind == file::event_kind::invalidated;
    };
    auto src = file::open(srv.url("/c"), store, *env.client, o);
    ASSERT_TRUE(src) << src.error().message();
    EXPECT_TRUE(plays_as_local(*src, "long.opus"));
    EXPECT_TRUE(invalidated);
    src->reset();  // waits for its background tasks: the old generation is deleted by now
    const auto used = store.stats().bytes_used;
    const auto opus = read_bytes(media_path("long.opus")).size();
    EXPECT_GE(used, opus);
    EXPECT_LT(used, opus + 4096) << "the old generation still counts";
}

// When the invalidated generation could not be deleted at once (the background queue was full),
// the next open deletes it.
TEST(file, next_open_deletes_an_old_generation_left_behind) {
    http_server srv;
    const auto mp3 = read_bytes(media_path("long.mp3"));
    const auto opus = read_bytes(media_path("long.opus"));
    srv.put("/g", mp3);
    file_env env;
    auto store = env.open_store();
    auto o = file_env::quick_options();
    {
        auto src = file::open(srv.url("/g"), store, *env.client, o);
        ASSERT_TRUE(src);
        ASSERT_TRUE(decode_all(*src));
    }
    srv.put("/g", opus);
    full_pool pool;
    o.background = &pool.pool;
    {
        auto src = file::open(srv.url("/g"), store, *env.client, o);
        ASSERT_TRUE(src) << src.error().message();
        ASSERT_TRUE(decode_all(*src));
    }
    pool.release();
    EXPECT_GE(store.stats().bytes_used, mp3.size() + opus.size());  // both generations
    o.background = nullptr;
    {
        auto src = file::open(srv.url("/g"), store, *env.client, o);
        ASSERT_TRUE(src) << src.error().message();
        EXPECT_TRUE(plays_as_local(*src, "long.opus"));
    }
    EXPECT_LT(store.stats().bytes_used, opus.size() + 4096);
}

TEST(file, server_without_range_support_still_plays_whole) {
    http_server srv;
    srv.put("/n.m4a", read_bytes(media_path("long.m4a")));  // moov at the end: needs a jump
    fault f;
    f.ignore_range = true;
    srv.add_fault("/n.m4a", f, 1, 0);
    file_env env;
    auto store = env.open_store();
    auto src = file::open(srv.url("/n.m4a"), store, *env.client, file_env::quick_options());
    ASSERT_TRUE(src) << src.error().message();
    EXPECT_TRUE(plays_as_local(*src, "long.m4a"));
}

TEST(file, chunked_response_of_unknown_length_plays_whole) {
    const std::string body = read_bytes(media_path("long.flac"));
    http_server srv;
    srv.put("/u.flac", body);
    fault f;
    f.chunked = true;
    srv.add_fault("/u.flac", f, 1, 0);
    file_env env;
    auto store = env.open_store();
    auto src = file::open(srv.url("/u.flac"), store, *env.client, file_env::quick_options());
    ASSERT_TRUE(src) << src.error().message();
    EXPECT_TRUE(plays_as_local(*src, "long.flac"));
    EXPECT_EQ((*src)->length(), body.size());
}

TEST(file, not_found_is_a_clear_error) {
    http_server srv;
    file_env env;
    auto store = env.open_store();
    auto src = file::open(srv.url("/missing.mp3"), store, *env.client, file_env::quick_options());
    ASSERT_FALSE(src);
    EXPECT_EQ(net::http_status_of(src.error()), 404) << src.error().message();
}

TEST(file, exhausted_retries_fail_the_decode_never_a_short_result) {
    http_server srv;
    srv.put("/x.flac", read_bytes(media_path("long.flac")));
    // Every request after the first dies before sending a byte.
    srv.add_fault("/x.flac", {.drop_after = 200 * 1024}, 1, 1);
    srv.add_fault("/x.flac", {.status = 503}, 2, 0);
    file_env env;
    auto store = env.open_store();
    auto o = file_env::quick_options();
    o.request.retry.max_retries = 2;
    auto src = file::open(srv.url("/x.flac"), store, *env.client, o);
    ASSERT_TRUE(src) << src.error().message();
    auto pcm = decode_all(*src);
    ASSERT_FALSE(pcm) << "decoded " << pcm->size() << " samples of a file that cannot be whole";
    EXPECT_NE(pcm.error().message().find("503"), std::string::npos) << pcm.error().message();
}

TEST(file, content_changed_mid_play_fails) {
    const std::string body = read_bytes(media_path("long.flac"));
    http_server srv;
    srv.put("/m.flac", body);
    fault f;
    f.drop_after = 300 * 1024;
    f.replace_after = read_bytes(media_path("long.opus"));
    srv.add_fault("/m.flac", f, 1, 1);
    file_env env;
    auto store = env.open_store();
    auto src = file::open(srv.url("/m.flac"), store, *env.client, file_env::quick_options());
    ASSERT_TRUE(src) << src.error().message();
    auto pcm = decode_all(*src);
    ASSERT_FALSE(pcm);
}

}  // namespace
}  // namespace kithara::test
