// kithara::assets::asset_store: a persistent disk cache of assets (one HLS stream, one progressive
// file) holding named resources, with a byte and entry budget, LRU eviction, leases and pins.
//
//   auto store = kithara::assets::asset_store::open("/var/cache/app", {.max_bytes = 1 << 30});
//   auto asset = store->open_asset("https://cdn.example/show/master.m3u8");      // a lease
//   auto seg = asset->open_streaming("https://cdn.example/show/v1/seg-7.ts");    // shared
//   asset->remove_resource("https://cdn.example/show/v1/seg-6.ts");              // drop one
//
// Layout: <root>/<asset-key-hex>/<resource-key-hex> (+ storage's ".ranges" and, while open or
// after a crash, ".rlog" beside streaming data),
// <root>/index, <root>/journal-0|1, <root>/lock, <root>/<asset>/pin, transient
// <root>/evicted/<asset>.<n> tombstones (docs/CACHE_FORMAT.md). Only 32-hex-digit names derived
// from canonical URLs (with fixed suffixes: ".ranges", ".removed.<n>", "evicted/") ever reach
// the file system.
//
// Budget: bytes are counted as resources grow (storage's growth callback), as atomic resources
// are replaced and as processed results are stored. When counted bytes exceed max_bytes or counted
// assets exceed max_assets, least-recently-used assets are evicted whole, O(1) each (an intrusive
// list), on the thread whose action went over budget (a writer, a closing handle). Leased (open)
// and pinned assets are never evicted; when only those remain, stats().over_budget is set and a
// warning is logged instead. pin_accounting chooses whether pinned assets count toward the budget.
//
// Background work: with store_options::background set, an eviction only renames each victim's
// directory to a tombstone (<root>/evicted/<A>.<n>, one rename on the caller's thread) and the
// journal append + recursive delete run on the background runner, as do the periodic index
// rewrites (coalesced: at most one drain task queued, one running; never two index writes at
// once). Budget bookkeeping still changes at once under the store mutex, so stats() is exact
// immediately. A re-open of an evicted URL gets a fresh directory at once (the old one is already
// renamed). Removed resources' renamed files are unlinked there too. ~asset_store runs
// still-queued work itself and waits for a running drain; tasks hold only a weak reference, so a
// task run after the store is gone does nothing. Still on the caller's thread in this mode: the
// journal record of a newly created or first-leased asset (it must precede the asset's data).
// Streaming resources' durability work runs there too (storage's streaming_options::defer_sync):
// the directory sync of a newly created resource file, and the flush after commit() (fdatasync,
// range-map rename, directory fsync), so commit() returns once the final length is published.
// At most 64 such jobs wait; beyond that the caller runs its job inline. Until its job ran, a
// committed resource stays open (a handle's stream count and asset lease): it is not evicted
// (asset_store::remove() reports its asset leased), a remove_resource() of it is deferred like
// one with open handles (re-opens get removal_pending meanwhile), and its asset may keep the
// store over budget. Crash safety is unchanged (docs/STORAGE.md "Deferred durability work").
//
// Threads: every member of asset_store and of the handles may be called from any thread. Locks:
// one store mutex guards the bookkeeping (assets, resources, per-resource open counts, LRU list,
// counters, flush, background queue and in-flight state); it is a leaf lock, never held across
// file I/O, a transform, a wait or a call of store_options::background (waits use a condition
// variable on it). Handles are movable RAII objects holding a reference-counted lease; the asset
// becomes evictable when its last handle closes. The store's shared state lives until the
// asset_store, every handle and every running background task are gone; the directory lock is
// released then. Buffers: read results are vectors the caller owns; spans are borrowed.
#pragma once

#include <kithara/assets/error.hpp>
#include <kithara/assets/export.hpp>
#include <kithara/assets/key.hpp>
#include <kithara/assets/transform.hpp>
#include <kithara/core/result.hpp>
#include <kithara/storage/atomic_resource.hpp>
#include <kithara/storage/streaming_resource.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace kithara::assets {

namespace detail {
struct store_impl;
}

