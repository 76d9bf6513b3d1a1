#include "detail/range_log.hpp"

#include "detail/range_map_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace kithara::storage::detail {

namespace {

constexpr std::array<std::byte, 4> magic = {std::byte{'K'}, std::byte{'R'}, std::byte{'L'},
                                            std::byte{'G'}};
constexpr std::uint16_t version = 1;

void put_u64(std::byte* p, std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFu);
}
void put_u32(std::byte* p, std::uint32_t v) noexcept {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::byte>((v >> (8 * i)) & 0xFFu);
}
std::uint64_t get_u64(const std::byte* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= std::uint64_t{std::to_integer<std::uint8_t>(p[i])} << (8 * i);
    return v;
}
std::uint32_t get_u32(const std::byte* p) noexcept {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{std::to_integer<std::uint8_t>(p[i])} << (8 * i);
    return v;
}

std::array<std::byte, range_log::header_bytes> make_header(const boot_id& boot,
                                                           std::uint64_t inode) {
    std::array<std::byte, range_log::header_bytes> h{};
    std::memcpy(h.data(), magic.data(), magic.size());
    h[4] = static_cast<std::byte>(version & 0xFF);
    h[5] = static_cast<std::byte>(version >> 8);
    std::memcpy(h.data() + 8, boot.data(), boot.size());
    put_u64(h.data() + 24, inode);
    put_u32(h.data() + 32, crc32(std::span(h.data(), 32)));
    return h;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<boot_id> read_boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string s;
    if (!(in >> s)) return std::nullopt;
    boot_id id{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '-') continue;
        const int hi = hex_digit(s[i]);
        const int lo = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
        if (hi < 0 || lo < 0 || n == id.size()) return std::nullopt;
        id[n++] = static_cast<std::byte>(hi * 16 + lo);
        ++i;
    }
    if (n != id.size()) return std::nullopt;
    return id;
}

}  // namespace

const std::optional<boot_id>& current_boot_id() {
    static const std::optional<boot_id> id = read_boot_id();
    return id;
}

range_set range_log::read_claims(const std::filesystem::path& path, const boot_id& boot,
                                 std::uint64_t inode, std::uint64_t limit) {
    range_set claims;
    auto bytes = read_small_file(path, file_bytes);
    if (!bytes || bytes->size() < header_bytes) return claims;
    const auto expect = make_header(boot, inode);
    if (std::memcmp(bytes->data(), expect.data(), header_bytes) != 0) return claims;
    for (std::size_t at = header_bytes; at + record_bytes <= bytes->size(); at += record_bytes) {
        const std::byte* rec = bytes->data() + at;
        const byte_range r{get_u64(rec), get_u64(rec + 8)};
        if (get_u32(rec + 16) != crc32(std::span(rec, 16)) || get_u32(rec + 20) != 0) continue;
        if (r.empty() || r.end > limit) continue;
        claims.insert(r);
    }
    return claims;
}

result<std::unique_ptr<range_log>> range_log::create(const std::filesystem::path& path,
                                                     const boot_id& boot, std::uint64_t inode) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(errno_error(errno, "open", path));
    if (::ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) {
        const int err = errno;
        ::close(fd);
        return fail(errno_error(err, "ftruncate", path));
    }
    void* m = ::mmap(nullptr, file_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        return fail(errno_error(err, "mmap", path));
    }
    auto* base = static_cast<std::byte*>(m);
    const auto h = make_header(boot, inode);
    std::memcpy(base, h.data(), h.size());
    return std::unique_ptr<range_log>(new range_log(path, fd, base));
}

range_log::range_log(std::filesystem::path path, int fd, std::byte* base)
    : path_(std::move(path)), fd_(fd), base_(base) {}

range_log::~range_log() {
    if (base_ != nullptr) ::munmap(base_, file_bytes);
    if (fd_ >= 0) ::close(fd_);
}

void range_log::put(std::size_t slot, byte_range r) noexcept {
    std::array<std::byte, record_bytes> rec{};
    put_u64(rec.data(), r.begin);
    put_u64(rec.data() + 8, r.end);
    put_u32(rec.data() + 16, crc32(std::span(rec.data(), 16)));
    std::memcpy(base_ + header_bytes + slot * record_bytes, rec.data(), rec.size());
}

bool range_log::append(byte_range r) noexcept {
    if (next_ == capacity) return false;
    put(next_++, r);
    return true;
}

void range_log::rewrite(const range_set& ranges) noexcept {
    next_ = 0;
    for (const auto& r : ranges.ranges()) {
        if (next_ == capacity) break;
        put(next_++, r);
    }
}

void range_log::remove() noexcept {
    ::unlink(path_.c_str());
}

}  // namespace kithara::storage::detail
