// kithara::storage::atomic_resource: a small file whose whole content is replaced atomically
// (playlists, keys, metadata). Readers see the old or the new content, never a mix.
//
//   kithara::storage::atomic_resource keyfile("/cache/a/key.bin");
//   keyfile.replace(bytes);                          // temp file + fsync + rename + dir fsync
//   auto buf = keyfile.read();                       // whole content in a pooled buffer
//
// replace() writes a unique temp file beside the target (`path`.tmp.<pid>.<n>), fsyncs it,
// renames it over `path` and fsyncs the directory; a reader opens the file once and reads that
// inode, so a concurrent replace never mixes contents. The object holds only the path: any
// thread, any number of concurrent readers and replacers (the last rename wins). No locks.
// Buffers: read_into borrows the caller's span; read() returns a buffer the caller owns.
#pragma once

#include <kithara/bufpool/pool.hpp>
#include <kithara/core/result.hpp>
#include <kithara/storage/export.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace kithara::storage {

class KITHARA_STORAGE_EXPORT atomic_resource {
public:
    explicit atomic_resource(std::filesystem::path path);

    // Errors: system errors (e.g. ENOENT when the directory is missing) with the path in context.
    result<> replace(std::span<const std::byte> content);

    // The whole content; errc::not_found when nothing was stored yet.
    [[nodiscard]] result<bufpool::byte_buffer> read(
        bufpool::byte_pool& pool = bufpool::default_byte_pool()) const;
    // Copies the whole content into `out` and returns its size; errc::buffer_too_small (the
    // needed size in the context) when it does not fit.
    [[nodiscard]] result<std::size_t> read_into(std::span<std::byte> out) const;
    // The current content's size; errc::not_found when nothing was stored yet.
    [[nodiscard]] result<std::uint64_t> size() const;
    [[nodiscard]] bool exists() const;
    // Deletes the content (not an error when missing).
    result<> remove();

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace kithara::storage
