// output_sink: where an example writes its PCM: a float32 WAV, raw f32le or s16le, to a file, to
// stdout (`-`, e.g. `| aplay -f S16_LE -c2 -r48000`, `| ffplay -f s16le -ar 48000 -ac 2 -`) or
// nowhere (`null`).
//
//   auto sink = output_sink::open("-", sample_format::s16le);   // nullptr + *error on failure
//   sink->begin(48000, 2);  sink->write(chunk.samples);  sink->finish();
//
// Threads: one thread at a time. Locks: none. Buffers: write() converts through a scratch buffer
// the sink owns (grown to the largest chunk seen, reused after that).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::examples {

enum class sample_format { wav, f32le, s16le };

std::optional<sample_format> parse_sample_format(std::string_view name);
const char* to_string(sample_format f);

// Interleaved float32 in [-1, 1] to signed 16-bit: clip, then round (FFmpeg's conversion:
// lrintf(x * 32768) clipped to int16).
std::int16_t to_s16(float x);

// The float32 WAV header (WAVE_FORMAT_IEEE_FLOAT with a fact chunk): 58 bytes.
inline constexpr std::size_t wav_header_bytes = 58;

class output_sink {
public:
    // path: a file name, "-" (stdout) or "null" (discard). Returns nullptr and sets *error (a
    // message naming the path and the cause) if the file cannot be opened.
    static std::unique_ptr<output_sink> open(const std::string& path, sample_format format,
                                             std::string* error);
    ~output_sink();
    output_sink(const output_sink&) = delete;
    output_sink& operator=(const output_sink&) = delete;

    // Writes the header (wav only). False and error() on a write failure.
    bool begin(std::uint32_t rate, std::uint32_t channels);
    bool write(std::span<const float> samples);
    // Flushes; for a seekable wav patches the sizes in the header. Closes a file (not stdout).
    bool finish();

    [[nodiscard]] std::uint64_t bytes_written() const { return bytes_; }
    [[nodiscard]] bool discards() const { return f_ == nullptr; }
    [[nodiscard]] const std::string& error() const { return error_; }

private:
    output_sink(std::FILE* f, bool owned, sample_format format, std::string path);
    bool write_wav_header(std::uint32_t data_bytes);
    bool fail(const char* what);

    std::FILE* f_;
    bool owned_;
    sample_format format_;
    std::string path_;
    std::uint32_t rate_ = 0;
    std::uint32_t channels_ = 0;
    std::uint64_t bytes_ = 0;  // PCM bytes after the header
    std::vector<std::int16_t> s16_;
    std::string error_;
};

}  // namespace kithara::examples
