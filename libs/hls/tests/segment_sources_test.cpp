// The engine's segment sources: AES-128 decrypted as the ciphertext arrives (clear bytes before
// the segment is complete, padding checked at the end, a wrong key named), and packed audio
// without its ID3 tag (the PRIV timestamp masked to 33 bits, a short-declared tag resynced).
#include "detail/decrypt_source.hpp"
#include "detail/packed_audio.hpp"
#include "packed_audio_builders.hpp"

#include <kithara/hls/error.hpp>
#include <kithara/storage/memory_resource.hpp>
#include <kithara/stream/resource_source.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <string>
#include <vector>

namespace kithara::hls::detail {
namespace {

const std::array<std::uint8_t, 16> key_a{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const std::array<std::uint8_t, 16> iv_a{0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};

std::vector<std::byte> encrypt(const std::vector<std::byte>& clear) {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(c, EVP_aes_128_cbc(), nullptr, key_a.data(), iv_a.data());
    std::vector<std::byte> out(clear.size() + 16);
    int n = 0, m = 0;
    EVP_EncryptUpdate(c, reinterpret_cast<unsigned char*>(out.data()), &n,
                      reinterpret_cast<const unsigned char*>(clear.data()),
                      static_cast<int>(clear.size()));
    EVP_EncryptFinal_ex(c, reinterpret_cast<unsigned char*>(out.data()) + n, &m);
    EVP_CIPHER_CTX_free(c);
    out.resize(static_cast<std::size_t>(n + m));
    return out;
}

std::vector<std::byte> pattern(std::size_t n) {
    std::vector<std::byte> b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>((i * 7 + i / 251) & 0xff);
    return b;
}

struct growing {
    std::shared_ptr<storage::resource> res{storage::memory_resource::create()};
    std::shared_ptr<stream::resource_source> src = stream::resource_source::create(res);
    void write(std::uint64_t at, std::span<const std::byte> b) {
        ASSERT_TRUE(res->write_at(at, b));
    }
};

std::vector<std::byte> read_all(stream::source& s, std::uint64_t from, std::uint64_t to) {
    std::vector<std::byte> out(static_cast<std::size_t>(to - from));
    std::size_t have = 0;
    while (have < out.size()) {
        auto n = s.read_at(from + have, std::span(out).subspan(have));
        EXPECT_TRUE(n) << n.error().message();
        if (!n || *n == 0) break;
        have += *n;
    }
    out.resize(have);
    return out;
}

TEST(decrypt_source, releases_clear_bytes_before_the_segment_is_complete) {
    const auto clear = pattern(10'000);
    const auto cipher = encrypt(clear);
    growing g;
    auto d = decrypt_source::create(
        g.src, [] { return result<std::array<std::uint8_t, 16>>(key_a); }, iv_a, "seg-3.ts");
    g.write(0, std::span(cipher).first(4096));
    auto w = d->wait_range({0, 1000}, std::nullopt, {});
    ASSERT_TRUE(w) << w.error().message();
    EXPECT_EQ(*w, stream::wait_status::ready);
    EXPECT_FALSE(d->length());
    EXPECT_EQ(read_all(*d, 0, 1000), std::vector<std::byte>(clear.begin(), clear.begin() + 1000));
    g.write(4096, std::span(cipher).subspan(4096));
    ASSERT_TRUE(g.res->commit(cipher.size()));
    w = d->wait_range({0, clear.size() + 100}, std::nullopt, {});
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_EQ(d->length(), clear.size());
    EXPECT_EQ(read_all(*d, 0, clear.size()), clear);
    EXPECT_EQ(*d->wait_range({clear.size(), clear.size() + 1}, std::nullopt, {}),
              stream::wait_status::eof);
}

TEST(decrypt_source, a_wrong_key_is_an_error_naming_the_segment) {
    const auto cipher = encrypt(pattern(5000));
    growing g;
    g.write(0, cipher);
    ASSERT_TRUE(g.res->commit(cipher.size()));
    auto wrong = key_a;
    wrong[0] ^= 0x55;
    auto d = decrypt_source::create(
        g.src, [wrong] { return result<std::array<std::uint8_t, 16>>(wrong); }, iv_a,
        "segment seg-9.ts (media sequence 9)");
    auto w = d->wait_range({0, 6000}, std::nullopt, {});
    // A wrong key passes the padding check with probability ~1/256; this key does not.
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code(), errc::decrypt_failed);
    EXPECT_NE(w.error().message().find("seg-9.ts (media sequence 9)"), std::string::npos)
        << w.error().message();
}

TEST(packed_audio, timestamp_is_masked_to_33_bits) {
    const std::uint64_t junk = std::uint64_t{0x5A} << 40;
    const auto tag = kithara::test::id3_priv(junk | 123456789);
    EXPECT_EQ(transport_stream_timestamp(tag), 123456789u);
    EXPECT_FALSE(transport_stream_timestamp(std::vector<std::byte>(40, std::byte{0})));
}

TEST(packed_audio, skips_the_tag_and_resyncs_after_a_short_declared_size) {
    for (std::size_t short_by : {0u, 1u, 3u}) {
        auto bytes = kithara::test::id3_priv(900000, short_by);
        const std::vector<std::byte> adts = {std::byte{0xFF}, std::byte{0xF1}, std::byte{0x50},
                                             std::byte{0x80}};
        bytes.insert(bytes.end(), adts.begin(), adts.end());
        growing g;
        g.write(0, bytes);
        ASSERT_TRUE(g.res->commit(bytes.size()));
        id3_skip_source s(g.src);
        auto w = s.wait_range({0, 4}, std::nullopt, {});
        ASSERT_TRUE(w);
        EXPECT_EQ(read_all(s, 0, 4), adts) << "declared " << short_by << " bytes short";
        EXPECT_EQ(s.length(), 4u);
        EXPECT_EQ(s.timestamp_90k(), 900000u);
    }
}

}  // namespace
}  // namespace kithara::hls::detail
