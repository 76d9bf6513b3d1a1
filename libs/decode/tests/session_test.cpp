#include <kithara/decode/error.hpp>
#include <kithara/decode/session.hpp>
#include <kithara/storage/memory_resource.hpp>
#include <kithara/stream/resource_source.hpp>
#include <kithara/worker/error.hpp>

#include "decode_support.hpp"

#include <atomic>
#include <future>
#include <random>
#include <thread>

using namespace kithara;
using namespace kithara::decode;
using namespace kithara::decode::test;
using namespace std::chrono_literals;

namespace {

session_options session_opts(std::size_t chunk_frames = 1024) {
    session_options o;
    o.decoder = options();
    o.decoder.chunk_frames = chunk_frames;
    o.max_chunks = 4;
    o.max_bytes = 64 * 1024;
    return o;
}

std::vector<float> pull_all(session& s) {
    std::vector<float> out;
    for (;;) {
        auto c = s.pull(5s);
        EXPECT_TRUE(c) << c.error().message();
        if (!c || !*c) break;
        out.insert(out.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    return out;
}

// A resource filled by a thread in small pieces, with pauses.
struct dribbler {
    std::shared_ptr<storage::resource> res = storage::memory_resource::create();
    std::jthread thread;
    // commit_first: the length is known up front (an HTTP Content-Length), else only at the end.
    explicit dribbler(std::vector<std::byte> bytes, std::size_t stop_at = SIZE_MAX,
                      bool commit_first = false) {
        if (commit_first) {
            EXPECT_TRUE(res->commit(bytes.size()));
        }
        thread =
            std::jthread([this, b = std::move(bytes), stop_at, commit_first](std::stop_token st) {
                std::size_t off = 0;
                const std::size_t end = std::min(stop_at, b.size());
                while (off < end && !st.stop_requested()) {
                    const std::size_t n = std::min<std::size_t>(1500, end - off);
                    ASSERT_TRUE(res->write_at(off, std::span(b).subspan(off, n)));
                    off += n;
                    // Simulates a slow download (the decoder must block on the resource and
                    // resume); nothing polls: the reader waits on the resource's condition.
                    if ((off / 1500) % 8 == 0) std::this_thread::sleep_for(100us);
                }
                if (end == b.size() && !commit_first) {
                    ASSERT_TRUE(res->commit(b.size()));
                }
            });
    }
};

}  // namespace

TEST(streaming_decode, resource_still_being_written_gives_identical_pcm) {
    for (const bool known_length : {false, true}) {
        for (const char* f :
             {"tone.mp3", "tone_faststart.m4a", "tone.flac", "tone.opus", "tone.ogg"}) {
            const auto reference = decode_all(source_of(f));
            dribbler d(load(f), SIZE_MAX, known_length);
            auto o = options();
            o.reader.prefetch_bytes = 32 * 1024;
            auto got = decode_all(stream::resource_source::create(d.res), o);
            EXPECT_EQ(got.pcm, reference.pcm) << f;
            EXPECT_EQ(got.frames(), reference.frames()) << f << " known length " << known_length;
        }
    }
}

TEST(session, pulls_the_same_pcm_as_the_decoder) {
    const auto reference = decode_all(source_of("chirp.flac"));
    auto s = session::start(source_of("chirp.flac"), session_opts()).value();
    EXPECT_EQ(pull_all(*s), reference.pcm);
    EXPECT_EQ(s->info().source_rate, 44100u);
    EXPECT_EQ(s->stats().pcm_frames, reference.frames());
}

TEST(session, seek_storm_never_delivers_stale_pcm) {
    const auto full = decode_all(source_of("chirp.flac"));
    auto s = session::start(source_of("chirp.flac"), session_opts(512)).value();
    std::mt19937 rng(3);
    for (int i = 0; i < 100; ++i) {
        const std::size_t frame = rng() % (full.frames() - 4096);
        const auto at =
            std::chrono::nanoseconds(static_cast<std::int64_t>(frame) * 1'000'000'000 / full.rate);
        s->seek(at);
        const auto e = s->epoch();
        std::size_t pos = frame;
        const int pulls = 1 + static_cast<int>(rng() % 3);
        for (int p = 0; p < pulls; ++p) {
            auto c = s->pull(5s);
            ASSERT_TRUE(c) << c.error().message();
            ASSERT_TRUE(*c);
            ASSERT_EQ((*c)->epoch, e);
            if (p == 0) {
                ASSERT_EQ((*c)->start, at);
            }
            for (std::size_t k = 0; k < (*c)->samples.size(); ++k) {
                ASSERT_EQ((*c)->samples[k], full.pcm[pos * full.channels + k]) << "seek " << i;
            }
            pos += (*c)->frames();
        }
    }
}

TEST(session, queue_is_bounded_while_the_application_does_not_pull) {
    bufpool::sample_pool pool;
    auto o = session_opts(1024);
    o.decoder.pool = &pool;
    o.max_chunks = 3;
    auto s = session::start(source_of("chirp.flac"), o).value();
    // Waits until the decode thread has produced max_chunks + 1 chunks: three queued and the one
    // it holds while blocked on the full queue.
    const std::uint64_t blocked_at = (o.max_chunks + 1) * 1024;
    ASSERT_TRUE(s->wait_decoded(blocked_at, kithara::deadline_after(20s)))
        << "the decode thread never filled the queue";
    ASSERT_GE(s->stats().pcm_frames, blocked_at) << "the decode thread never filled the queue";
    // Queued chunks plus the one the decode thread holds while blocked on the full queue.
    EXPECT_LE(pool.stats().live_blocks, 4u);
    EXPECT_GE(pool.stats().live_blocks, 3u);
    EXPECT_EQ(s->stats().pcm_frames, blocked_at) << "decoded past the queue bound";
}

TEST(session, wait_decoded_returns_false_when_the_stream_ends_first) {
    auto o = session_opts();
    o.on_item = [](pull_result) {};  // callback mode: decoding never waits for the application
    auto s = session::start(source_of("tone.ogg"), o).value();
    EXPECT_TRUE(s->wait_decoded(1024, kithara::deadline_after(20s)));
    // Far more frames than the 2 s tone has: returns at the end of the stream, not the deadline.
    const auto before = std::chrono::steady_clock::now();
    EXPECT_FALSE(s->wait_decoded(1'000'000'000, kithara::deadline_after(60s)));
    EXPECT_LT(std::chrono::steady_clock::now() - before, 30s) << "waited for the deadline";
    const auto reference = decode_all(source_of("tone.ogg"));
    EXPECT_EQ(s->stats().pcm_frames, reference.pcm.size() / reference.channels);
}

TEST(session, callback_mode_delivers_every_chunk_then_the_end) {
    const auto reference = decode_all(source_of("tone.ogg"));
    std::mutex m;
    std::condition_variable cv;
    std::vector<float> got;
    bool ended = false;
    auto o = session_opts();
    o.on_item = [&](pull_result r) {
        std::lock_guard lk(m);
        ASSERT_TRUE(r);
        if (!*r) {
            ended = true;
            cv.notify_all();
            return;
        }
        got.insert(got.end(), (*r)->samples.begin(), (*r)->samples.end());
    };
    auto s = session::start(source_of("tone.ogg"), o).value();
    std::unique_lock lk(m);
    ASSERT_TRUE(cv.wait_for(lk, 10s, [&] { return ended; }));
    EXPECT_EQ(got, reference.pcm);
}

TEST(session, pull_times_out_while_the_source_stalls_and_stop_ends_it) {
    const auto bytes = load("tone.flac");
    dribbler d(bytes, bytes.size() * 2 / 3);  // the writer stops two thirds in
    stream::media_hints h;
    h.container = "flac";  // shortens probing to 64 KiB
    auto s = session::start(stream::resource_source::create(d.res, h), session_opts()).value();
    pull_result c = s->pull(2s);
    while (c && *c) c = s->pull(100ms);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error(), kithara::condition::timed_out) << c.error().message();
    EXPECT_EQ(s->try_pull().error(), worker::errc::empty);
    s->stop();
    auto after = s->pull(1s);
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error(), kithara::condition::closed);
}

TEST(session, decode_error_is_delivered_after_the_last_chunk) {
    auto bytes = load("tone_faststart.m4a");
    bytes.resize(bytes.size() / 2);
    auto s = session::start(stream::memory_source::create(bytes), session_opts()).value();
    std::size_t frames = 0;
    for (;;) {
        auto c = s->pull(5s);
        if (!c) {
            EXPECT_EQ(c.error(), errc::truncated) << c.error().message();
            break;
        }
        ASSERT_TRUE(*c);
        frames += (*c)->frames();
    }
    EXPECT_GT(frames, 20000u);
}

TEST(session, stop_from_the_callback_ends_the_session_without_deadlock) {
    std::promise<session*> started;
    std::shared_future<session*> self = started.get_future().share();
    std::atomic<int> items{0};
    std::mutex m;
    std::condition_variable cv;
    auto o = session_opts();
    o.on_item = [&](pull_result) {
        if (++items == 3) {
            ASSERT_EQ(self.wait_for(10s), std::future_status::ready);
            self.get()->stop();
            std::lock_guard lk(m);
            cv.notify_all();
        }
    };
    auto s = session::start(source_of("chirp.flac"), o).value();
    started.set_value(s.get());
    std::unique_lock lk(m);
    ASSERT_TRUE(cv.wait_for(lk, 10s, [&] { return items.load() >= 3; }));
    lk.unlock();
    s.reset();  // joins the (now ending) decode thread
    EXPECT_GE(items.load(), 3);
}
