#include <kithara/storage/streaming_resource.hpp>

#include <kithara/detail/log.hpp>
#include <kithara/storage/error.hpp>

#include "detail/range_log.hpp"
#include "detail/range_map_file.hpp"
#include "detail/range_state.hpp"

#include <cerrno>
#include <limits>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kithara::storage {

namespace {

constexpr std::uint64_t max_file_offset =
    static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());

std::filesystem::path with_suffix(const std::filesystem::path& p, const char* suffix) {
    std::filesystem::path out = p;
    out += suffix;
    return out;
}

// Gives back the blocks of the data file that hold no claimed byte: bytes written after the last
// flush that neither the map nor the range log claims (after a crash) are cut off the tail and
// punched out of the gaps, so the file's allocated blocks match what is counted.
void release_unclaimed(int fd, const range_set& claimed, std::optional<std::uint64_t> final_length,
                       const struct ::stat& st, const std::filesystem::path& path) {
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const auto allocated = static_cast<std::uint64_t>(st.st_blocks) * 512;
    std::uint64_t keep = final_length ? *final_length : claimed.max_end();
    if (size > keep) {
        if (::ftruncate(fd, static_cast<off_t>(keep)) != 0) {
            KITHARA_LOG_WARN("storage: truncating unclaimed tail of {} failed: {}", path.string(),
                             std::error_code(errno, std::system_category()).message());
            return;
        }
    } else {
        keep = size;
    }
    if (allocated <= claimed.covered_bytes()) return;  // no whole unclaimed block can exist
    for (const auto& g : claimed.gaps({0, keep})) {
        if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(g.begin),
                        static_cast<off_t>(g.size())) != 0) {
            KITHARA_LOG_WARN("storage: releasing unclaimed bytes of {} failed: {}", path.string(),
                             std::error_code(errno, std::system_category()).message());
            return;
        }
    }
}

}  // namespace

struct streaming_resource::impl {
    std::filesystem::path path;
    std::filesystem::path map_path;
    std::filesystem::path tmp_path;
    std::filesystem::path log_path;
    int fd = -1;
    int dir_fd = -1;
    std::uint64_t inode = 0;
    open_status status = open_status::created;
    streaming_options options;
    std::uint64_t log_claimed = 0;  // bytes the range log added at open
    std::once_flag log_once;
    std::unique_ptr<detail::range_log> log;  // outlives its attachment to `state`
    detail::range_state state;

    ~impl() {
        if (fd >= 0) ::close(fd);
        if (dir_fd >= 0) ::close(dir_fd);
    }

    std::string path_string;  // for error contexts

    [[nodiscard]] detail::op_desc describe(const char* op, std::uint64_t offset,
                                           std::optional<std::uint64_t> length) const {
        return {op, offset, length, path_string};
    }

    // Data first, then the map that claims it. `wait`: explicit flush (waits for a running one).
    result<> flush(bool wait) {
        auto snap = state.begin_flush(wait);
        if (!snap) return {};
        if (::fdatasync(fd) != 0) {
            // The kernel may have dropped the dirty pages: durability of published bytes is
            // unknown, and a retried fsync could falsely succeed. Fail the resource for good.
            const error e = detail::errno_error(errno, "fdatasync", path);
            state.end_flush(nullptr);
            // The range log's claims may name pages the failed writeback dropped: a later open in
            // this boot must not trust them, so the log goes before the failure is published.
            state.attach_log(nullptr);
            ::unlink(log_path.c_str());
            state.mark_failed(e);
            return kithara::fail(e);
        }
        const auto bytes = detail::encode_range_map({snap->ranges, snap->final_length});
        auto r = detail::replace_file(tmp_path, map_path, dir_fd, bytes);
        state.end_flush(r ? &*snap : nullptr);
        return r;
    }

