// AES-128-CBC for HLS: known-answer vectors, the openssl CLI as a peer, wrong keys, and the
// streaming decryptor releasing clear bytes block by block whatever the chunking.
#include <kithara/hls/aes.hpp>
#include <kithara/hls/error.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::hls {
namespace {

std::vector<std::uint8_t> u8_from_hex(std::string_view hex) {
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(
            static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return out;
}
std::vector<std::byte> from_hex(std::string_view hex) {
    std::vector<std::byte> out;
    for (auto b : u8_from_hex(hex)) out.push_back(static_cast<std::byte>(b));
    return out;
}
std::vector<std::byte> bytes_of(std::string_view s) {
    std::vector<std::byte> out(s.size());
    std::memcpy(out.data(), s.data(), s.size());
    return out;
}
std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> out(n);
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& b : out) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<std::byte>(x >> 24);
    }
    return out;
}
std::string hex_of(std::span<const std::uint8_t> v) {
    static constexpr char d[] = "0123456789abcdef";
    std::string s;
    for (auto b : v) {
        s.push_back(d[b >> 4]);
        s.push_back(d[b & 15]);
    }
    return s;
}

struct temp_dir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("kithara_hls_aes_" + std::to_string(::getpid()));
    temp_dir() { std::filesystem::create_directories(path); }
    ~temp_dir() { std::filesystem::remove_all(path); }
};

// "kithara wrong-key test payload!" encrypted by the openssl CLI with key 00..0f, IV 00..01.
const char* wrong_key_ct = "bcf84e859f29d05ef87c6f865f1da78b85a60497203b1190ff0927dfdd8efe85";
const char* key_0f = "000102030405060708090a0b0c0d0e0f";

// Feeds `ct` in pieces of `chunk` bytes; returns the clear bytes and checks that every complete
// block except (with PKCS#7) the last one was released before finish().
result<std::vector<std::byte>> decrypt_in_chunks(std::span<const std::byte> ct,
                                                 std::span<const std::uint8_t> key,
                                                 std::span<const std::uint8_t> iv,
                                                 std::size_t chunk, cbc_padding padding) {
    auto d = aes128_cbc_decryptor::create(key, iv, padding);
    if (!d) return fail(d.error());
    std::vector<std::byte> out;
    std::vector<std::byte> buf(chunk + aes_block_size);
    for (std::size_t pos = 0; pos < ct.size(); pos += chunk) {
        const auto piece = ct.subspan(pos, std::min(chunk, ct.size() - pos));
        auto n = d->update(piece, buf);
        if (!n) return fail(n.error());
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
        const std::size_t fed = pos + piece.size();
        const std::size_t whole = fed / aes_block_size * aes_block_size;
        const std::size_t expected =
            padding == cbc_padding::pkcs7 && whole > 0 && fed % aes_block_size == 0
                ? whole - aes_block_size
                : whole;
        EXPECT_EQ(out.size(), expected) << "after " << fed << " bytes in chunks of " << chunk;
    }
    auto last = d->finish(buf);
    if (!last) return fail(last.error());
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*last));
    return out;
}