// Whether pinned assets count toward max_bytes / max_assets.
enum class pin_accounting {
    excluded,  // (default) pinned bytes and assets are outside the budget: the cache budget holds
               // for everything else, offline downloads may take any extra space
    counted,   // pinned bytes and assets count: they shrink the room left for the LRU cache, and
               // pinned data alone above the budget sets over_budget (it is never deleted)
};

struct store_options {
    std::uint64_t max_bytes = std::uint64_t{1} << 30;  // byte budget
    std::size_t max_assets = 10'000;                   // entry budget (assets)
    key_policy keys;                                   // URL canonicalization policy
    pin_accounting pins = pin_accounting::excluded;
    // The index is rewritten (crash-safely) on flush(), on close, and after this many changes or
    // this much time since the last write, checked whenever the store is used (no timer thread).
    std::size_t flush_after_changes = 1024;
    std::chrono::milliseconds flush_after_time{10'000};
    // Passed to storage for streaming resources (range-map write interval, which fdatasyncs on
    // the writing thread); resource_options::flush_every_bytes overrides it per resource.
    std::uint64_t streaming_flush_every_bytes = 4 * 1024 * 1024;
    // storage::streaming_options::range_log for streaming resources: record written ranges in
    // an unsynced, boot-tagged log so a restart after a process crash re-downloads at most what
    // was being written (false: only the synced range map counts, as before the log).
    bool streaming_range_log = true;
    // "Run this soon on another thread; return false if you cannot" (e.g. a worker pool's
    // try_submit). When set, eviction's directory deletions and the periodic index rewrites run
    // there, as do streaming resources' directory syncs and post-commit flushes (see the header
    // comment); when empty or when it returns false they run inline on the thread that went
    // over budget (or that committed). Called from any thread without any store lock held. A
    // task dropped unrun is tolerated: its work runs with the next task or at ~asset_store.
    std::function<bool(std::function<void()>)> background{};
};

// Per-resource choices for asset_handle::open_streaming.
struct resource_options {
    // storage::streaming_options::flush_every_bytes for this resource: 0 = write the range map
    // (and fdatasync) only on flush()/commit()/close, never from write_at; nullopt = the store's
    // streaming_flush_every_bytes. Several handles of one resource share one storage object: the
    // options of the open that created it apply until its last handle closes; the options of
    // opens that join it meanwhile are ignored.
    std::optional<std::uint64_t> flush_every_bytes{};
};

struct store_stats {
    std::uint64_t bytes_used = 0;     // all resources of all assets
    std::uint64_t bytes_counted = 0;  // what the byte budget is checked against
    std::uint64_t bytes_pinned = 0;
    std::size_t entries = 0;  // assets
    std::size_t entries_counted = 0;
    std::size_t pinned = 0;
    std::size_t leased = 0;
    std::uint64_t hits = 0;    // resource opens / processed reads served from the store
    std::uint64_t misses = 0;  // resources that had to be created or computed
    std::uint64_t evictions = 0;
    std::uint64_t evicted_bytes = 0;
    std::uint64_t index_writes = 0;
    bool over_budget = false;    // only leased/pinned assets remain and the budget is exceeded
    bool index_rebuilt = false;  // the index was missing/corrupt at open and rebuilt from disk
    // Found by open()'s rescan of journaled (or, on a rebuild, all) asset directories: files
    // deleted as belonging to no resource and no live process (temp files of dead processes,
    // interrupted removals, range maps/logs without data), and temp files of live processes kept
    // (their bytes are counted, in bytes_used, while they exist).
    std::size_t orphans_removed = 0;
    std::size_t orphans_kept = 0;
};

// One asset, as listed by asset_store::assets(). Assets are named by key only (the store keeps
// no URLs): compare with asset_store::asset_id(url).
struct asset_info {
    key id;
    std::uint64_t bytes = 0;  // counted bytes of its resources
    std::size_t resources = 0;
    bool pinned = false;
    bool leased = false;         // handles are open
    std::uint64_t last_use = 0;  // logical clock: higher = used more recently
};

enum class resource_kind {
    streaming,  // sparse, has (or had) a range map: may be partial
    atomic,     // replaced whole (playlists, keys, processed results): complete when present
};

// One resource of an asset, as listed by asset_handle::resources().
struct resource_info {
    key id;
    resource_kind kind = resource_kind::streaming;
    std::uint64_t bytes = 0;              // counted bytes (a streaming resource: available bytes)
    std::optional<std::uint64_t> length;  // final length (streaming) or size (atomic), if known
    bool complete = false;                // every byte up to the length is present
    bool pinned = false;                  // the asset's pin (pins are per asset)
};

class asset_handle;

// A streaming (sparse, readable-while-downloading) resource of an asset; holds a lease.
// Several handles to the same resource share one storage::streaming_resource.
class KITHARA_ASSETS_EXPORT streaming_handle {
public:
    streaming_handle() = default;
    streaming_handle(streaming_handle&&) noexcept;
    streaming_handle& operator=(streaming_handle&&) noexcept;
    ~streaming_handle();

