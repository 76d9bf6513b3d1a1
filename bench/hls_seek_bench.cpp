// A seek into a cached HLS region, in process: hls_stream::seek(t) followed by the first next(),
// on a stream whose every segment is already in the asset store (issue 15: "a seek into a cached
// region returns the first PCM in <= 5 ms"). The fixture is fmp4_multi/a128.m3u8 (19.5 s, fMP4
// AAC 128k, 2 s segments) served by the project's loopback test server; positions cycle through
// 20 times across the stream, segment starts included.
//
//   build/default/bench/hls_seek_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <test_server.hpp>

#include <kithara/assets/asset_store.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace {

namespace fs = std::filesystem;

struct fixture {
    fs::path cache = fs::temp_directory_path() / "kithara_hls_seek_bench";
    kithara::test::http_server srv{fs::path(KITHARA_HLS_FIXTURES_DIR)};
    kithara::worker::io_runtime io;
    std::optional<kithara::net::client> client;
    std::optional<kithara::assets::asset_store> store;
    std::unique_ptr<kithara::hls::hls_stream> stream;

    fixture() {
        fs::remove_all(cache);
        if (!io.start()) std::abort();
        client.emplace(io.executor());
        store.emplace(kithara::assets::asset_store::open(cache).value());
        const auto url = srv.url("/fmp4_multi/a128.m3u8");
        {  // the whole stream into the cache first
            auto s = kithara::hls::open(url, *store, *client).value();
            for (;;) {
                auto c = s->next();
                if (!c) {
                    std::fprintf(stderr, "%s\n", c.error().message().c_str());
                    std::abort();
                }
                if (!*c) break;
            }
        }
        stream = kithara::hls::open(url, *store, *client).value();
    }
    ~fixture() {
        stream.reset();
        store.reset();
        client.reset();
        fs::remove_all(cache);
    }
};

void cached_seek_to_first_pcm(benchmark::State& state) {
    static fixture f;
    // 20 positions over the 19.5 s stream: segment starts (2.020136 s apart, the fixture's
    // EXTINF) and points inside segments.
    constexpr std::array<double, 20> at{0.0,      2.020136, 4.040272, 6.060408, 8.080544,
                                        10.10068, 12.12082, 14.14095, 16.16109, 18.18122,
                                        1.0,      3.3,      5.5,      7.7,      9.9,
                                        11.1,     13.3,     15.5,     17.7,     19.0};
    std::size_t i = 0;
    for (auto _ : state) {
        if (!f.stream->seek(at[i++ % at.size()])) state.SkipWithError("seek failed");
        auto c = f.stream->next();
        if (!c || !*c) state.SkipWithError("no PCM after the seek");
        benchmark::DoNotOptimize(c);
    }
    const auto st = f.stream->stats();
    state.counters["requests"] = static_cast<double>(st.requests);
}
BENCHMARK(cached_seek_to_first_pcm)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
