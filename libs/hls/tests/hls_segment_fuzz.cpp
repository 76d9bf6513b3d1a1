// libFuzzer target over the HLS segment path: the input is a segment (any bytes), optionally
// AES-128-CBC encrypted here with random padding bytes and truncated at a random length, delivered
// in two parts (a prefix while the segment is still downloading, then the rest), read through the
// engine's decrypt_source and id3_skip_source (packed audio) and decoded by kithara::decode in
// sequential mode, as the engine does. Built in the asan preset only (clang, -fsanitize=fuzzer).
//
// Input: byte 0 mode, bytes 1-2 a 16-bit length (truncation point / first part), byte 3 the
// padding byte, then the segment.
//   mode bits 0-1  container hint: mpegts, mov, aac (ADTS), mp3
//   bit 2          AES-128: encrypt the segment (padding bytes = byte 3, not PKCS#7 unless bit 6)
//   bit 3          packed audio: read through id3_skip_source
//   bit 4          two parts: decrypt/read what the first part allows before the rest arrives
//   bit 5          truncate the (cipher)text at the 16-bit length
//   bit 6          proper PKCS#7 padding
// Checks beyond "no crash, no sanitizer report": decryption releases exactly the plaintext when
// the ciphertext is whole and its padding valid, and fails (never passes bytes on silently) when it
// is not; chunks are well-formed.
#include "detail/decrypt_source.hpp"
#include "detail/packed_audio.hpp"

#include <kithara/decode/decoder.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/storage/memory_resource.hpp>
#include <kithara/stream/concat_source.hpp>
#include <kithara/stream/error.hpp>
#include <kithara/stream/resource_source.hpp>

#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

extern "C" void av_log_set_level(int level);

namespace {

using namespace kithara;

constexpr std::array<std::uint8_t, 16> key{0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                           0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};
constexpr std::array<std::uint8_t, 16> iv{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

void check(bool ok) {
    if (!ok) std::abort();
}

// AES-128-CBC without OpenSSL's padding: the caller pads.
std::vector<std::byte> encrypt_raw(const std::vector<std::byte>& padded) {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), nullptr, key.data(), iv.data());
    EVP_CIPHER_CTX_set_padding(c, 0);
    std::vector<std::byte> out(padded.size() + 16);
    int n = 0, m = 0;
    EVP_EncryptUpdate(c, reinterpret_cast<unsigned char*>(out.data()), &n,
                      reinterpret_cast<const unsigned char*>(padded.data()),
                      static_cast<int>(padded.size()));
    EVP_EncryptFinal_ex(c, reinterpret_cast<unsigned char*>(out.data()) + n, &m);
    EVP_CIPHER_CTX_free(c);
    out.resize(static_cast<std::size_t>(n + m));
    return out;
}

// The clear bytes of a whole padded plaintext whose last byte declares PKCS#7 padding, or
// nullopt when that padding is invalid.
std::optional<std::vector<std::byte>> unpad(const std::vector<std::byte>& padded) {
    if (padded.empty() || padded.size() % 16 != 0) return std::nullopt;
    const auto v = static_cast<std::size_t>(padded.back());
    if (v < 1 || v > 16) return std::nullopt;
    for (std::size_t i = padded.size() - v; i < padded.size(); ++i)
        if (static_cast<std::size_t>(padded[i]) != v) return std::nullopt;
    return std::vector<std::byte>(padded.begin(), padded.end() - static_cast<std::ptrdiff_t>(v));
}

