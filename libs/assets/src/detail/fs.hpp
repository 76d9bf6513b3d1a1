// Internal: small POSIX file helpers with errors that name the path. No locks; callers own buffers.
#pragma once

#include <kithara/core/result.hpp>

#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

namespace kithara::assets::detail {

// An owned file descriptor.
class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
    unique_fd& operator=(unique_fd&& o) noexcept;
    ~unique_fd();
    [[nodiscard]] int get() const noexcept { return fd_; }
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }
    explicit operator bool() const noexcept { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// A read-only private mapping of a whole file (empty span for an empty file).
class mapped_file {
public:
    mapped_file() = default;
    mapped_file(mapped_file&& o) noexcept : data_(o.data_), size_(o.size_) {
        o.data_ = nullptr;
        o.size_ = 0;
    }
    mapped_file& operator=(mapped_file&&) = delete;
    ~mapped_file();
    static result<mapped_file> open(const std::filesystem::path& p);
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
        return {static_cast<const std::byte*>(data_), size_};
    }

private:
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

result<unique_fd> open_file(const std::filesystem::path& p, int flags, int mode = 0644);
// The whole file; an empty optional-like failure with ENOENT when missing.
result<std::vector<std::byte>> read_whole(const std::filesystem::path& p);
result<> write_all(int fd, std::span<const std::byte> data, const std::filesystem::path& p);
result<> fsync_fd(int fd, const std::filesystem::path& p);
// Writes `data` to `p` crash-safely: p.tmp, fsync, rename over p, fsync of dir_fd.
result<> replace_file(const std::filesystem::path& p, std::span<const std::byte> data, int dir_fd);
// Creates an empty marker file and makes it durable (file and directory fsync).
result<> create_marker(const std::filesystem::path& p);
// Removes a file (missing is fine) and fsyncs its directory.
result<> remove_marker(const std::filesystem::path& p);

}  // namespace kithara::assets::detail
