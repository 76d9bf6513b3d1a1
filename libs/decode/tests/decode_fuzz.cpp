// libFuzzer target over the demux/decode entry: the input is a whole media file in memory.
// The first byte (when present) also picks output options and a seek, so the conversion and seek
// paths are exercised too, and sequential mode. Built in the asan preset only (clang,
// -fsanitize=fuzzer).
#include <kithara/decode/decoder.hpp>
#include <kithara/stream/memory_source.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

extern "C" void av_log_set_level(int level);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = [] {
        av_log_set_level(-8);  // AV_LOG_QUIET
        return true;
    }();
    (void)quiet;
    if (size < 1) return 0;
    const std::uint8_t mode = data[0];
    // Bit 4: name the container from the magic bytes, as a protocol layer would (no probing, no
    // stream analysis when the header suffices, Kithara's own FLAC framing).
    kithara::stream::media_hints hints;
    if ((mode & 16) != 0 && size >= 5) {
        const std::string_view magic(reinterpret_cast<const char*>(data + 1), 4);
        if (magic == "fLaC") hints.container = "flac";
        if (magic == "OggS") hints.container = "ogg";
        if (magic.substr(0, 3) == "ID3" || (data[1] == 0xFF && (data[2] & 0xE0) == 0xE0))
            hints.container = "mp3";
        if (magic == "RIFF") hints.container = "wav";
        if (data[1] == 0x47) hints.container = "mpegts";
        if (size >= 9 && std::string_view(reinterpret_cast<const char*>(data + 5), 4) == "ftyp")
            hints.container = "mov";
    }
    auto src =
        kithara::stream::memory_source::borrow(std::as_bytes(std::span(data + 1, size - 1)), hints);
    kithara::decode::decoder_options o;
    o.reader.prefetch_bytes = 0;
    o.chunk_frames = 1024;
    if ((mode & 1) != 0) o.sample_rate = 22050;
    if ((mode & 2) != 0) o.channels = 1;
    if ((mode & 4) != 0) o.channels = 3;
    // Bit 5 without a seek (bits 5-7 are the seek time otherwise): sequential mode, as HLS
    // segments are decoded (non-seekable input, no analysis once the header names the codec).
    if ((mode & 8) == 0 && (mode & 32) != 0) o.sequential = true;
    auto dec = kithara::decode::decoder::open(src, o);
    if (!dec) return 0;
    for (int i = 0; i < 400; ++i) {
        if (i == 3 && (mode & 8) != 0) {
            (void)(*dec)->seek(std::chrono::milliseconds((mode >> 5) * 100));
        }
        auto c = (*dec)->next();
        if (!c || !*c) break;
        const auto& chunk = **c;
        if (chunk.channels == 0 || chunk.samples.size() % chunk.channels != 0) __builtin_trap();
    }
    return 0;
}
