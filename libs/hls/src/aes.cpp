#include <kithara/hls/aes.hpp>

#include <kithara/assets/key.hpp>
#include <kithara/hls/error.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <string>

namespace kithara::hls {
namespace {

constexpr std::size_t evp_chunk = std::size_t{1} << 26;  // keeps EVP's int lengths in range

unexpected bad_sizes(std::size_t key, std::size_t iv) {
    return fail(errc::bad_key, "aes-128-cbc needs a 16-byte key and IV, got " +
                                   std::to_string(key) + " and " + std::to_string(iv) + " bytes");
}

auto* uc(std::byte* p) {
    return reinterpret_cast<unsigned char*>(p);
}
auto* uc(const std::byte* p) {
    return reinterpret_cast<const unsigned char*>(p);
}

}  // namespace

struct aes128_cbc_decryptor::context {
    EVP_CIPHER_CTX* evp = nullptr;
};

void aes128_cbc_decryptor::context_deleter::operator()(context* c) const noexcept {
    if (c == nullptr) return;
    EVP_CIPHER_CTX_free(c->evp);  // clears the key schedule
    delete c;
}

aes128_cbc_decryptor::aes128_cbc_decryptor(std::unique_ptr<context, context_deleter> ctx,
                                           cbc_padding padding)
    : ctx_(std::move(ctx)), padding_(padding) {}
aes128_cbc_decryptor::aes128_cbc_decryptor(aes128_cbc_decryptor&&) noexcept = default;
aes128_cbc_decryptor& aes128_cbc_decryptor::operator=(aes128_cbc_decryptor&&) noexcept = default;
aes128_cbc_decryptor::~aes128_cbc_decryptor() = default;

result<aes128_cbc_decryptor> aes128_cbc_decryptor::create(std::span<const std::uint8_t> key,
                                                          std::span<const std::uint8_t> iv,
                                                          cbc_padding padding) {
    if (key.size() != 16 || iv.size() != 16) return bad_sizes(key.size(), iv.size());
    std::unique_ptr<context, context_deleter> ctx(new context);
    ctx->evp = EVP_CIPHER_CTX_new();
    if (ctx->evp == nullptr ||
        EVP_DecryptInit_ex(ctx->evp, EVP_aes_128_cbc(), nullptr, key.data(), iv.data()) != 1) {
        return fail(errc::decrypt_failed, "aes-128-cbc: EVP init failed");
    }
    EVP_CIPHER_CTX_set_padding(ctx->evp, padding == cbc_padding::pkcs7 ? 1 : 0);
    return aes128_cbc_decryptor(std::move(ctx), padding);
}

result<void> aes128_cbc_decryptor::restart(std::span<const std::uint8_t> iv) {
    if (iv.size() != 16) return bad_sizes(16, iv.size());
    // A null cipher and key keep the key schedule; only the IV and the buffered state change.
    if (EVP_DecryptInit_ex(ctx_->evp, nullptr, nullptr, nullptr, iv.data()) != 1) {
        return fail(errc::decrypt_failed, "aes-128-cbc: EVP restart failed");
    }
    EVP_CIPHER_CTX_set_padding(ctx_->evp, padding_ == cbc_padding::pkcs7 ? 1 : 0);
    consumed_ = 0;
    return {};
}

result<std::size_t> aes128_cbc_decryptor::update(std::span<const std::byte> in,
                                                 std::span<std::byte> out) {
    if (out.size() < in.size() + aes_block_size) {
        return fail(errc::invalid_value, "aes-128-cbc: output of " + std::to_string(out.size()) +
                                             " bytes for " + std::to_string(in.size()) +
                                             " input bytes (needs input + 16)");
    }
    std::size_t produced = 0;
    for (std::size_t pos = 0; pos < in.size(); pos += evp_chunk) {
        const std::size_t n = std::min(evp_chunk, in.size() - pos);
        int written = 0;
        if (EVP_DecryptUpdate(ctx_->evp, uc(out.data() + produced), &written, uc(in.data() + pos),
                              static_cast<int>(n)) != 1) {
            return fail(errc::decrypt_failed, "aes-128-cbc: decrypt update failed");
        }
        produced += static_cast<std::size_t>(written);
    }
    consumed_ += in.size();
    return produced;
}

result<std::size_t> aes128_cbc_decryptor::finish(std::span<std::byte> out) {
    if (out.size() < aes_block_size) {
        return fail(errc::invalid_value, "aes-128-cbc: finish needs 16 bytes of output");
    }
    if (consumed_ == 0 || consumed_ % aes_block_size != 0) {
        return fail(errc::decrypt_failed, "aes-128-cbc ciphertext of " + std::to_string(consumed_) +
                                              " bytes is not a positive multiple of 16");
    }
    int last = 0;
    if (EVP_DecryptFinal_ex(ctx_->evp, uc(out.data()), &last) != 1) {
        return fail(errc::decrypt_failed, "aes-128-cbc: bad PKCS#7 padding after " +
                                              std::to_string(consumed_) +
                                              " bytes (wrong key or IV, or corrupt data)");
    }
    return static_cast<std::size_t>(last);
}

result<std::vector<std::byte>> aes128_cbc_decrypt(std::span<const std::byte> ciphertext,
                                                  std::span<const std::uint8_t> key,
                                                  std::span<const std::uint8_t> iv,
                                                  cbc_padding padding) {
    auto d = aes128_cbc_decryptor::create(key, iv, padding);
    if (!d) return fail(d.error());
    if (ciphertext.empty() || ciphertext.size() % aes_block_size != 0) {
        return fail(errc::decrypt_failed, "aes-128-cbc ciphertext of " +
                                              std::to_string(ciphertext.size()) +
                                              " bytes is not a positive multiple of 16");
    }
    std::vector<std::byte> out(ciphertext.size() + aes_block_size);
    auto n = d->update(ciphertext, out);
    if (!n) return fail(n.error());
    auto last = d->finish(std::span(out).subspan(*n));
    if (!last) return fail(last.error());
    out.resize(*n + *last);
    return out;
}

std::array<std::uint8_t, 16> hls_iv(std::uint64_t media_sequence) noexcept {
    std::array<std::uint8_t, 16> iv{};
    for (int i = 0; i < 8; ++i) {
        iv[static_cast<std::size_t>(15 - i)] = static_cast<std::uint8_t>(media_sequence >> (8 * i));
    }
    return iv;
}

result<assets::transform> aes128_cbc_transform(std::span<const std::uint8_t> key,
                                               std::span<const std::uint8_t> iv) {
    if (key.size() != 16 || iv.size() != 16) return bad_sizes(key.size(), iv.size());
    std::array<std::uint8_t, 16> k{};
    std::array<std::uint8_t, 16> v{};
    std::copy(key.begin(), key.end(), k.begin());
    std::copy(iv.begin(), iv.end(), v.begin());
    std::string material(32, '\0');
    std::copy(k.begin(), k.end(), material.begin());
    std::copy(v.begin(), v.end(), material.begin() + 16);
    const std::string tag = assets::processed_key(material, "aes-128-cbc").hex().substr(0, 16);
    std::fill(material.begin(), material.end(), '\0');
    assets::transform t;
    t.name = "aes-128-cbc/" + tag;
    t.apply = [k, v](std::span<const std::byte> input) { return aes128_cbc_decrypt(input, k, v); };
    return t;
}

}  // namespace kithara::hls
