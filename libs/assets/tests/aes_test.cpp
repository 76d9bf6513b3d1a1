#include <kithara/assets/error.hpp>
#include <kithara/assets/transform.hpp>

#include "assets_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace kithara::assets {
namespace {

using test::from_hex;
using test::u8_from_hex;

TEST(aes128_cbc, decrypts_nist_sp800_38a_vector) {
    const auto key = u8_from_hex("2b7e151628aed2a6abf7158809cf4f3c");
    const auto iv = u8_from_hex("000102030405060708090a0b0c0d0e0f");
    const auto ct = from_hex(
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
        "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
    auto pt = aes128_cbc_decrypt(ct, key, iv, cbc_padding::none);
    ASSERT_TRUE(pt) << pt.error().message();
    EXPECT_EQ(*pt, from_hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                            "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710"));
}

TEST(aes128_cbc, decrypts_rfc3602_case1) {
    auto pt =
        aes128_cbc_decrypt(from_hex("e353779c1079aeb82708942dbe77181a"),
                           u8_from_hex("06a9214036b8a15b512e03d534120006"),
                           u8_from_hex("3dafba429d9eb430b422da802c9fac41"), cbc_padding::none);
    ASSERT_TRUE(pt);
    EXPECT_EQ(*pt, test::bytes_of("Single block msg"));
}

TEST(aes128_cbc, decrypts_a_file_encrypted_by_the_openssl_cli) {
    test::temp_dir dir("cli");
    std::filesystem::create_directories(dir.path);
    const auto plain = test::pattern(100'003, 7);
    {
        std::ofstream f(dir.path / "plain.bin", std::ios::binary);
        f.write(reinterpret_cast<const char*>(plain.data()),
                static_cast<std::streamsize>(plain.size()));
    }
    const std::string key_hex = "000102030405060708090a0b0c0d0e0f";
    const auto iv = hls_iv(42);  // the HLS default IV for media sequence 42
    std::string iv_hex;
    for (auto b : iv) {
        static constexpr char d[] = "0123456789abcdef";
        iv_hex.push_back(d[b >> 4]);
        iv_hex.push_back(d[b & 15]);
    }
    EXPECT_EQ(iv_hex, "0000000000000000000000000000002a");
    const std::string cmd = "openssl enc -aes-128-cbc -K " + key_hex + " -iv " + iv_hex + " -in '" +
                            (dir.path / "plain.bin").string() + "' -out '" +
                            (dir.path / "enc.bin").string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream f(dir.path / "enc.bin", std::ios::binary);
    std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> ct(raw.size());
    if (!raw.empty()) std::memcpy(ct.data(), raw.data(), raw.size());
    EXPECT_EQ(ct.size(), (plain.size() / 16 + 1) * 16);
    auto t = aes128_cbc_transform(u8_from_hex(key_hex), iv);
    ASSERT_TRUE(t);
    auto pt = t->apply(ct);
    ASSERT_TRUE(pt) << pt.error().message();
    EXPECT_EQ(*pt, plain);
}

TEST(aes128_cbc, wrong_key_is_a_clear_error_not_garbage) {
    // "kithara wrong-key test payload!" encrypted by the openssl CLI with key 00..0f, IV 00..01.
    const auto ct = from_hex("bcf84e859f29d05ef87c6f865f1da78b85a60497203b1190ff0927dfdd8efe85");
    const auto iv = hls_iv(1);
    auto right = aes128_cbc_decrypt(ct, u8_from_hex("000102030405060708090a0b0c0d0e0f"), iv);
    ASSERT_TRUE(right) << right.error().message();
    EXPECT_EQ(*right, test::bytes_of("kithara wrong-key test payload!"));
    auto wrong = aes128_cbc_decrypt(ct, u8_from_hex("ffffffffffffffffffffffffffffffff"), iv);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error(), errc::decrypt_failed);
    EXPECT_NE(wrong.error().message().find("padding"), std::string::npos);
    EXPECT_EQ(wrong.error().message().find("ffffffff"), std::string::npos);  // no key in errors
}

TEST(aes128_cbc, rejects_bad_sizes_and_truncated_ciphertext) {
    const auto key = u8_from_hex("000102030405060708090a0b0c0d0e0f");
    auto r = aes128_cbc_decrypt(from_hex("00"), key, key);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::decrypt_failed);
    auto e = aes128_cbc_decrypt({}, key, key);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), errc::decrypt_failed);
    auto k = aes128_cbc_decrypt(from_hex("00000000000000000000000000000000"),
                                std::vector<std::uint8_t>(15), key);
    ASSERT_FALSE(k);
    EXPECT_EQ(k.error(), errc::bad_key);
    auto t = aes128_cbc_transform(std::vector<std::uint8_t>(17), key);
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error(), errc::bad_key);
}

TEST(aes128_cbc, transform_name_never_contains_the_key) {
    const std::string key_hex = "00112233445566778899aabbccddeeff";
    auto t = aes128_cbc_transform(u8_from_hex(key_hex), hls_iv(0));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->name.rfind("aes-128-cbc/", 0), 0u);
    EXPECT_EQ(t->name.find(key_hex), std::string::npos);
    EXPECT_EQ(t->name.find("00112233"), std::string::npos);
}

TEST(hls_iv, is_the_sequence_number_big_endian) {
    const auto iv = hls_iv(0x0102030405060708ull);
    EXPECT_EQ(std::vector<std::uint8_t>(iv.begin(), iv.end()),
              u8_from_hex("00000000000000000102030405060708"));
}

}  // namespace
}  // namespace kithara::assets