// Everything a source gives from 0 (never blocking: a deadline of now), and whether it failed.
struct drained {
    std::vector<std::byte> bytes;
    bool failed = false;
    bool complete = false;  // reached the end
};
drained read_out(stream::source& s) {
    drained d;
    std::byte buf[4096];
    for (int guard = 0; guard < 100000; ++guard) {
        const auto at = d.bytes.size();
        auto w = s.wait_range({at, at + sizeof buf}, std::chrono::steady_clock::now(), {});
        if (!w) {
            d.failed = true;
            return d;
        }
        if (*w == stream::wait_status::eof) {
            d.complete = true;
            return d;
        }
        if (*w != stream::wait_status::ready) return d;  // the rest is not there yet
        auto n = s.read_at(at, buf);
        if (!n) {
            d.failed = n.error().code() != stream::errc::not_available;
            return d;
        }
        if (*n == 0) {
            d.complete = true;
            return d;
        }
        d.bytes.insert(d.bytes.end(), buf, buf + *n);
    }
    check(false);  // a source that never ends
    return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = [] {
        av_log_set_level(-8);  // AV_LOG_QUIET
        return true;
    }();
    (void)quiet;
    if (size < 4) return 0;
    const std::uint8_t mode = data[0];
    const std::size_t cut = static_cast<std::size_t>(data[1]) << 8 | data[2];
    const auto pad_byte = static_cast<std::byte>(data[3]);
    const std::vector<std::byte> segment(reinterpret_cast<const std::byte*>(data + 4),
                                         reinterpret_cast<const std::byte*>(data + size));
    static constexpr const char* containers[] = {"mpegts", "mov", "aac", "mp3"};
    stream::media_hints hints;
    hints.container = containers[mode & 3];
    const bool encrypted = (mode & 4) != 0;
    const bool packed = (mode & 8) != 0;
    const bool two_parts = (mode & 16) != 0;
    const bool truncate = (mode & 32) != 0;
    const bool pkcs7 = (mode & 64) != 0;

    // What arrives over the network: the segment, or its ciphertext.
    std::vector<std::byte> wire = segment;
    std::optional<std::vector<std::byte>> expected_clear = segment;
    if (encrypted) {
        std::vector<std::byte> padded = segment;
        const std::size_t n = 16 - segment.size() % 16;
        padded.insert(padded.end(), n, pkcs7 ? static_cast<std::byte>(n) : pad_byte);
        wire = encrypt_raw(padded);
        if (truncate) {
            const std::size_t keep = cut % (wire.size() + 1);
            wire.resize(keep);
            padded.resize(keep);
        }
        expected_clear = unpad(padded);  // nullopt: decryption must fail
    } else if (truncate) {
        wire.resize(std::min(wire.size(), cut));
        expected_clear = wire;
    }

    auto res = std::shared_ptr<storage::resource>(storage::memory_resource::create());
    auto cipher = stream::resource_source::create(res, hints);
    std::shared_ptr<stream::source> src = cipher;
    std::shared_ptr<hls::detail::decrypt_source> clear;
    if (encrypted) {
        clear = hls::detail::decrypt_source::create(
            cipher, [] { return result<std::array<std::uint8_t, 16>>(key); }, iv,
            "segment fuzz.ts (media sequence 0)");
        src = clear;
    }
    const std::size_t first = two_parts ? std::min(wire.size(), cut) : wire.size();
    if (first > 0) check(res->write_at(0, std::span(wire).first(first)).has_value());
    if (two_parts) {
        // Part of the segment is there: whatever is released must be a prefix of the clear bytes
        // (AES: the last block held back until the padding is known).
        auto part = read_out(*src);
        if (encrypted && !part.failed && expected_clear) {
            check(part.bytes.size() <= expected_clear->size());
            check(part.bytes.empty() ||
                  std::memcmp(part.bytes.data(), expected_clear->data(), part.bytes.size()) == 0);
        }
        if (wire.size() > first)
            check(res->write_at(first, std::span(wire).subspan(first)).has_value());
    }
    check(res->commit(wire.size()).has_value());

    if (encrypted) {
        // Decryption alone: exactly the plaintext, or an error naming the segment.
        auto again = hls::detail::decrypt_source::create(
            stream::resource_source::create(res, hints),
            [] { return result<std::array<std::uint8_t, 16>>(key); }, iv,
            "segment fuzz.ts (media sequence 0)");
        auto all = read_out(*again);
        if (expected_clear && !wire.empty()) {
            check(!all.failed && all.complete);
            check(all.bytes == *expected_clear);
        } else if (!wire.empty()) {
            check(all.failed);  // bad padding or a partial block: an error, never bytes
        }
    }
    std::shared_ptr<hls::detail::id3_skip_source> raw;
    if (packed) {
        raw = std::make_shared<hls::detail::id3_skip_source>(src);
        src = raw;
    }

    auto cat = stream::concat_source::create(hints);
    if (!cat->append(src)) return 0;
    cat->finish();
    decode::decoder_options o;
    o.sequential = true;
    o.reader.prefetch_bytes = 0;
    o.chunk_frames = 1024;
    o.start_offset = std::chrono::seconds(7);
    auto dec = decode::decoder::open(cat, o);
    if (!dec) return 0;
    for (int i = 0; i < 400; ++i) {
        auto c = (*dec)->next();
        if (!c || !*c) break;
        const auto& chunk = **c;
        check(chunk.channels != 0 && chunk.samples.size() % chunk.channels == 0);
    }
    if (raw) (void)raw->timestamp_90k();
    return 0;
}