    // Creates the range log before the first write (once; without a boot id there is none).
    void ensure_log() {
        if (!options.range_log) return;
        std::call_once(log_once, [this] {
            const auto& boot = detail::current_boot_id();
            if (!boot) return;
            auto l = detail::range_log::create(log_path, *boot, inode);
            if (!l) {
                KITHARA_LOG_WARN("storage: no range log for {}: {}", path_string,
                                 l.error().message());
                return;
            }
            log = std::move(*l);
            state.attach_log(log.get());
        });
    }

    // After the final flush: the synced map holds everything, so the log is not needed.
    void drop_log() {
        state.attach_log(nullptr);
        if (state.fully_flushed()) ::unlink(log_path.c_str());  // also a stale one, log off
    }
};

result<std::unique_ptr<streaming_resource>> streaming_resource::open(
    const std::filesystem::path& path, streaming_options options) {
    auto p = std::make_unique<impl>();
    p->path = path;
    p->path_string = path.string();
    p->map_path = range_map_path(path);
    p->tmp_path = with_suffix(path, ".ranges.tmp");
    p->log_path = range_log_path(path);
    p->options = std::move(options);
    p->state.set_flush_threshold(p->options.flush_every_bytes);

    std::filesystem::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    p->dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (p->dir_fd < 0) return kithara::fail(detail::errno_error(errno, "open directory of", path));

    bool created = false;
    p->fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (p->fd < 0 && errno == ENOENT && p->options.create) {
        p->fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        created = p->fd >= 0;
        if (p->fd < 0 && errno == EEXIST) p->fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    }
    if (p->fd < 0) return kithara::fail(detail::errno_error(errno, "open", path));
    struct ::stat st {};
    if (::fstat(p->fd, &st) != 0) return kithara::fail(detail::errno_error(errno, "fstat", path));
    if (!S_ISREG(st.st_mode)) {
        return kithara::fail(std::make_error_code(std::errc::invalid_argument),
                             "open " + path.string() + ": not a regular file");
    }

    p->inode = static_cast<std::uint64_t>(st.st_ino);

    ::unlink(p->tmp_path.c_str());  // a temp map left by a crash mid-flush
    if (created) {
        // A map or log left beside a vanished data file describes nothing that exists.
        ::unlink(p->map_path.c_str());
        ::unlink(p->log_path.c_str());
        // Make the new directory entry durable. Inline, or deferred: until the first map write
        // (whose directory fsync covers this entry too) nothing durable claims the file, and a
        // map or log found beside a missing data file is discarded above.
        bool deferred = false;
        if (p->options.defer_sync) {
            const int dup_fd = ::fcntl(p->dir_fd, F_DUPFD_CLOEXEC, 0);
            if (dup_fd >= 0) {
                auto owned = std::shared_ptr<int>(new int(dup_fd), [](int* f) {
                    ::close(*f);
                    delete f;
                });
                deferred = p->options.defer_sync([owned] { ::fsync(*owned); });
            }
        }
        if (!deferred) ::fsync(p->dir_fd);
        p->status = open_status::created;
    } else {
        range_set synced;
        std::optional<std::uint64_t> final_length;
        auto bytes = detail::read_small_file(p->map_path, detail::max_range_map_bytes);
        if (!bytes && bytes.error() == std::errc::no_such_file_or_directory) {
            p->status = open_status::no_map;
        } else {
            result<detail::range_map> map =
                bytes ? detail::decode_range_map(*bytes)
                      : result<detail::range_map>(kithara::fail(bytes.error()));
            if (map && map->ranges.max_end() > static_cast<std::uint64_t>(st.st_size)) {
                map = kithara::fail(errc::corrupt_range_map,
                                    "ranges end at " + std::to_string(map->ranges.max_end()) +
                                        " but the data file has " + std::to_string(st.st_size) +
                                        " bytes");
            }
            if (map) {
                synced = std::move(map->ranges);
                final_length = map->final_length;
                p->status = open_status::loaded;
            } else {
                error e = map.error();
                e.add_context("range map " + p->map_path.string());
                if (!p->options.recover_corrupt_map) return kithara::fail(std::move(e));
                KITHARA_LOG_WARN("storage: discarding range map, resource restarts empty: {}",
                                 e.message());
                p->status = open_status::recovered;
            }
        }
        // The range log's claims count only in the boot that wrote them (kill -9 keeps the page
        // cache; a power loss does not), and never after a corrupt map.
        range_set unsynced;
        const auto& boot = detail::current_boot_id();
        if (p->options.range_log && boot && p->status != open_status::recovered) {
            const auto limit = std::min(static_cast<std::uint64_t>(st.st_size),
                                        final_length.value_or(max_file_offset));
            unsynced = detail::range_log::read_claims(p->log_path, *boot, p->inode, limit);
        }
        range_set claimed = synced;
        for (const auto& r : unsynced.ranges()) p->log_claimed += claimed.insert(r);
        release_unclaimed(p->fd, claimed, final_length, st, path);
        p->state.restore(std::move(synced), final_length, unsynced);
    }
    return std::unique_ptr<streaming_resource>(
        new streaming_resource(std::shared_ptr<impl>(std::move(p))));
}