TEST(aes128_cbc, decrypts_the_nist_sp800_38a_vector) {
    const auto key = u8_from_hex("2b7e151628aed2a6abf7158809cf4f3c");
    const auto iv = u8_from_hex("000102030405060708090a0b0c0d0e0f");
    const auto ct = from_hex(
        "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"
        "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7");
    const auto pt = from_hex(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    auto whole = aes128_cbc_decrypt(ct, key, iv, cbc_padding::none);
    ASSERT_TRUE(whole) << whole.error().message();
    EXPECT_EQ(*whole, pt);
    for (std::size_t chunk : {1u, 5u, 16u, 17u, 64u}) {
        auto streamed = decrypt_in_chunks(ct, key, iv, chunk, cbc_padding::none);
        ASSERT_TRUE(streamed) << streamed.error().message();
        EXPECT_EQ(*streamed, pt) << "chunk " << chunk;
    }
}

TEST(aes128_cbc, decrypts_rfc3602_case_1) {
    auto pt =
        aes128_cbc_decrypt(from_hex("e353779c1079aeb82708942dbe77181a"),
                           u8_from_hex("06a9214036b8a15b512e03d534120006"),
                           u8_from_hex("3dafba429d9eb430b422da802c9fac41"), cbc_padding::none);
    ASSERT_TRUE(pt);
    EXPECT_EQ(*pt, bytes_of("Single block msg"));
}

TEST(aes128_cbc, streams_a_file_encrypted_by_the_openssl_cli_in_any_chunking) {
    temp_dir dir;
    const auto plain = pattern(100'003, 7);
    std::ofstream(dir.path / "plain.bin", std::ios::binary)
        .write(reinterpret_cast<const char*>(plain.data()),
               static_cast<std::streamsize>(plain.size()));
    const auto iv = hls_iv(42);  // the HLS default IV for media sequence 42
    EXPECT_EQ(hex_of(iv), "0000000000000000000000000000002a");
    const std::string cmd = std::string("openssl enc -aes-128-cbc -K ") + key_0f + " -iv " +
                            hex_of(iv) + " -in '" + (dir.path / "plain.bin").string() + "' -out '" +
                            (dir.path / "enc.bin").string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ifstream f(dir.path / "enc.bin", std::ios::binary);
    std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> ct(raw.size());
    std::memcpy(ct.data(), raw.data(), raw.size());
    ASSERT_EQ(ct.size(), (plain.size() / 16 + 1) * 16);
    const auto key = u8_from_hex(key_0f);
    for (std::size_t chunk : {1u, 15u, 16u, 1000u, 4096u, 65536u, 200'000u}) {
        auto streamed = decrypt_in_chunks(ct, key, iv, chunk, cbc_padding::pkcs7);
        ASSERT_TRUE(streamed) << streamed.error().message();
        EXPECT_EQ(*streamed, plain) << "chunk " << chunk;
    }
    auto t = aes128_cbc_transform(key, iv);
    ASSERT_TRUE(t);
    auto pt = t->apply(ct);
    ASSERT_TRUE(pt) << pt.error().message();
    EXPECT_EQ(*pt, plain);
}

TEST(aes128_cbc, restart_decrypts_the_next_segment_with_the_same_key) {
    const auto key = u8_from_hex(key_0f);
    const auto ct = from_hex(wrong_key_ct);
    auto d = aes128_cbc_decryptor::create(key, hls_iv(1));
    ASSERT_TRUE(d);
    std::vector<std::byte> out(ct.size() + 16);
    for (int round = 0; round < 3; ++round) {
        ASSERT_TRUE(d->restart(hls_iv(1)));
        auto n = d->update(ct, out);
        ASSERT_TRUE(n);
        auto last = d->finish(std::span(out).subspan(*n));
        ASSERT_TRUE(last) << last.error().message();
        out.resize(*n + *last);
        EXPECT_EQ(out, bytes_of("kithara wrong-key test payload!"));
        EXPECT_EQ(d->consumed(), ct.size());
        out.resize(ct.size() + 16);
    }
}

TEST(aes128_cbc, wrong_key_is_a_clear_error_not_garbage) {
    const auto ct = from_hex(wrong_key_ct);
    const auto iv = hls_iv(1);
    auto right = aes128_cbc_decrypt(ct, u8_from_hex(key_0f), iv);
    ASSERT_TRUE(right) << right.error().message();
    EXPECT_EQ(*right, bytes_of("kithara wrong-key test payload!"));
    auto wrong = aes128_cbc_decrypt(ct, u8_from_hex("ffffffffffffffffffffffffffffffff"), iv);
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error(), errc::decrypt_failed);
    EXPECT_NE(wrong.error().message().find("padding"), std::string::npos);
    EXPECT_EQ(wrong.error().message().find("ffffffff"), std::string::npos);  // no key in errors
    // Streaming: the wrong key shows at finish(), and the held-back block is never released.
    auto streamed = decrypt_in_chunks(ct, u8_from_hex("ffffffffffffffffffffffffffffffff"), iv, 7,
                                      cbc_padding::pkcs7);
    ASSERT_FALSE(streamed);
    EXPECT_EQ(streamed.error(), errc::decrypt_failed);
}

TEST(aes128_cbc, rejects_bad_sizes_and_truncated_ciphertext) {
    const auto key = u8_from_hex(key_0f);
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
    // A segment cut mid-block (a dropped connection) fails at finish, never a short result.
    const auto ct = from_hex(wrong_key_ct);
    auto cut = decrypt_in_chunks(std::span(ct).first(20), key, hls_iv(1), 8, cbc_padding::pkcs7);
    ASSERT_FALSE(cut);
    EXPECT_EQ(cut.error(), errc::decrypt_failed);
    // An output buffer too small is refused before any work.
    auto d = aes128_cbc_decryptor::create(key, key);
    std::vector<std::byte> small(16);
    auto n = d->update(ct, small);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), errc::invalid_value);
}

TEST(aes128_cbc, transform_name_never_contains_the_key) {
    const std::string key_hex = "00112233445566778899aabbccddeeff";
    auto t = aes128_cbc_transform(u8_from_hex(key_hex), hls_iv(0));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->name.rfind("aes-128-cbc/", 0), 0u);
    EXPECT_EQ(t->name.find(key_hex), std::string::npos);
    EXPECT_EQ(t->name.find("00112233"), std::string::npos);
    EXPECT_EQ(t->name.size(), std::string("aes-128-cbc/").size() + 16);
}

TEST(hls_iv, is_the_sequence_number_big_endian) {
    EXPECT_EQ(hex_of(hls_iv(0x0102030405060708ull)), "00000000000000000102030405060708");
    EXPECT_EQ(hex_of(hls_iv(0)), "00000000000000000000000000000000");
}

}  // namespace
}  // namespace kithara::hls
