// decrypt_source: AES-128-CBC segments decrypted block by block as the ciphertext arrives.
#include "detail/decrypt_source.hpp"

#include <kithara/hls/error.hpp>
#include <kithara/stream/error.hpp>

#include <algorithm>
#include <cstring>

namespace kithara::hls::detail {

namespace {
constexpr std::uint64_t step_bytes = 16 * 1024;  // ciphertext decrypted per pump step

// Whether the first clear block can start a segment of this container (see the header).
bool plausible_start(const std::string& container, const std::byte* p, std::size_t n) {
    auto at = [&](std::size_t i) { return std::to_integer<unsigned>(p[i]); };
    if (container == "mpegts") return n >= 1 && at(0) == 0x47;
    if (container == "mov") {
        if (n < 8) return true;
        for (std::size_t i = 4; i < 8; ++i)
            if (at(i) < 0x20 || at(i) > 0x7e) return false;
        return true;
    }
    if (container == "aac" || container == "mp3" || container == "ac3" || container == "eac3") {
        if (n < 3) return true;
        if (at(0) == 'I' && at(1) == 'D' && at(2) == '3') return true;
        if (at(0) == 0xff && (at(1) & 0xe0) == 0xe0) return true;  // ADTS / MPEG audio sync
        return at(0) == 0x0b && at(1) == 0x77;                     // AC-3 / E-AC-3 sync
    }
    return true;
}
}  // namespace

std::shared_ptr<decrypt_source> decrypt_source::create(std::shared_ptr<stream::source> cipher,
                                                       key_provider key,
                                                       std::array<std::uint8_t, 16> iv,
                                                       std::string what, std::string container) {
    return std::make_shared<decrypt_source>(std::move(cipher), std::move(key), iv, std::move(what),
                                            std::move(container));
}

decrypt_source::decrypt_source(std::shared_ptr<stream::source> cipher, key_provider key,
                               std::array<std::uint8_t, 16> iv, std::string what,
                               std::string container)
    : cipher_(std::move(cipher)),
      key_(std::move(key)),
      iv_(iv),
      what_(std::move(what)),
      container_(std::move(container)) {}

std::optional<std::uint64_t> decrypt_source::length() const {
    std::lock_guard lock(state_mutex_);
    if (finished_) return clear_.size();
    return std::nullopt;
}

result<> decrypt_source::pump(std::uint64_t cipher_end) {
    if (!dec_) {
        auto k = key_();
        if (!k) return kithara::fail(k.error());
        auto d = aes128_cbc_decryptor::create(*k, iv_);
        if (!d) return kithara::fail(d.error().code(), what_);
        dec_.emplace(std::move(*d));
        if (auto len = cipher_->length()) {
            std::lock_guard lock(state_mutex_);
            clear_.reserve(static_cast<std::size_t>(*len));
        }
    }
    std::byte in[step_bytes];
    std::byte out[step_bytes + aes_block_size];
    while (consumed_ < cipher_end) {
        const auto want = static_cast<std::size_t>(std::min(step_bytes, cipher_end - consumed_));
        auto n = cipher_->read_at(consumed_, std::span(in, want));
        if (!n) return kithara::fail(n.error());
        if (*n == 0) break;
        auto m = dec_->update(std::span<const std::byte>(in, *n), out);
        if (!m) return kithara::fail(m.error().code(), what_);
        if (!first_checked_ && *m >= 8) {
            first_checked_ = true;
            if (!plausible_start(container_, out, *m)) {
                return kithara::fail(errc::decrypt_failed,
                                     what_ + ": the first decrypted block does not start " +
                                         container_ + " data (wrong key or IV?)");
            }
        }
        consumed_ += *n;
        std::lock_guard lock(state_mutex_);
        clear_.insert(clear_.end(), out, out + *m);
    }
    const auto len = cipher_->length();
    if (len && consumed_ >= *len) {
        auto m = dec_->finish(std::span(out, aes_block_size));
        if (!m) {
            return kithara::fail(errc::decrypt_failed,
                                 what_ + ": bad padding after decryption (wrong key or IV?)");
        }
        std::lock_guard lock(state_mutex_);
        clear_.insert(clear_.end(), out, out + *m);
        finished_ = true;
    }
    return {};
}

result<stream::wait_status> decrypt_source::wait_range(stream::byte_range r,
                                                       std::optional<stream::deadline> until,
                                                       std::stop_token stop) {
    for (;;) {
        {
            std::lock_guard lock(state_mutex_);
            if (failure_) return kithara::fail(*failure_);
            if (r.end <= clear_.size() || r.empty()) return stream::wait_status::ready;
            if (finished_) {
                return r.begin >= clear_.size() ? stream::wait_status::eof
                                                : stream::wait_status::ready;
            }
        }
        std::lock_guard pump_lock(pump_mutex_);
        // Ciphertext up to one block past the wanted end (the last block is held back).
        std::uint64_t target =
            (r.end + aes_block_size - 1) / aes_block_size * aes_block_size + aes_block_size;
        target = std::max(target, consumed_ + aes_block_size);
        if (auto len = cipher_->length()) target = std::min(target, *len);
        if (target > consumed_) {
            auto w = cipher_->wait_range({consumed_, target}, until, stop);
            if (!w) {
                std::lock_guard lock(state_mutex_);
                failure_ = w.error();
                return kithara::fail(w.error());
            }
            if (*w == stream::wait_status::cancelled || *w == stream::wait_status::timed_out)
                return *w;
            if (auto len = cipher_->length()) target = std::min(target, *len);
        }
        if (auto p = pump(target); !p) {
            std::lock_guard lock(state_mutex_);
            failure_ = p.error();
            return kithara::fail(p.error());
        }
        const auto len = cipher_->length();
        std::lock_guard lock(state_mutex_);
        if (!finished_ && len && consumed_ >= *len) {
            failure_ = error(errc::decrypt_failed, what_ + ": ciphertext ended early");
            return kithara::fail(*failure_);
        }
    }
}

result<std::size_t> decrypt_source::read_at(std::uint64_t offset, std::span<std::byte> out) {
    std::lock_guard lock(state_mutex_);
    if (failure_) return kithara::fail(*failure_);
    if (offset >= clear_.size()) {
        if (finished_ || out.empty()) return std::size_t{0};
        // Flow control, not a failure: no context string (read_at allocates nothing).
        return kithara::fail(stream::errc::not_available);
    }
    const auto n = std::min<std::size_t>(out.size(), clear_.size() - offset);
    std::memcpy(out.data(), clear_.data() + offset, n);
    return n;
}

}  // namespace kithara::hls::detail
