#include "detail/range_map_file.hpp"

#include <kithara/storage/error.hpp>

#include <array>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kithara::storage::detail {

namespace {

constexpr std::array<std::byte, 4> magic = {std::byte{'K'}, std::byte{'R'}, std::byte{'M'},
                                            std::byte{'P'}};
constexpr std::uint16_t format_version = 1;
constexpr std::uint16_t flag_final_known = 1;
constexpr std::size_t header_bytes = 24;
constexpr std::size_t trailer_bytes = 4;

constexpr std::array<std::uint32_t, 256> make_crc_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    return table;
}
constexpr auto crc_table = make_crc_table();

template <class T>
void put(std::vector<std::byte>& out, T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xFFu));
    }
}

template <class T>
T get(std::span<const std::byte> in, std::size_t at) {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        v = static_cast<T>(v |
                           (static_cast<T>(std::to_integer<std::uint8_t>(in[at + i])) << (8 * i)));
    }
    return v;
}

unexpected corrupt(const std::string& why) {
    return fail(errc::corrupt_range_map, why);
}

}  // namespace

std::uint32_t crc32(std::span<const std::byte> data) noexcept {
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::byte b : data) {
        c = crc_table[(c ^ std::to_integer<std::uint32_t>(b)) & 0xFFu] ^ (c >> 8);
    }
    return c ^ 0xFFFFFFFFu;
}

std::vector<std::byte> encode_range_map(const range_map& map) {
    const auto ranges = map.ranges.ranges();
    std::vector<std::byte> out;
    out.reserve(header_bytes + 16 * ranges.size() + trailer_bytes);
    out.insert(out.end(), magic.begin(), magic.end());
    put<std::uint16_t>(out, format_version);
    put<std::uint16_t>(out, map.final_length ? flag_final_known : std::uint16_t{0});
    put<std::uint64_t>(out, map.final_length.value_or(0));
    put<std::uint64_t>(out, ranges.size());
    for (const auto& r : ranges) {
        put<std::uint64_t>(out, r.begin);
        put<std::uint64_t>(out, r.end);
    }
    put<std::uint32_t>(out, crc32(out));
    return out;
}

result<range_map> decode_range_map(std::span<const std::byte> in) {
    if (in.size() < header_bytes + trailer_bytes) {
        return corrupt("truncated: " + std::to_string(in.size()) + " bytes");
    }
    if (!std::equal(magic.begin(), magic.end(), in.begin())) return corrupt("bad magic");
    const auto version = get<std::uint16_t>(in, 4);
    if (version != format_version) return corrupt("unknown version " + std::to_string(version));
    const auto flags = get<std::uint16_t>(in, 6);
    if ((flags & ~flag_final_known) != 0) return corrupt("unknown flags");
    const auto count = get<std::uint64_t>(in, 16);
    if (count > (in.size() - header_bytes - trailer_bytes) / 16 ||
        in.size() != header_bytes + 16 * count + trailer_bytes) {
        return corrupt("size " + std::to_string(in.size()) + " does not match " +
                       std::to_string(count) + " ranges");
    }
    const std::size_t body = in.size() - trailer_bytes;
    if (crc32(in.first(body)) != get<std::uint32_t>(in, body)) return corrupt("checksum mismatch");

    range_map map;
    if (flags & flag_final_known) map.final_length = get<std::uint64_t>(in, 8);
    std::uint64_t prev_end = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        const std::size_t at = header_bytes + static_cast<std::size_t>(i) * 16;
        const byte_range r{get<std::uint64_t>(in, at), get<std::uint64_t>(in, at + 8)};
        if (r.begin >= r.end || (i > 0 && r.begin <= prev_end)) {
            return corrupt("range " + std::to_string(i) + " is empty, unordered or adjacent");
        }
        if (map.final_length && r.end > *map.final_length) {
            return corrupt("range " + std::to_string(i) + " ends past the final length");
        }
        map.ranges.insert(r);
        prev_end = r.end;
    }
    return map;
}

error errno_error(int err, const std::string& op, const std::filesystem::path& path) {
    return error(std::error_code(err, std::generic_category()), op + " " + path.string());
}

result<std::vector<std::byte>> read_small_file(const std::filesystem::path& path,
                                               std::uint64_t max_bytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(errno_error(errno, "open", path));
    struct ::stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        return fail(errno_error(err, "fstat", path));
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > max_bytes) {
        ::close(fd);
        return fail(errc::corrupt_range_map,
                    path.string() + " is " + std::to_string(size) + " bytes, above the limit");
    }
    std::vector<std::byte> bytes(static_cast<std::size_t>(size));
    auto n = pread_full(fd, 0, bytes);
    ::close(fd);
    if (!n) return fail(n.error().add_context(path.string()));
    bytes.resize(*n);
    return bytes;
}

result<> replace_file(const std::filesystem::path& tmp, const std::filesystem::path& target,
                      int dir_fd, std::span<const std::byte> bytes) {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(errno_error(errno, "create", tmp));
    auto w = pwrite_full(fd, 0, bytes);
    if (!w) {
        ::close(fd);
        return fail(w.error().add_context(tmp.string()));
    }
    if (::fdatasync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        return fail(errno_error(err, "fdatasync", tmp));
    }
    if (::close(fd) != 0) return fail(errno_error(errno, "close", tmp));
    if (::rename(tmp.c_str(), target.c_str()) != 0) {
        return fail(errno_error(errno, "rename to " + target.string() + " from", tmp));
    }
    if (dir_fd >= 0 && ::fsync(dir_fd) != 0) {
        return fail(errno_error(errno, "fsync directory of", target));
    }
    return {};
}

result<> pwrite_full(int fd, std::uint64_t offset, std::span<const std::byte> data) {
    while (!data.empty()) {
        const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(std::error_code(errno, std::generic_category()),
                        "pwrite " + std::to_string(offset) + "+" + std::to_string(data.size()));
        }
        data = data.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return {};
}

result<std::size_t> pread_full(int fd, std::uint64_t offset, std::span<std::byte> out) {
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n =
            ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(std::error_code(errno, std::generic_category()),
                        "pread " + std::to_string(offset) + "+" + std::to_string(out.size()));
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

}  // namespace kithara::storage::detail
