#include <kithara/assets/transform.hpp>

#include <kithara/assets/error.hpp>
#include <kithara/assets/key.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <string_view>

namespace kithara::assets {
namespace {

struct ctx_deleter {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};

}  // namespace

result<std::vector<std::byte>> aes128_cbc_decrypt(std::span<const std::byte> ciphertext,
                                                  std::span<const std::uint8_t> key,
                                                  std::span<const std::uint8_t> iv,
                                                  cbc_padding padding) {
    if (key.size() != 16 || iv.size() != 16) {
        return fail(errc::bad_key, "aes-128-cbc needs a 16-byte key and IV, got " +
                                       std::to_string(key.size()) + " and " +
                                       std::to_string(iv.size()) + " bytes");
    }
    if (ciphertext.empty() || ciphertext.size() % 16 != 0) {
        return fail(errc::decrypt_failed, "aes-128-cbc ciphertext of " +
                                              std::to_string(ciphertext.size()) +
                                              " bytes is not a positive multiple of 16");
    }
    std::unique_ptr<EVP_CIPHER_CTX, ctx_deleter> ctx(EVP_CIPHER_CTX_new());
    if (!ctx ||
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, key.data(), iv.data()) != 1) {
        return fail(errc::decrypt_failed, "aes-128-cbc: EVP init failed");
    }
    EVP_CIPHER_CTX_set_padding(ctx.get(), padding == cbc_padding::pkcs7 ? 1 : 0);
    std::vector<std::byte> out(ciphertext.size() + 16);
    std::size_t produced = 0;
    constexpr std::size_t chunk = std::size_t{1} << 26;  // keeps EVP's int lengths in range
    for (std::size_t pos = 0; pos < ciphertext.size(); pos += chunk) {
        const std::size_t n = std::min(chunk, ciphertext.size() - pos);
        int written = 0;
        if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data() + produced),
                              &written,
                              reinterpret_cast<const unsigned char*>(ciphertext.data() + pos),
                              static_cast<int>(n)) != 1) {
            return fail(errc::decrypt_failed, "aes-128-cbc: decrypt update failed");
        }
        produced += static_cast<std::size_t>(written);
    }
    int last = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data() + produced),
                            &last) != 1) {
        return fail(errc::decrypt_failed, "aes-128-cbc: bad PKCS#7 padding in " +
                                              std::to_string(ciphertext.size()) +
                                              " bytes (wrong key or IV, or corrupt data)");
    }
    produced += static_cast<std::size_t>(last);
    out.resize(produced);
    return out;
}

std::array<std::uint8_t, 16> hls_iv(std::uint64_t media_sequence) noexcept {
    std::array<std::uint8_t, 16> iv{};
    for (int i = 0; i < 8; ++i) {
        iv[static_cast<std::size_t>(15 - i)] = static_cast<std::uint8_t>(media_sequence >> (8 * i));
    }
    return iv;
}

result<transform> aes128_cbc_transform(std::span<const std::uint8_t> key,
                                       std::span<const std::uint8_t> iv) {
    if (key.size() != 16 || iv.size() != 16) {
        return fail(errc::bad_key, "aes-128-cbc needs a 16-byte key and IV, got " +
                                       std::to_string(key.size()) + " and " +
                                       std::to_string(iv.size()) + " bytes");
    }
    std::array<std::uint8_t, 16> k{}, v{};
    std::copy(key.begin(), key.end(), k.begin());
    std::copy(iv.begin(), iv.end(), v.begin());
    std::string material(32, '\0');
    std::copy(k.begin(), k.end(), material.begin());
    std::copy(v.begin(), v.end(), material.begin() + 16);
    const std::string tag = processed_key(material, "aes-128-cbc").hex().substr(0, 16);
    std::fill(material.begin(), material.end(), '\0');
    transform t;
    t.name = "aes-128-cbc/" + tag;
    t.apply = [k, v](std::span<const std::byte> input) { return aes128_cbc_decrypt(input, k, v); };
    return t;
}

}  // namespace kithara::assets