    [[nodiscard]] storage::streaming_resource& resource() const noexcept { return *res_; }
    storage::streaming_resource* operator->() const noexcept { return res_.get(); }
    [[nodiscard]] const key& id() const noexcept { return id_; }
    explicit operator bool() const noexcept { return res_ != nullptr; }

private:
    friend class asset_handle;
    std::shared_ptr<detail::store_impl> impl_;
    std::uint32_t slot_ = 0;
    std::uint32_t resource_ = 0;
    key id_;
    std::shared_ptr<storage::streaming_resource> res_;
};

// An atomically replaced resource (playlist, key) of an asset; holds a lease. replace() keeps the
// budget accounting right; reads go straight to storage.
class KITHARA_ASSETS_EXPORT atomic_handle {
public:
    atomic_handle() = default;
    atomic_handle(atomic_handle&&) noexcept;
    atomic_handle& operator=(atomic_handle&&) noexcept;
    ~atomic_handle();

    result<> replace(std::span<const std::byte> content);
    [[nodiscard]] result<bufpool::byte_buffer> read() const;
    [[nodiscard]] bool exists() const;
    [[nodiscard]] const key& id() const noexcept { return id_; }
    [[nodiscard]] const std::filesystem::path& path() const noexcept;

private:
    friend class asset_handle;
    std::shared_ptr<detail::store_impl> impl_;
    std::uint32_t slot_ = 0;
    std::uint32_t resource_ = 0;
    key id_;
    std::unique_ptr<storage::atomic_resource> res_;
};

// A lease on one asset. Movable; the lease ends when the handle is destroyed or reset().
class KITHARA_ASSETS_EXPORT asset_handle {
public:
    asset_handle() = default;
    asset_handle(asset_handle&&) noexcept;
    asset_handle& operator=(asset_handle&&) noexcept;
    ~asset_handle();

    // Another lease on the same asset.
    [[nodiscard]] asset_handle share() const;
    void reset() noexcept;
    explicit operator bool() const noexcept { return impl_ != nullptr; }

    [[nodiscard]] const key& id() const noexcept { return id_; }
    [[nodiscard]] std::filesystem::path directory() const;

    // Each resource is named by its own URL (canonicalized with the store's key policy).
    // errc::removal_pending while a remove_resource() of that URL waits for old handles to close.
    [[nodiscard]] result<streaming_handle> open_streaming(
        std::string_view resource_url, const resource_options& options = {}) const;
    [[nodiscard]] result<atomic_handle> open_atomic(std::string_view resource_url) const;

    // Deletes one resource of this asset (streaming: data, ".ranges" and ".ranges.tmp"; atomic:
    // its file), uncounts its bytes and drops it from the index; a resource that does not exist
    // is not an error. When handles to it are open the removal is deferred: it stays readable
    // and writable (and counted) through them, new opens of the URL fail with
    // errc::removal_pending, and the last handle's close deletes the files and uncounts the
    // bytes; after that the URL opens as a new, empty resource. The deleting thread (this one or
    // that close's) renames the files to <R>.removed.<n>[.ranges], so the name is free at once,
    // and unlinks them, or leaves the unlinking to store_options::background when set. No lock is
    // held across the I/O. Crash-safe: the asset is leased, hence journaled (and stays journaled
    // while renamed files await the background unlink), so a reload rescans its directory and
    // deletes ".removed." leftovers. One narrow window remains: a crash between the two renames
    // leaves the data file without its map; the rescan counts its blocks (the budget holds) and
    // the next open_streaming of the URL truncates it to nothing.
    result<> remove_resource(std::string_view resource_url) const;

