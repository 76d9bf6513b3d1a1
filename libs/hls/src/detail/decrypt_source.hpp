// decrypt_source: the clear bytes of an AES-128-CBC segment, decrypted block by block as its
// ciphertext arrives (a source over the ciphertext source), so decoding starts before the
// segment is complete.
//
//   auto clear = detail::decrypt_source::create(cipher, key_fn, iv, "seg-3.ts (media sequence 3)",
//                                               "mpegts");
//   concat->append(clear);  // length() becomes known when the padding was checked
//
// The first clear block is checked against the container (`mpegts`: the 0x47 sync byte; `mov`: a
// box type of four printable characters; packed audio: "ID3" or a sync word), so a wrong key is
// decrypt_failed at the first block — noise never reaches the demuxer — and not only at the
// padding check at the segment's end (which a wrong key passes with probability ~1/256).
//
// Threads: any thread. Locks: pump_mutex_ serialises the decryption (one thread decrypts; it reads
// the ciphertext with pread from the page cache, never waits on the network while holding it);
// state_mutex_ guards the clear bytes and the outcome and is a leaf lock. Buffers: the clear bytes
// of this one segment (at most its ciphertext size), released with the source.
#pragma once

#include <kithara/core/result.hpp>
#include <kithara/hls/aes.hpp>
#include <kithara/stream/source.hpp>

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls::detail {

using key_provider = std::function<result<std::array<std::uint8_t, 16>>()>;

class decrypt_source final : public stream::source {
public:
    static std::shared_ptr<decrypt_source> create(std::shared_ptr<stream::source> cipher,
                                                  key_provider key, std::array<std::uint8_t, 16> iv,
                                                  std::string what, std::string container = {});
    decrypt_source(std::shared_ptr<stream::source> cipher, key_provider key,
                   std::array<std::uint8_t, 16> iv, std::string what, std::string container);

    [[nodiscard]] std::optional<std::uint64_t> length() const override;
    result<stream::wait_status> wait_range(stream::byte_range r,
                                           std::optional<stream::deadline> until,
                                           std::stop_token stop) override;
    [[nodiscard]] result<std::size_t> read_at(std::uint64_t offset,
                                              std::span<std::byte> out) override;
    [[nodiscard]] stream::media_hints hints() const override { return cipher_->hints(); }

private:
    // Decrypts what the ciphertext holds up to `cipher_end`; the caller holds pump_mutex_.
    result<> pump(std::uint64_t cipher_end);

    std::shared_ptr<stream::source> cipher_;
    key_provider key_;
    std::array<std::uint8_t, 16> iv_;
    std::string what_;
    std::string container_;  // FFmpeg demuxer name the clear bytes must start like ("" = any)
    bool first_checked_ = false;

    std::mutex pump_mutex_;  // one decrypting thread at a time (guards dec_, consumed_)
    std::optional<aes128_cbc_decryptor> dec_;
    std::uint64_t consumed_ = 0;

    mutable std::mutex state_mutex_;  // guards clear_, finished_, failure_
    std::vector<std::byte> clear_;
    bool finished_ = false;
    std::optional<error> failure_;
};

}  // namespace kithara::hls::detail
