// pool_demo: a producer thread fills pooled sample buffers, a consumer sums and returns them;
// prints what the pool did. Exercises the layers built so far until the playback examples land.
#include <kithara/bufpool/pool.hpp>

#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <numbers>
#include <thread>

int main() {
    auto& pool = kithara::bufpool::default_sample_pool();
    constexpr std::size_t chunk_frames = 4096;
    constexpr int chunks = 2000;
    std::mutex m;
    std::condition_variable cv;
    std::deque<kithara::bufpool::sample_buffer> queue;  // bounded to 8 chunks
    std::thread producer([&] {
        double phase = 0;
        for (int i = 0; i < chunks; ++i) {
            auto buf = pool.get(chunk_frames);
            for (auto& s : buf) {
                s = static_cast<float>(std::sin(phase));
                phase += 2 * std::numbers::pi * 440.0 / 48000.0;
            }
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return queue.size() < 8; });
            queue.push_back(std::move(buf));
            cv.notify_all();
        }
    });
    double energy = 0;
    for (int i = 0; i < chunks; ++i) {
        kithara::bufpool::sample_buffer buf;
        {
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return !queue.empty(); });
            buf = std::move(queue.front());
            queue.pop_front();
            cv.notify_all();
        }
        for (float s : buf) energy += static_cast<double>(s) * s;
    }
    producer.join();
    const auto st = pool.stats();
    const double rms = std::sqrt(energy / (chunks * static_cast<double>(chunk_frames)));
    std::printf("440 Hz sine, %d chunks of %zu frames: RMS %.4f (expected 0.7071)\n", chunks,
                chunk_frames, rms);
    std::printf("pool: %llu hits, %llu allocations, %zu bytes idle\n",
                static_cast<unsigned long long>(st.hits),
                static_cast<unsigned long long>(st.allocations), st.idle_bytes);
    return std::abs(rms - std::numbers::sqrt2 / 2) < 1e-3 && st.allocations <= 16 ? 0 : 1;
}
