// kithara::storage::streaming_resource: a sparse file written at any offset and read while it
// grows, whose range map survives restarts and crashes.
//
//   auto res = kithara::storage::streaming_resource::open("/cache/a/seg-7.ts", {}).value();
//   res->write_at(4096, chunk);                     // network thread
//   res->wait_range({0, 8192}, until, stop); res->read_at(0, buf);   // decoder thread
//
// Files: the data at `path`, its range map at `path` + ".ranges" (range_map_path()), and a
// transient `path` + ".ranges.tmp". The map is written as a temp file, fsynced, renamed over the
// old one and the directory fsynced, always *after* fdatasync of the data it claims, so after a
// crash (kill -9, power loss) a reopened resource never reports bytes that were not durably
// written. It is written on flush(), commit(), close()/destruction, and automatically on the
// writing thread once `flush_every_bytes` newly available bytes have accumulated (never per write).
// Between flushes, each newly written range is also recorded in an unsynced range log
// (`path` + ".rlog", streaming_options::range_log), trusted at reopen only in the same boot and
// for the same data inode: after kill -9 the page cache still holds those bytes, after a power
// loss only the synced map counts. A missing map (and no log) means "nothing available"; a torn,
// corrupt or inconsistent map is discarded with a logged warning (open_status::recovered) unless
// `recover_corrupt_map` is false, in which case open() returns errc::corrupt_range_map. Bytes of
// the data file that neither the map nor a trusted log claims are released at open (the tail is
// truncated, holes are punched into unclaimed gaps), so the file's blocks match what is counted.
// A failed fdatasync fails the resource (durability is unknown); a failed automatic map write
// is logged and retried at the next flush (write_at still succeeds: the bytes are stored).
// With streaming_options::defer_sync set, open() of a new file hands the fsync of its directory
// entry to the runner (the first map write fsyncs the directory anyway, and a map beside a missing
// data file is discarded), and commit() publishes the final length, truncates, and hands the
// final flush to the runner: until it has run, a crash keeps exactly what an earlier crash would
// (the synced map, plus the range log's claims in the same boot), never more; a failure of the
// deferred fdatasync fails the resource then, and a failed deferred map write is retried by
// flush()/close(). close() and flush() still flush inline (waiting for a running deferred flush).
//
// Threads and locks: see resource.hpp. Data I/O is pread/pwrite on one descriptor with no lock
// held; one mutex guards the range set, lifecycle and waiters; a flag under that mutex (not a
// lock held across I/O) serialises map writes. One process per file at a time (assets locks its
// directory). Format: docs/STORAGE.md.
#pragma once

#include <kithara/storage/export.hpp>
#include <kithara/storage/resource.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

namespace kithara::storage {

// Runs a durability job later, once, on some other thread; returns false to decline (the caller
// then does the work inline). Jobs own what they touch (they keep the resource's descriptors and
// state alive), take no lock across their I/O, and may run after the resource was closed.
using sync_runner = std::function<bool(std::function<void()>)>;

struct streaming_options {
    // Write the range map after this many newly available bytes; 0: only on flush/commit/close.
    std::uint64_t flush_every_bytes = 4 * 1024 * 1024;
    // Create the data file when missing (its directory must exist); false: missing -> ENOENT.
    bool create = true;
    // Discard a corrupt range map and start empty (true), or fail open() (false).
    bool recover_corrupt_map = true;
    // Record each newly written range in the unsynced range log (`path` + ".rlog", one mapped
    // page: a 24-byte store per write, no system call), so that a reopen after a process crash
    // in the same boot resumes from every byte written, not only from the last flush. false:
    // only the synced map counts (the behaviour before the log).
    bool range_log = true;
    // See growth_callback: invoked on the writing thread with newly available bytes.
    growth_callback on_growth{};
    // Takes durability work off the calling thread (see sync_runner). Empty: all inline.
    sync_runner defer_sync{};
};

// What open() found on disk.
enum class open_status {
    created,    // no data file existed: a new, empty resource
    no_map,     // a data file but no range map: treated as empty (bytes get rewritten)
    loaded,     // the range map was valid and reloaded: the download resumes
    recovered,  // the range map was torn/corrupt/inconsistent: discarded, starts empty
};

// What a closed resource's synced range map says (streaming_resource::inspect).
struct map_summary {
    std::uint64_t available_bytes = 0;
    std::optional<std::uint64_t> final_length;
    bool complete = false;
    std::size_t ranges = 0;
};

class KITHARA_STORAGE_EXPORT streaming_resource final : public resource {
public:
    // Errors: system errors from open/fstat (e.g. ENOENT for a missing directory) with the path
    // in the context; errc::corrupt_range_map only when recover_corrupt_map is false.
    [[nodiscard]] static result<std::unique_ptr<streaming_resource>> open(
        const std::filesystem::path& path, streaming_options options = {});

    // Removes the data file and its range map (missing files are not an error). The resource
    // must not be open.
    static result<> remove(const std::filesystem::path& path);
    [[nodiscard]] static std::filesystem::path range_map_path(const std::filesystem::path& path);
    [[nodiscard]] static std::filesystem::path range_log_path(const std::filesystem::path& path);
    // Reads the range map of a resource that is not open here, without opening or changing
    // anything (the range log is not consulted). std::errc::no_such_file_or_directory when there
    // is no map; errc::corrupt_range_map when it does not decode.
    [[nodiscard]] static result<map_summary> inspect(const std::filesystem::path& path);

    ~streaming_resource() override;  // close(): flushes, errors are logged

    [[nodiscard]] open_status status_at_open() const noexcept;
    [[nodiscard]] const std::filesystem::path& path() const noexcept;
    // Bytes available at open only because the range log (same boot) claimed them.
    [[nodiscard]] std::uint64_t log_claimed_at_open() const noexcept;

private:
    struct impl;
    explicit streaming_resource(std::shared_ptr<impl> p);

    result<> do_write_at(std::uint64_t offset, std::span<const std::byte> data) override;
    result<std::size_t> do_read_at(std::uint64_t offset, std::span<std::byte> out) override;
    result<wait_outcome> do_wait_range(byte_range r, std::optional<deadline> until,
                                       std::stop_token stop) override;
    void do_async_wait_range(byte_range r, const asio::any_io_executor& executor,
                             wait_handler handler, std::stop_token stop) override;
    result<> do_commit(std::uint64_t final_length) override;
    void do_fail(error e) override;
    result<> do_flush() override;
    result<> do_close() override;
    [[nodiscard]] range_set do_available() const override;
    [[nodiscard]] std::uint64_t do_available_bytes() const override;
    [[nodiscard]] std::optional<std::uint64_t> do_final_length() const override;
    [[nodiscard]] std::optional<error> do_failure() const override;
    [[nodiscard]] bool do_complete() const override;
    [[nodiscard]] std::uint64_t do_stored_bytes() const override;

    std::shared_ptr<impl> impl_;  // shared with queued defer_sync jobs
};

}  // namespace kithara::storage