result<> streaming_resource::remove(const std::filesystem::path& path) {
    for (const auto& p :
         {path, range_map_path(path), with_suffix(path, ".ranges.tmp"), range_log_path(path)}) {
        if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
            return kithara::fail(detail::errno_error(errno, "unlink", p));
        }
    }
    return {};
}

std::filesystem::path streaming_resource::range_map_path(const std::filesystem::path& path) {
    return with_suffix(path, ".ranges");
}

result<map_summary> streaming_resource::inspect(const std::filesystem::path& path) {
    const auto map_path = range_map_path(path);
    auto bytes = detail::read_small_file(map_path, detail::max_range_map_bytes);
    if (!bytes) return kithara::fail(bytes.error());
    auto map = detail::decode_range_map(*bytes);
    if (!map) return kithara::fail(map.error().add_context("range map " + map_path.string()));
    map_summary out;
    out.available_bytes = map->ranges.covered_bytes();
    out.final_length = map->final_length;
    out.complete = map->final_length && map->ranges.contains(byte_range{0, *map->final_length});
    out.ranges = map->ranges.size();
    return out;
}

std::filesystem::path streaming_resource::range_log_path(const std::filesystem::path& path) {
    return with_suffix(path, ".rlog");
}

streaming_resource::streaming_resource(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

streaming_resource::~streaming_resource() {
    if (!impl_->state.close(/*destroying=*/true)) return;
    if (auto r = impl_->flush(true); !r) {
        KITHARA_LOG_WARN("storage: closing {} failed: {}", impl_->path.string(),
                         r.error().message());
    }
    impl_->drop_log();
}

open_status streaming_resource::status_at_open() const noexcept {
    return impl_->status;
}
const std::filesystem::path& streaming_resource::path() const noexcept {
    return impl_->path;
}
std::uint64_t streaming_resource::log_claimed_at_open() const noexcept {
    return impl_->log_claimed;
}

result<> streaming_resource::do_write_at(std::uint64_t offset, std::span<const std::byte> data) {
    auto r = byte_range::at(offset, data.size());
    if (!r) return kithara::fail(r.error().add_context("write_at of " + impl_->path.string()));
    if (r->end > max_file_offset) {
        return kithara::fail(errc::invalid_range,
                             impl_->describe("write_at", offset, data.size()).str() +
                                 ": beyond the largest file offset");
    }
    if (auto c = impl_->state.check_write(*r, impl_->describe("write_at", offset, data.size()));
        !c) {
        return c;
    }
    if (data.empty()) return {};
    impl_->ensure_log();
    if (auto w = detail::pwrite_full(impl_->fd, offset, data); !w) {
        return kithara::fail(w.error().add_context(impl_->path.string()));
    }
    auto done = impl_->state.finish_write(*r, impl_->describe("write_at", offset, data.size()));
    if (!done) return kithara::fail(done.error());
    if (done->added != 0 && impl_->options.on_growth) impl_->options.on_growth(done->added);
    if (done->flush_due) {
        if (auto f = impl_->flush(false); !f) {
            if (impl_->state.failure()) return f;  // fdatasync failed: the resource failed
            // The bytes are stored and published; only the map lags. The next flush retries.
            KITHARA_LOG_WARN("storage: automatic range-map flush failed: {}", f.error().message());
        }
    }
    return {};
}

result<std::size_t> streaming_resource::do_read_at(std::uint64_t offset, std::span<std::byte> out) {
    if (auto r = byte_range::at(offset, out.size()); !r) {
        return kithara::fail(r.error().add_context("read_at of " + impl_->path.string()));
    }
    auto n =
        impl_->state.readable(offset, out.size(), impl_->describe("read_at", offset, out.size()));
    if (!n || *n == 0) return n;
    auto got = detail::pread_full(impl_->fd, offset, out.first(*n));
    if (!got) return kithara::fail(got.error().add_context(impl_->path.string()));
    if (*got != *n) {  // the file shrank under us: someone else truncated it
        return kithara::fail(std::make_error_code(std::errc::io_error),
                             impl_->describe("read_at", offset, out.size()).str() +
                                 ": data file shorter than its range map");
    }
    return n;
}

result<wait_outcome> streaming_resource::do_wait_range(byte_range r, std::optional<deadline> until,
                                                       std::stop_token stop) {
    auto o = impl_->state.wait(r, until, std::move(stop));
    if (!o) return kithara::fail(o.error().add_context(impl_->path.string()));
    return o;
}

void streaming_resource::do_async_wait_range(byte_range r, const asio::any_io_executor& executor,
                                             wait_handler handler, std::stop_token stop) {
    impl_->state.async_wait(r, executor, std::move(handler), std::move(stop));
}

result<> streaming_resource::do_commit(std::uint64_t final_length) {
    const auto what = impl_->describe("commit", final_length, std::nullopt);
    if (final_length > max_file_offset) return kithara::fail(errc::invalid_range, what.str());
    if (auto c = impl_->state.commit(final_length, what); !c) return c;
    if (::ftruncate(impl_->fd, static_cast<off_t>(final_length)) != 0) {
        return kithara::fail(detail::errno_error(errno, "ftruncate", impl_->path));
    }
    if (impl_->options.defer_sync) {
        // The final length is published; the flush that makes it durable runs on the runner.
        // A failed fdatasync there fails the resource; a failed map write is retried by the
        // next flush (close() at the latest).
        std::function<void()> job = [p = impl_] {
            if (auto r = p->flush(true); !r) {
                KITHARA_LOG_WARN("storage: deferred flush of {} failed: {}", p->path_string,
                                 r.error().message());
            }
        };
        if (impl_->options.defer_sync(std::move(job))) return {};
    }
    return impl_->flush(true);
}

void streaming_resource::do_fail(error e) {
    impl_->state.mark_failed(std::move(e));
}

result<> streaming_resource::do_flush() {
    if (impl_->state.closed()) return kithara::fail(errc::closed, "flush " + impl_->path.string());
    return impl_->flush(true);
}

result<> streaming_resource::do_close() {
    // Close first so that no write publishes after the final flush; then persist.
    if (!impl_->state.close()) return {};
    auto r = impl_->flush(true);
    impl_->drop_log();
    return r;
}

range_set streaming_resource::do_available() const {
    return impl_->state.available();
}
std::uint64_t streaming_resource::do_available_bytes() const {
    return impl_->state.available_bytes();
}
std::optional<std::uint64_t> streaming_resource::do_final_length() const {
    return impl_->state.final_length();
}
std::optional<error> streaming_resource::do_failure() const {
    return impl_->state.failure();
}
bool streaming_resource::do_complete() const {
    return impl_->state.complete();
}

std::uint64_t streaming_resource::do_stored_bytes() const {
    std::uint64_t total = 0;
    struct ::stat st {};
    if (::fstat(impl_->fd, &st) == 0) total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    for (const auto* p : {&impl_->map_path, &impl_->log_path}) {
        if (::stat(p->c_str(), &st) == 0) total += static_cast<std::uint64_t>(st.st_blocks) * 512;
    }
    return total;
}

}  // namespace kithara::storage
