// kithara::assets::detail::store_impl: the shared state behind asset_store and its handles, and
// the records it keeps. Private to libs/assets.
//
// The members are defined by component: budget.cpp (counting, LRU, eviction decisions, leases),
// background.cpp (running deferred work inline or on store_options::background),
// resource_removal.cpp (remove_resource and deferred removal), persistence.cpp (index, journal,
// load, rebuild, tombstones), scan.cpp (rescan of one asset directory: orphans, recovery of its
// streaming resources); handles.cpp and asset_store.cpp hold the public classes.
//
// Threads: any. Locks: `mu` guards every non-const member below it; it is a leaf lock, never held
// across file I/O, a transform, a wait (waits use `cv`) or a call of store_options::background.
// Members named *_locked and the bookkeeping helpers (find, insert_asset, erase_asset, add_bytes,
// lru_*, account_loaded) expect `mu` held (or run single-threaded in open); the others take it.
#pragma once

#include <kithara/assets/asset_store.hpp>

#include "detail/fs.hpp"
#include "detail/index_format.hpp"
#include "detail/key_table.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace kithara::assets::detail {

namespace fs = std::filesystem;
inline constexpr std::uint32_t npos = 0xFFFFFFFFu;

// {key, counted bytes}: the index's resource record, so loading is a block copy.
using resource_rec = index_resource;

// A resource with open handles (or being deleted). Exists only while streams + atomics > 0 or
// deleting. A streaming resource is shared by concurrent handles; while streams > 0 and `res`
// has expired, a thread is opening or closing the storage object (other openers wait).
struct open_slot {
    std::weak_ptr<storage::streaming_resource> res;
    std::uint32_t streams = 0;      // streaming handles, including one being opened or closed
    std::uint32_t atomics = 0;      // atomic handles
    bool doomed = false;            // remove_resource(): delete when the last handle closes
    bool deleting = false;          // its files are being unlinked (no lock held): openers wait
    std::uint64_t saved_bytes = 0;  // its counted bytes, restored if the deletion fails
};

struct asset_rec {
    key id;
    std::uint64_t bytes = 0;
    std::uint64_t last_use = 0;
    std::uint64_t journal_epoch = 0;  // == store epoch: listed in the current journal file
    std::uint32_t leases = 0;
    std::uint32_t prev = npos;  // LRU links (evictable assets only)
    std::uint32_t next = npos;
    bool live = false;
    bool in_lru = false;
    bool pinned = false;
    bool ready = true;      // false while its directory is being created
    bool pin_busy = false;  // a pin/unpin is writing the marker (others wait)
    // Counted bytes of files kept in its directory that belong to no resource (another live
    // process's temp files, found by a rescan); such an asset stays journaled (rescanned).
    std::uint64_t stray_bytes = 0;
    std::vector<resource_rec> resources;
    // Indices of removed resources. Records are not erased while the asset is leased (handles and
    // growth callbacks hold indices); they are compacted when the last lease ends.
    std::vector<std::uint32_t> dead;
};

struct once_state {
    bool done = false;
    std::optional<result<std::vector<std::byte>>> value;
};

// Work decided under the lock and done after it is released.
struct deferred {
    std::vector<key> victims;
    bool flush = false;
};

struct store_impl : std::enable_shared_from_this<store_impl> {
    store_impl(fs::path root_dir, store_options o) : root(std::move(root_dir)), opts(std::move(o)) {
        // Tombstone names stay unique across runs (a leftover one is removed at the next open).
        tomb_seq =
            static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    }
    ~store_impl();

    const fs::path root;
    const store_options opts;
    unique_fd lock_fd;
    unique_fd dir_fd;
    std::array<unique_fd, 2> journal_fd;

