// pcm_digest FILE...: decodes each file with kithara::decode (native rate and channels, float32)
// and prints "<name> <frames> <rate> <channels> <fnv1a-64 of the PCM bytes>". Built twice, over
// the bundled and over the system FFmpeg; ffmpeg_modes.cmake compares the two outputs.
#include <kithara/decode/decoder.hpp>
#include <kithara/stream/memory_source.hpp>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    int status = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string path = argv[i];
        std::ifstream in(path, std::ios::binary);
        std::vector<char> raw((std::istreambuf_iterator<char>(in)), {});
        std::vector<std::byte> bytes(raw.size());
        for (std::size_t k = 0; k < raw.size(); ++k) bytes[k] = static_cast<std::byte>(raw[k]);
        auto dec = kithara::decode::decoder::open(kithara::stream::memory_source::create(bytes));
        if (!dec) {
            std::fprintf(stderr, "%s: %s\n", path.c_str(), dec.error().message().c_str());
            status = 1;
            continue;
        }
        std::uint64_t hash = 14695981039346656037ULL;
        std::uint64_t frames = 0;
        for (;;) {
            auto chunk = (*dec)->next();
            if (!chunk) {
                std::fprintf(stderr, "%s: %s\n", path.c_str(), chunk.error().message().c_str());
                status = 1;
                break;
            }
            if (!*chunk) break;
            const auto& c = **chunk;
            const auto* p = reinterpret_cast<const unsigned char*>(c.samples.data());
            for (std::size_t k = 0; k < c.samples.size() * sizeof(float); ++k) {
                hash = (hash ^ p[k]) * 1099511628211ULL;
            }
            frames += c.samples.size() / c.channels;
        }
        const auto& info = (*dec)->info();
        std::printf("%s %llu %u %u %016llx\n", path.substr(path.find_last_of('/') + 1).c_str(),
                    static_cast<unsigned long long>(frames), info.output_rate, info.output_channels,
                    static_cast<unsigned long long>(hash));
    }
    return status;
}
