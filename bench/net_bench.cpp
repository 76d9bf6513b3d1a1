// kithara::net benchmarks over loopback (in-process test server):
//   BM_download/<MiB>        throughput of one GET into a discarding sink
//   BM_request_latency/<reuse>  per-request latency of a 1 KiB GET with (1) and without (0)
//                               connection reuse
// Also `net_bench --fetch <url>`: one GET to a discarding sink, for whole-process comparisons
// with the curl CLI (bench/net_vs_curl.sh).
#include <kithara/net/client.hpp>

#include "../tests/support/io_thread.hpp"
#include "../tests/support/test_server.hpp"

#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace {

using namespace kithara;

// Counts and drops the body; completion wakes the waiting thread.
class discard_sink : public net::sink {
public:
    result<> on_response(const net::response_head&) override { return {}; }
    result<> on_data(std::uint64_t, std::span<const std::byte> bytes) override {
        bytes_ += bytes.size();
        return {};
    }
    result<> on_restart(const net::response_head&) override {
        bytes_ = 0;
        return {};
    }
    void on_complete(result<net::transfer_stats> outcome) override {
        std::lock_guard lock(mutex_);
        ok_ = outcome.has_value();
        if (!ok_) std::fprintf(stderr, "%s\n", outcome.error().message().c_str());
        done_ = true;
        cv_.notify_all();
    }
    bool wait() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return done_; });
        return ok_;
    }
    std::uint64_t bytes() const { return bytes_; }

private:
    std::uint64_t bytes_ = 0;  // executor only; read after wait()
    std::mutex mutex_;         // guards done_, ok_
    std::condition_variable cv_;
    bool done_ = false, ok_ = false;
};

bool fetch_discard(net::client& c, const std::string& url, bool reuse, std::uint64_t* bytes) {
    auto s = std::make_shared<discard_sink>();
    net::request req;
    req.url = url;
    req.options.reuse_connection = reuse;
    c.start(req, s);
    bool ok = s->wait();
    if (bytes) *bytes = s->bytes();
    return ok;
}

void BM_download(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0)) << 20;
    test::http_server server;
    server.put("/big.bin", test::make_body(size));
    test::io_thread io;
    net::client c{io.executor()};
    for (auto _ : state) {
        std::uint64_t got = 0;
        if (!fetch_discard(c, server.url("/big.bin"), true, &got) || got != size)
            state.SkipWithError("download failed");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(size));
}
BENCHMARK(BM_download)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_request_latency(benchmark::State& state) {
    const bool reuse = state.range(0) != 0;
    test::http_server server;
    server.put("/small.bin", test::make_body(1024));
    test::io_thread io;
    net::client c{io.executor()};
    for (auto _ : state) {
        if (!fetch_discard(c, server.url("/small.bin"), reuse, nullptr))
            state.SkipWithError("request failed");
    }
}
BENCHMARK(BM_request_latency)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--fetch") == 0) {
        test::io_thread io;
        net::client c{io.executor()};
        std::uint64_t bytes = 0;
        bool ok = fetch_discard(c, argv[2], true, &bytes);
        return ok && bytes > 0 ? 0 : 1;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