    mutable std::mutex mu;  // guards everything below
    std::condition_variable cv;
    std::vector<asset_rec> slots;
    std::vector<std::uint32_t> free_slots;
    key_table by_key;
    std::uint32_t lru_head = npos;
    std::uint32_t lru_tail = npos;
    std::uint64_t clock = 0;
    std::uint64_t epoch = 1;
    std::uint64_t bytes_used = 0;
    std::uint64_t bytes_pinned = 0;
    std::size_t entries = 0;
    std::size_t pinned_entries = 0;
    std::size_t leased_entries = 0;
    std::uint64_t hits = 0, misses = 0, evictions = 0, evicted_bytes = 0, index_writes = 0;
    bool over_budget = false;
    bool index_rebuilt = false;
    bool flushing = false;
    std::size_t changes = 0;
    std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();
    std::map<std::pair<std::uint32_t, std::uint32_t>, open_slot> open_resources;  // (asset, res)
    std::map<key, std::size_t> deleting;  // asset directories being removed (no lock held)
    std::map<std::pair<key, key>, std::shared_ptr<once_state>> inflight;
    // Background work (opts.background): tombstoned directories to journal and delete, and a
    // wanted index rewrite; one drain task queued at most (drain_queued), one running (draining).
    std::vector<std::pair<key, fs::path>> bg_deletes;
    bool bg_flush = false;
    bool drain_queued = false;
    bool draining = false;
    std::vector<std::pair<key, fs::path>> bg_unlinks;  // renamed files of removed resources
    // Durability jobs of streaming resources (directory sync of a new file, the flush after
    // commit), at most max_pending_syncs; each keeps its resource open (a stream count and a
    // lease) when it has one, so its files stay in place until the job ran.
    struct pending_sync {
        std::function<void()> job;
        std::shared_ptr<storage::streaming_resource> keep;  // empty: nothing held
        std::uint32_t slot = npos;
        std::uint32_t resource = npos;
    };
    static constexpr std::size_t max_pending_syncs = 64;
    std::vector<pending_sync> bg_syncs;
    // Assets with renamed files not yet unlinked: journaled by every index write until done.
    std::map<key, std::size_t> unlinking;
    std::size_t orphans_removed = 0, orphans_kept = 0;
    std::atomic<std::uint64_t> tomb_seq{0};  // tombstone name suffixes

    // --- paths ---
    fs::path asset_dir(const key& k) const { return root / k.hex(); }

    // --- bookkeeping (mu held) ---
    std::uint32_t find(const key& k) const { return by_key.find(k); }
    static bool is_dead(const asset_rec& a, std::size_t r) {
        return std::find(a.dead.begin(), a.dead.end(), r) != a.dead.end();
    }
    static std::uint32_t find_resource(const asset_rec& a, const key& k) {
        for (std::size_t i = 0; i < a.resources.size(); ++i) {
            if (a.resources[i].id == k && !is_dead(a, i)) return static_cast<std::uint32_t>(i);
        }
        return npos;
    }
    bool counts(const asset_rec& a) const {
        return !a.pinned || opts.pins == pin_accounting::counted;
    }
    std::uint64_t counted_bytes() const {
        return opts.pins == pin_accounting::counted ? bytes_used : bytes_used - bytes_pinned;
    }
    std::size_t counted_entries() const {
        return opts.pins == pin_accounting::counted ? entries : entries - pinned_entries;
    }
    bool over() const {
        return counted_bytes() > opts.max_bytes || counted_entries() > opts.max_assets;
    }

    // --- budget and LRU (budget.cpp) ---
    void lru_unlink(std::uint32_t s);
    // Counts an asset just loaded from the index or the disk: its bytes, and either the pinned
    // totals or a place at the LRU tail.
    void account_loaded(std::uint32_t s);
    void lru_push_back(std::uint32_t s);
    std::uint32_t insert_asset(const key& k);
    // Removes an unleased asset from the bookkeeping; the caller deletes its directory.
    void erase_asset(std::uint32_t s);
    void add_bytes(std::uint32_t s, std::uint32_t r, std::int64_t delta);
    void acquire_locked(std::uint32_t s);
    void release_locked(std::uint32_t s, deferred& later);
    // Erases the records of removed resources of an unleased asset (no index is held elsewhere).
    void compact_locked(std::uint32_t s);
    // Evicts LRU assets while over budget, and decides whether to flush.
    void settle_locked(deferred& later);
    void release(std::uint32_t s);
    void on_growth(std::uint32_t s, std::uint32_t r, std::uint64_t n);
    void set_resource_bytes(std::uint32_t s, std::uint32_t r, std::uint64_t bytes);
    // Returns the slot of a leased, ready asset, creating it (and its directory) when new, or
    // errc::not_found when new and `create` is false.
    result<std::uint32_t> lease(const key& k, bool create = true);

