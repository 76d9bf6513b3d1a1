#include "detail/fs.hpp"

#include <kithara/assets/error.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

namespace kithara::assets::detail {
namespace {

unexpected sys_fail(const char* what, const std::filesystem::path& p, int err = errno) {
    return fail(std::error_code(err, std::system_category()), std::string(what) + " " + p.string());
}

result<> fsync_dir(const std::filesystem::path& dir) {
    auto fd = open_file(dir, O_RDONLY | O_DIRECTORY);
    if (!fd) return fail(fd.error());
    return fsync_fd(fd->get(), dir);
}

}  // namespace

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

unique_fd::~unique_fd() {
    if (fd_ >= 0) ::close(fd_);
}

mapped_file::~mapped_file() {
    if (data_ != nullptr) ::munmap(data_, size_);
}

result<mapped_file> mapped_file::open(const std::filesystem::path& p) {
    auto fd = open_file(p, O_RDONLY);
    if (!fd) return fail(fd.error());
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return sys_fail("fstat", p);
    mapped_file m;
    if (st.st_size == 0) return m;
    void* addr = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ,
                        MAP_PRIVATE | MAP_POPULATE, fd->get(), 0);
    if (addr == MAP_FAILED) return sys_fail("mmap", p);
    m.data_ = addr;
    m.size_ = static_cast<std::size_t>(st.st_size);
    return m;
}

result<unique_fd> open_file(const std::filesystem::path& p, int flags, int mode) {
    int fd;
    do {
        fd = ::open(p.c_str(), flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return sys_fail("open", p);
    return unique_fd(fd);
}

result<std::vector<std::byte>> read_whole(const std::filesystem::path& p) {
    auto fd = open_file(p, O_RDONLY);
    if (!fd) return fail(fd.error());
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return sys_fail("fstat", p);
    std::vector<std::byte> out(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < out.size()) {
        const ssize_t n = ::read(fd->get(), out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys_fail("read", p);
        if (n == 0) break;  // shrank meanwhile
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

result<> write_all(int fd, std::span<const std::byte> data, const std::filesystem::path& p) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys_fail("write", p);
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

result<> fsync_fd(int fd, const std::filesystem::path& p) {
    if (::fsync(fd) != 0) return sys_fail("fsync", p);
    return {};
}

result<> replace_file(const std::filesystem::path& p, std::span<const std::byte> data, int dir_fd) {
    std::filesystem::path tmp = p;
    tmp += ".tmp";
    {
        auto fd = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC);
        if (!fd) return fail(fd.error());
        if (auto w = write_all(fd->get(), data, tmp); !w) return w;
        if (auto s = fsync_fd(fd->get(), tmp); !s) return s;
    }
    if (::rename(tmp.c_str(), p.c_str()) != 0) return sys_fail("rename to", p);
    if (dir_fd >= 0 && ::fsync(dir_fd) != 0) return sys_fail("fsync directory of", p);
    return {};
}

result<> create_marker(const std::filesystem::path& p) {
    {
        auto fd = open_file(p, O_WRONLY | O_CREAT);
        if (!fd) return fail(fd.error());
        if (auto s = fsync_fd(fd->get(), p); !s) return s;
    }
    return fsync_dir(p.parent_path());
}

result<> remove_marker(const std::filesystem::path& p) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return sys_fail("unlink", p);
    return fsync_dir(p.parent_path());
}

}  // namespace kithara::assets::detail