    // The whole streaming resource at resource_url passed through t, computed once (the first
    // reader computes while concurrent readers wait; no lock is held during I/O or the transform)
    // and cached as an atomic resource of this asset. errc::incomplete when the source is not
    // completely downloaded; the transform's error otherwise (nothing cached then).
    [[nodiscard]] result<std::vector<std::byte>> read_processed(std::string_view resource_url,
                                                                const transform& t) const;

    result<> pin() const;
    result<> unpin() const;
    [[nodiscard]] bool pinned() const;

    // The asset's resources with their sizes and completeness; creates nothing. An open
    // streaming resource reports its live state, a closed one its synced range map. A data file
    // without a range map is listed as atomic when it has content (an empty one as an empty
    // streaming resource: an atomic resource replaced with no bytes is listed that way too).
    [[nodiscard]] result<std::vector<resource_info>> resources() const;

private:
    friend class asset_store;
    std::shared_ptr<detail::store_impl> impl_;
    std::uint32_t slot_ = 0;
    key id_;
};

class KITHARA_ASSETS_EXPORT asset_store {
public:
    // Creates the directory if needed and takes its exclusive lock (errc::store_locked when held
    // elsewhere). A missing, truncated, garbage or wrong-version index is rebuilt from the files
    // with a logged warning; pins always survive (marker files).
    [[nodiscard]] static result<asset_store> open(const std::filesystem::path& root,
                                                  store_options options = {});

    asset_store(asset_store&&) noexcept;
    asset_store& operator=(asset_store&&) noexcept;
    ~asset_store();  // flushes the index (errors are logged)

    // Which calls create: open_asset() and pin() create the asset when it does not exist;
    // asset_handle::open_streaming()/open_atomic() create the resource (read_processed() its
    // processed result). Everything else creates nothing: find_asset(), contains(),
    // is_pinned(), unpin(), remove(), assets(), asset_id(), asset_directory(), and
    // asset_handle::resources()/remove_resource().

    // A lease on the asset named by asset_url, created (empty) when new.
    [[nodiscard]] result<asset_handle> open_asset(std::string_view asset_url);
    // A lease on an existing asset; errc::not_found when there is none (nothing is created).
    [[nodiscard]] result<asset_handle> find_asset(std::string_view asset_url);

    // Persistent "keep offline" marks; pinning creates the asset when new.
    result<> pin(std::string_view asset_url);
    result<> unpin(std::string_view asset_url);
    [[nodiscard]] result<bool> is_pinned(std::string_view asset_url) const;
    [[nodiscard]] bool contains(std::string_view asset_url) const;

    // Every asset in the store (a snapshot, in no particular order).
    [[nodiscard]] std::vector<asset_info> assets() const;
    // The key that names asset_url's asset (in assets() and on disk).
    [[nodiscard]] result<key> asset_id(std::string_view asset_url) const;

    // Deletes an asset and all its resources; errc::invalid_argument while it is leased.
    result<> remove(std::string_view asset_url);

    // Writes the index now if anything changed (temp file, fsync, rename, directory fsync).
    result<> flush();

    [[nodiscard]] store_stats stats() const;
    [[nodiscard]] const std::filesystem::path& root() const noexcept;
    // The directory an asset lives in (whether or not it exists).
    [[nodiscard]] result<std::filesystem::path> asset_directory(std::string_view asset_url) const;

private:
    explicit asset_store(std::shared_ptr<detail::store_impl> impl);
    std::shared_ptr<detail::store_impl> impl_;
};

}  // namespace kithara::assets