    // --- deferred work (background.cpp) ---
    // Does the work decided under the lock: inline, or handed to opts.background.
    void run(deferred& later);
    void run_plain(deferred& later);
    // Background mode: renames each victim's directory to a tombstone here (so the asset's name is
    // free again at once) and queues the journal append, the deletion and the index write.
    void run_in_background(deferred& later);
    // streaming_options::defer_sync of resource r of slot s: queues `job` for the drain when
    // opts.background is set and the queue has room (false: the caller runs it inline).
    bool defer_sync(std::uint32_t s, std::uint32_t r, std::function<void()>&& job);
    // Hands a drain task to opts.background (runs it here when declined). No lock held.
    void submit_drain();
    // Runs queued background work until none is left; returns at once when another thread is
    // draining (that thread picks up the new work). Never holds the lock across I/O.
    void drain();
    // Finishes queued background work on this thread and waits for a running drain.
    void quiesce();
    // Held by a queued drain task; when the runner drops the task unrun, the next piece of
    // background work queues a new one (the dropped work runs then or in the destructor).
    struct drain_ticket {
        std::weak_ptr<store_impl> store;
        bool ran = false;
        drain_ticket() = default;
        drain_ticket(const drain_ticket&) = delete;
        drain_ticket& operator=(const drain_ticket&) = delete;
        ~drain_ticket() {
            if (ran) return;
            if (auto self = store.lock()) {
                std::lock_guard lk(self->mu);
                self->drain_queued = false;
            }
        }
    };

    // --- per-resource handles and removal (resource_removal.cpp) ---
    fs::path resource_path(std::uint32_t s, std::uint32_t r) const {
        return asset_dir(slots[s].id) / slots[s].resources[r].id.hex();
    }

    // mu held; the resource has no handles: uncounts it and marks it as being deleted.
    void begin_delete_locked(std::uint32_t s, std::uint32_t r, open_slot& os);
    static void unlink_all(const std::vector<fs::path>& paths);
    // Takes the files of a resource marked by begin_delete_locked out of the way by renaming
    // them to <R>.removed.<n>[.ranges] (range map first: a crash in between leaves data without
    // a map, which storage treats as empty), then drops its record; the renamed files are
    // unlinked here or, with opts.background, by the runner. The name is free on return.
    result<> finish_delete(std::uint32_t s, std::uint32_t r, const fs::path& path);
    // A streaming (stream) or atomic handle of resource r closed; the last one of a removed
    // resource deletes it. Called before the handle's lease is released.
    void close_resource(std::uint32_t s, std::uint32_t r, bool stream);

    // --- index, journal, load, rebuild (persistence.cpp) ---
    struct scanned {
        asset_rec rec;
        std::int64_t mtime_ns = 0;
        std::size_t orphans_removed = 0;  // leftovers deleted by the scan
        std::size_t orphans_kept = 0;     // temp files of live processes (counted as stray bytes)
    };
    void journal_append(std::span<const key> keys, std::uint64_t in_epoch);
    // Encodes the index (mu held): LRU list oldest first, then leased/pinned assets by last use.
    std::vector<std::byte> encode_locked() const;
    // Writes the index; with wait=false returns at once when another flush is running.
    result<> flush(bool wait);
    // Reads one asset directory (scan.cpp); false when it does not exist. Deletes orphans (temp
    // files of dead processes, ".removed." leftovers, range maps and logs without data) and
    // recovers each streaming resource through storage (claims what is proven written, releases
    // the rest), so what it counts is what is on disk.
    bool scan_asset(const key& k, scanned& out) const;
    // Adds a scan's orphan counts to the store's (mu held or single-threaded open).
    void count_orphans(const scanned& sc) {
        orphans_removed += sc.orphans_removed;
        orphans_kept += sc.orphans_kept;
    }
    // Adds a loaded or scanned asset (single-threaded, during open).
    void adopt(asset_rec&& rec);
    std::size_t rebuild_from_disk();
    result<> load();
    // Deletes leftover <root>/evicted/<A>.<n> directories (one small directory is read, never
    // the root); returns their asset keys.
    std::vector<key> remove_tombstones() const;
    void reset_bookkeeping();
    void drop_loaded(std::uint32_t s) { erase_asset(s); }
};

}  // namespace kithara::assets::detail
