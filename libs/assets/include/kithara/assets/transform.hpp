// Whole-resource transforms for processed resources, and AES-128-CBC decryption (HLS AES-128).
//
//   auto t = kithara::assets::aes128_cbc_transform(key16, kithara::assets::hls_iv(media_seq));
//   auto clear = t->apply(ciphertext);                 // or via asset_handle::read_processed
//   auto direct = kithara::assets::aes128_cbc_decrypt(ciphertext, key16, iv16);
//
// Pure functions; any thread. A transform's apply() may be called from any thread, concurrently
// for different resources, and must be thread-safe. The caller owns input and output buffers.
// Keys are never logged: a transform's name carries only a hash of its parameters.
#pragma once

#include <kithara/assets/export.hpp>
#include <kithara/core/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kithara::assets {

// A deterministic function of a whole resource. name identifies the output on disk: two transforms
// with the same name must produce the same output for the same input.
struct transform {
    std::string name;
    std::function<result<std::vector<std::byte>>(std::span<const std::byte> input)> apply;
};

// AES-128-CBC decryption with PKCS#7 padding (OpenSSL EVP). key and iv must be 16 bytes
// (errc::bad_key otherwise). A ciphertext that is empty, not a multiple of 16 bytes, or whose
// padding is invalid (almost always the sign of a wrong key) gives errc::decrypt_failed and no
// output. CBC has no integrity check: a wrong key passes the padding check with probability about
// 1/256, exactly as in every HLS player; the output is then noise, never a partial result.
// cbc_padding::none (whole blocks, no padding removed) exists for test vectors and raw streams.
enum class cbc_padding { pkcs7, none };
[[nodiscard]] KITHARA_ASSETS_EXPORT result<std::vector<std::byte>> aes128_cbc_decrypt(
    std::span<const std::byte> ciphertext, std::span<const std::uint8_t> key,
    std::span<const std::uint8_t> iv, cbc_padding padding = cbc_padding::pkcs7);

// The HLS default IV when EXT-X-KEY has no IV attribute: the media sequence number as a 128-bit
// big-endian integer.
[[nodiscard]] KITHARA_ASSETS_EXPORT std::array<std::uint8_t, 16> hls_iv(
    std::uint64_t media_sequence) noexcept;

// A transform that decrypts with aes128_cbc_decrypt. Its name is "aes-128-cbc/" plus 16 hex digits
// of a SHA-256 of key and IV (the key itself never appears). errc::bad_key on wrong sizes.
[[nodiscard]] KITHARA_ASSETS_EXPORT result<transform> aes128_cbc_transform(
    std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv);

}  // namespace kithara::assets
