// AES-128-CBC for HLS (EXT-X-KEY METHOD=AES-128): a streaming decryptor that releases clear bytes
// block by block as ciphertext arrives, the whole-buffer form, the HLS default IV, and an
// assets::transform for processed (decrypted) cached resources.
//
//   auto d = kithara::hls::aes128_cbc_decryptor::create(key16, kithara::hls::hls_iv(seq)).value();
//   std::size_t n = d.update(chunk, out).value();  // out holds chunk.size() + 16 bytes
//   std::size_t last = d.finish(tail).value();     // padding checked and removed; tail >= 16 bytes
//
// Threads: the free functions from any thread; one decryptor is used by one thread at a time
// (move it between threads freely). Locks: none. Buffers: the caller owns input and output; the
// decryptor holds at most one block of state (OpenSSL's context). Keys are never logged or put in
// error messages; a transform's name carries only a hash of key and IV.
#pragma once

#include <kithara/assets/transform.hpp>
#include <kithara/core/result.hpp>
#include <kithara/hls/export.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace kithara::hls {

inline constexpr std::size_t aes_block_size = 16;

// PKCS#7 (HLS) or none (whole blocks, nothing removed: test vectors, raw streams).
enum class cbc_padding { pkcs7, none };

// The HLS IV when EXT-X-KEY has no IV attribute: the media sequence number as a 128-bit
// big-endian integer (RFC 8216 5.2).
[[nodiscard]] KITHARA_HLS_EXPORT std::array<std::uint8_t, 16> hls_iv(
    std::uint64_t media_sequence) noexcept;

// Decrypts a ciphertext that arrives in pieces of any size. CBC needs only the previous
// ciphertext block, so every complete block is released as soon as it arrives; with PKCS#7 the
// last complete block is held back until more input comes or finish() (it may be the padding).
// A BYTERANGE sub-range is decrypted the same way (it is a whole CBC message of its own).
class KITHARA_HLS_EXPORT aes128_cbc_decryptor {
public:
    // errc::bad_key unless key and iv are 16 bytes each.
    [[nodiscard]] static result<aes128_cbc_decryptor> create(
        std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
        cbc_padding padding = cbc_padding::pkcs7);
    aes128_cbc_decryptor(aes128_cbc_decryptor&&) noexcept;
    aes128_cbc_decryptor& operator=(aes128_cbc_decryptor&&) noexcept;
    ~aes128_cbc_decryptor();

    // Writes the clear bytes `in` releases to `out` (at most in.size() + 15 bytes; `out` must
    // hold in.size() + aes_block_size, errc::invalid_value otherwise) and returns their count.
    result<std::size_t> update(std::span<const std::byte> in, std::span<std::byte> out);

    // The end of the ciphertext: writes the held-back bytes (at most 16; `out` must hold 16).
    // errc::decrypt_failed when the ciphertext was empty or not a whole number of blocks, or the
    // padding is invalid (almost always a wrong key or IV); nothing is released then.
    result<std::size_t> finish(std::span<std::byte> out);

    // Starts a new message with the same key (the next segment): no allocation.
    result<void> restart(std::span<const std::uint8_t> iv);

    // Ciphertext bytes consumed since create()/restart().
    [[nodiscard]] std::uint64_t consumed() const noexcept { return consumed_; }

private:
    struct context;
    struct context_deleter {
        void operator()(context* c) const noexcept;
    };
    aes128_cbc_decryptor(std::unique_ptr<context, context_deleter> ctx, cbc_padding padding);

    std::unique_ptr<context, context_deleter> ctx_;
    cbc_padding padding_;
    std::uint64_t consumed_ = 0;
};

// The whole-buffer form. errc::bad_key on wrong key/IV sizes; errc::decrypt_failed when the
// ciphertext is empty, not a multiple of 16 bytes, or badly padded, with no output. CBC has no
// integrity check: a wrong key passes the padding check with probability about 1/256, as in
// every HLS player; the output is then noise, never a partial result.
[[nodiscard]] KITHARA_HLS_EXPORT result<std::vector<std::byte>> aes128_cbc_decrypt(
    std::span<const std::byte> ciphertext, std::span<const std::uint8_t> key,
    std::span<const std::uint8_t> iv, cbc_padding padding = cbc_padding::pkcs7);

// A processed-resource transform (assets::asset_handle::read_processed) that decrypts a whole
// cached segment. Its name is "aes-128-cbc/" plus 16 hex digits of assets::processed_key over key
// and IV (the key never appears; the same name as before the move, so cached outputs stay valid).
[[nodiscard]] KITHARA_HLS_EXPORT result<assets::transform> aes128_cbc_transform(
    std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv);

}  // namespace kithara::hls
