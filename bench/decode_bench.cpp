// kithara::decode benchmarks: whole-file decode throughput per codec (compare with
// bench/decode_vs_ffmpeg.sh), and the resampler's cost per second of audio.
//
//   KITHARA_BENCH_MEDIA=/tmp/kithara-bench-media build/default/bench/decode_bench
//
// Files are read from disk through a pread-backed stream::source (page cache warm after the first
// iteration, as for the ffmpeg CLI). Counters: audio seconds decoded per wall second (x_realtime),
// packets per second of audio, chunk-pool allocations.
#include <kithara/decode/decoder.hpp>
#include <kithara/stream/source.hpp>

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace kithara;

class file_source final : public stream::source {
public:
    explicit file_source(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY)) {
        struct stat st {};
        if (fd_ >= 0 && ::fstat(fd_, &st) == 0) size_ = static_cast<std::uint64_t>(st.st_size);
    }
    ~file_source() override {
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] std::optional<std::uint64_t> length() const override { return size_; }
    result<stream::wait_status> wait_range(stream::byte_range r, std::optional<stream::deadline>,
                                           std::stop_token) override {
        return r.begin >= size_ && !r.empty() ? stream::wait_status::eof
                                              : stream::wait_status::ready;
    }
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override {
        if (offset >= size_) return std::size_t{0};
        const auto n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
        if (n < 0) return fail(std::error_code(errno, std::system_category()), "pread");
        return static_cast<std::size_t>(n);
    }

private:
    int fd_;
    std::uint64_t size_ = 0;
};

std::string media_dir() {
    if (const char* d = std::getenv("KITHARA_BENCH_MEDIA")) return d;
    return "/tmp/kithara-bench-media";
}

void decode_file(benchmark::State& state, const std::string& path, std::uint32_t rate,
                 decode::resample_quality q, unsigned threads = 1) {
    double audio_seconds = 0;
    std::uint64_t packets = 0;
    std::uint64_t growths = 0;
    for (auto _ : state) {
        decode::decoder_options o;
        o.sample_rate = rate;
        o.quality = q;
        o.codec_threads = threads;
        o.reader.prefetch_bytes = 0;
        auto dec = decode::decoder::open(std::make_shared<file_source>(path), o);
        if (!dec) {
            state.SkipWithError(dec.error().message().c_str());
            return;
        }
        std::uint64_t frames = 0;
        std::uint32_t out_rate = 0;
        for (;;) {
            auto c = (*dec)->next();
            if (!c) {
                state.SkipWithError(c.error().message().c_str());
                return;
            }
            if (!*c) break;
            frames += (*c)->frames();
            out_rate = (*c)->sample_rate;
            benchmark::DoNotOptimize((*c)->samples.data());
        }
        audio_seconds += static_cast<double>(frames) / out_rate;
        packets += (*dec)->stats().packets;
        growths += (*dec)->stats().buffer_growths;
    }
    state.counters["x_realtime"] = benchmark::Counter(audio_seconds, benchmark::Counter::kIsRate);
    state.counters["packets_per_audio_s"] = static_cast<double>(packets) / audio_seconds;
    state.counters["scratch_growths_per_file"] =
        static_cast<double>(growths) / static_cast<double>(state.iterations());
}

int register_all() {
    namespace fs = std::filesystem;
    const auto dir = media_dir();
    if (!fs::exists(dir)) return 0;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() != ".f32") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        const auto name = fs::path(f).filename().string();
        benchmark::RegisterBenchmark(("decode/" + name).c_str(), [f](benchmark::State& s) {
            decode_file(s, f, 0, decode::resample_quality::medium);
        })->Unit(benchmark::kMillisecond);
        // FFmpeg's automatic threading, as the ffmpeg CLI uses by default.
        benchmark::RegisterBenchmark(
            ("decode_auto_threads/" + name).c_str(),
            [f](benchmark::State& s) { decode_file(s, f, 0, decode::resample_quality::medium, 0); })
            ->Unit(benchmark::kMillisecond);
    }
    // Resampler cost: the WAV decode (almost free) at its native rate versus converted to 48 kHz.
    const auto wav = dir + "/bench.wav";
    if (fs::exists(wav)) {
        struct q_name {
            decode::resample_quality q;
            const char* name;
        };
        for (auto [q, n] : {q_name{decode::resample_quality::best, "best"},
                            q_name{decode::resample_quality::medium, "medium"},
                            q_name{decode::resample_quality::fastest, "fastest"},
                            q_name{decode::resample_quality::linear, "linear"}}) {
            benchmark::RegisterBenchmark(
                (std::string("resample_44k1_to_48k/") + n).c_str(),
                [wav, q = q](benchmark::State& s) { decode_file(s, wav, 48000, q); })
                ->Unit(benchmark::kMillisecond);
        }
    }
    return 0;
}

const int registered = register_all();

}  // namespace

BENCHMARK_MAIN();
