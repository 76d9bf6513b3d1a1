#include <kithara/storage/atomic_resource.hpp>

#include <kithara/storage/error.hpp>

#include "detail/range_map_file.hpp"

#include <atomic>
#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kithara::storage {

namespace {

std::atomic<std::uint64_t> temp_counter{0};

// An open descriptor of the current content (one inode, so one version) and its size.
struct snapshot_fd {
    int fd = -1;
    std::uint64_t size = 0;
    snapshot_fd() = default;
    snapshot_fd(const snapshot_fd&) = delete;
    snapshot_fd& operator=(const snapshot_fd&) = delete;
    ~snapshot_fd() {
        if (fd >= 0) ::close(fd);
    }
};

result<> open_snapshot(const std::filesystem::path& path, snapshot_fd& s) {
    s.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (s.fd < 0) {
        if (errno == ENOENT) return fail(errc::not_found, "read " + path.string());
        return fail(detail::errno_error(errno, "open", path));
    }
    struct ::stat st {};
    if (::fstat(s.fd, &st) != 0) return fail(detail::errno_error(errno, "fstat", path));
    s.size = static_cast<std::uint64_t>(st.st_size);
    return {};
}

}  // namespace

atomic_resource::atomic_resource(std::filesystem::path path) : path_(std::move(path)) {}

result<> atomic_resource::replace(std::span<const std::byte> content) {
    std::filesystem::path dir = path_.parent_path();
    if (dir.empty()) dir = ".";
    std::filesystem::path tmp = path_;
    tmp += ".tmp." + std::to_string(::getpid()) + "." +
           std::to_string(temp_counter.fetch_add(1, std::memory_order_relaxed));
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return fail(detail::errno_error(errno, "open directory of", path_));
    auto r = detail::replace_file(tmp, path_, dir_fd, content);
    ::close(dir_fd);
    if (!r) ::unlink(tmp.c_str());
    return r;
}

result<bufpool::byte_buffer> atomic_resource::read(bufpool::byte_pool& pool) const {
    snapshot_fd s;
    if (auto o = open_snapshot(path_, s); !o) return fail(o.error());
    if (s.size > SIZE_MAX) return fail(errc::too_large, "read " + path_.string());
    auto buf = pool.get(static_cast<std::size_t>(s.size));
    auto n = detail::pread_full(s.fd, 0, buf.span());
    if (!n) return fail(n.error().add_context(path_.string()));
    buf.resize(*n);
    return buf;
}

result<std::size_t> atomic_resource::read_into(std::span<std::byte> out) const {
    snapshot_fd s;
    if (auto o = open_snapshot(path_, s); !o) return fail(o.error());
    if (s.size > out.size()) {
        return fail(errc::buffer_too_small, "read " + path_.string() + ": content is " +
                                                std::to_string(s.size) + " bytes, buffer " +
                                                std::to_string(out.size()));
    }
    auto n = detail::pread_full(s.fd, 0, out.first(static_cast<std::size_t>(s.size)));
    if (!n) return fail(n.error().add_context(path_.string()));
    return n;
}

result<std::uint64_t> atomic_resource::size() const {
    struct ::stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
        if (errno == ENOENT) return fail(errc::not_found, "size of " + path_.string());
        return fail(detail::errno_error(errno, "stat", path_));
    }
    return static_cast<std::uint64_t>(st.st_size);
}

bool atomic_resource::exists() const {
    struct ::stat st {};
    return ::stat(path_.c_str(), &st) == 0;
}

result<> atomic_resource::remove() {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
        return fail(detail::errno_error(errno, "unlink", path_));
    }
    return {};
}

}  // namespace kithara::storage
