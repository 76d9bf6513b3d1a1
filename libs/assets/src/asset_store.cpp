#include <kithara/assets/asset_store.hpp>

#include <kithara/assets/error.hpp>
#include <kithara/detail/log.hpp>

#include "detail/fs.hpp"
#include "detail/index_format.hpp"
#include "detail/key_table.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

namespace kithara::assets {
namespace detail {

namespace fs = std::filesystem;
constexpr std::uint32_t npos = 0xFFFFFFFFu;

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
    std::vector<fs::path> bg_unlinks;        // renamed files of removed resources
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

    void lru_unlink(std::uint32_t s) {
        asset_rec& a = slots[s];
        if (!a.in_lru) return;
        if (a.prev != npos)
            slots[a.prev].next = a.next;
        else
            lru_head = a.next;
        if (a.next != npos)
            slots[a.next].prev = a.prev;
        else
            lru_tail = a.prev;
        a.prev = a.next = npos;
        a.in_lru = false;
    }
    // Counts an asset just loaded from the index or the disk: its bytes, and either the pinned
    // totals or a place at the LRU tail.
    void account_loaded(std::uint32_t s) {
        const asset_rec& a = slots[s];
        bytes_used += a.bytes;
        if (a.pinned) {
            bytes_pinned += a.bytes;
            ++pinned_entries;
        } else {
            lru_push_back(s);
        }
    }
    void lru_push_back(std::uint32_t s) {
        asset_rec& a = slots[s];
        assert(!a.in_lru);
        a.prev = lru_tail;
        a.next = npos;
        if (lru_tail != npos)
            slots[lru_tail].next = s;
        else
            lru_head = s;
        lru_tail = s;
        a.in_lru = true;
    }

    std::uint32_t insert_asset(const key& k) {
        std::uint32_t s;
        if (!free_slots.empty()) {
            s = free_slots.back();
            free_slots.pop_back();
        } else {
            s = static_cast<std::uint32_t>(slots.size());
            slots.emplace_back();
        }
        asset_rec& a = slots[s];
        a.id = k;
        a.live = true;
        const bool inserted = by_key.insert(k, s);
        assert(inserted);
        (void)inserted;
        ++entries;
        return s;
    }

    // Removes an unleased asset from the bookkeeping; the caller deletes its directory.
    void erase_asset(std::uint32_t s) {
        asset_rec& a = slots[s];
        assert(a.leases == 0);
        lru_unlink(s);
        bytes_used -= a.bytes;
        if (a.pinned) {
            bytes_pinned -= a.bytes;
            --pinned_entries;
        }
        --entries;
        by_key.erase(a.id);
        open_resources.erase(open_resources.lower_bound({s, 0}),
                             open_resources.lower_bound({s + 1, 0}));
        a = asset_rec{};
        free_slots.push_back(s);
        ++changes;
    }

    void add_bytes(std::uint32_t s, std::uint32_t r, std::int64_t delta) {
        asset_rec& a = slots[s];
        const auto d = static_cast<std::uint64_t>(delta);  // two's complement add
        a.resources[r].bytes += d;
        a.bytes += d;
        bytes_used += d;
        if (a.pinned) bytes_pinned += d;
        ++changes;
    }

    void acquire_locked(std::uint32_t s) {
        asset_rec& a = slots[s];
        lru_unlink(s);
        if (a.leases++ == 0) ++leased_entries;
        a.last_use = ++clock;
        ++changes;
    }

    void release_locked(std::uint32_t s, deferred& later) {
        asset_rec& a = slots[s];
        assert(a.leases > 0);
        if (--a.leases == 0) {
            --leased_entries;
            if (!a.dead.empty()) compact_locked(s);
            a.last_use = ++clock;
            if (!a.pinned && a.ready) lru_push_back(s);
        }
        ++changes;
        settle_locked(later);
    }

    // Erases the records of removed resources of an unleased asset (no index is held elsewhere).
    void compact_locked(std::uint32_t s) {
        asset_rec& a = slots[s];
        std::sort(a.dead.begin(), a.dead.end(), std::greater<>());
        for (const std::uint32_t r : a.dead) {
            a.resources.erase(a.resources.begin() + static_cast<std::ptrdiff_t>(r));
        }
        a.dead.clear();
        open_resources.erase(open_resources.lower_bound({s, 0}),
                             open_resources.lower_bound({s + 1, 0}));
    }

    // Evicts LRU assets while over budget, and decides whether to flush.
    void settle_locked(deferred& later) {
        while (over() && lru_head != npos) {
            const std::uint32_t victim = lru_head;
            const asset_rec& a = slots[victim];
            ++evictions;
            evicted_bytes += a.bytes;
            ++deleting[a.id];
            later.victims.push_back(a.id);
            erase_asset(victim);
        }
        const bool now_over = over();
        if (now_over && !over_budget) {
            KITHARA_LOG_WARN(
                "asset store {}: over budget ({} bytes in {} assets counted; budget {} bytes, {} "
                "assets) but every remaining asset is open or pinned",
                root.string(), counted_bytes(), counted_entries(), opts.max_bytes, opts.max_assets);
        }
        over_budget = now_over;
        if (!flushing && !bg_flush && changes > 0 &&
            (changes >= opts.flush_after_changes ||
             std::chrono::steady_clock::now() - last_flush >= opts.flush_after_time)) {
            later.flush = true;
        }
    }

    // --- actions outside the lock ---
    void journal_append(std::span<const key> keys, std::uint64_t in_epoch) {
        if (keys.empty()) return;
        std::vector<std::byte> buf;
        buf.reserve(keys.size() * journal_record_bytes);
        for (const key& k : keys) {
            const auto rec = journal_record(k);
            buf.insert(buf.end(), rec.begin(), rec.end());
        }
        const int fd = journal_fd[in_epoch & 1].get();
        const fs::path p = root / (in_epoch & 1 ? "journal-1" : "journal-0");
        auto w = write_all(fd, buf, p);
        if (w && ::fdatasync(fd) != 0)
            w = fail(std::error_code(errno, std::system_category()), "fdatasync " + p.string());
        if (!w) KITHARA_LOG_WARN("asset store: journal append failed: {}", w.error().message());
    }

    // Does the work decided under the lock: inline, or handed to opts.background.
    void run(deferred& later) {
        if (opts.background) {
            run_in_background(later);
        } else {
            run_plain(later);
        }
    }

    void run_plain(deferred& later) {
        if (!later.victims.empty()) {
            std::uint64_t e;
            {
                std::lock_guard lk(mu);
                e = epoch;
            }
            journal_append(later.victims, e);
            for (const key& k : later.victims) {
                std::error_code ec;
                fs::remove_all(asset_dir(k), ec);
                if (ec) {
                    KITHARA_LOG_WARN("asset store: removing evicted {} failed: {}",
                                     asset_dir(k).string(), ec.message());
                }
            }
            {
                std::lock_guard lk(mu);
                for (const key& k : later.victims) {
                    if (auto it = deleting.find(k); it != deleting.end() && --it->second == 0)
                        deleting.erase(it);
                }
            }
            cv.notify_all();
        }
        if (later.flush) {
            if (auto f = flush(false); !f) {
                KITHARA_LOG_WARN("asset store: index write failed: {}", f.error().message());
            }
        }
    }

    // Background mode: renames each victim's directory to a tombstone here (so the asset's name is
    // free again at once) and queues the journal append, the deletion and the index write.
    void run_in_background(deferred& later) {
        if (later.victims.empty() && !later.flush) return;
        std::vector<std::pair<key, fs::path>> tombs;
        std::vector<key> inline_victims;
        for (const key& k : later.victims) {
            const std::uint64_t n = ++tomb_seq;
            fs::path t = root / "evicted" / (k.hex() + "." + std::to_string(n));
            if (::rename(asset_dir(k).c_str(), t.c_str()) == 0) {
                tombs.emplace_back(k, std::move(t));
            } else {
                inline_victims.push_back(k);  // missing or not renamable: handled inline below
            }
        }
        bool submit = false;
        {
            std::lock_guard lk(mu);
            for (const auto& [k, t] : tombs) {
                if (auto it = deleting.find(k); it != deleting.end() && --it->second == 0)
                    deleting.erase(it);
                bg_deletes.emplace_back(k, t);
            }
            if (later.flush) bg_flush = true;
            if ((!tombs.empty() || later.flush) && !drain_queued) {
                drain_queued = true;
                submit = true;
            }
        }
        if (!tombs.empty()) cv.notify_all();
        if (!inline_victims.empty()) {
            deferred rest;
            rest.victims = std::move(inline_victims);
            run_plain(rest);
        }
        if (submit) submit_drain();
    }

    // Hands a drain task to opts.background (runs it here when declined). No lock held.
    void submit_drain() {
        auto ticket = std::make_shared<drain_ticket>();
        ticket->store = weak_from_this();
        if (!opts.background([ticket] {
                ticket->ran = true;
                if (auto self = ticket->store.lock()) self->drain();
            })) {
            drain();
        }
    }

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

    // Runs queued background work until none is left; returns at once when another thread is
    // draining (that thread picks up the new work). Never holds the lock across I/O.
    void drain() {
        std::unique_lock lk(mu);
        drain_queued = false;
        if (draining) return;
        draining = true;
        for (;;) {
            auto dels = std::move(bg_deletes);
            bg_deletes.clear();
            auto unlinks = std::move(bg_unlinks);
            bg_unlinks.clear();
            const bool want_flush = std::exchange(bg_flush, false);
            if (dels.empty() && unlinks.empty() && !want_flush) break;
            const std::uint64_t e = epoch;
            lk.unlock();
            if (!dels.empty()) {
                std::vector<key> keys;
                keys.reserve(dels.size());
                for (const auto& d : dels) keys.push_back(d.first);
                journal_append(keys, e);  // durable before the directories go
                for (const auto& d : dels) {
                    std::error_code ec;
                    fs::remove_all(d.second, ec);
                    if (ec) {
                        KITHARA_LOG_WARN("asset store: removing evicted {} failed: {}",
                                         d.second.string(), ec.message());
                    }
                }
            }
            unlink_all(unlinks);
            if (want_flush) {
                if (auto f = flush(false); !f) {
                    KITHARA_LOG_WARN("asset store: index write failed: {}", f.error().message());
                }
            }
            lk.lock();
        }
        draining = false;
        lk.unlock();
        cv.notify_all();
    }

    // Finishes queued background work on this thread and waits for a running drain.
    void quiesce() {
        drain();
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return !draining; });
    }

    void release(std::uint32_t s) {
        deferred later;
        {
            std::lock_guard lk(mu);
            release_locked(s, later);
        }
        run(later);
    }

    void on_growth(std::uint32_t s, std::uint32_t r, std::uint64_t n) {
        deferred later;
        {
            std::lock_guard lk(mu);
            add_bytes(s, r, static_cast<std::int64_t>(n));
            settle_locked(later);
        }
        run(later);
    }

    void set_resource_bytes(std::uint32_t s, std::uint32_t r, std::uint64_t bytes) {
        deferred later;
        {
            std::lock_guard lk(mu);
            const std::uint64_t old = slots[s].resources[r].bytes;
            add_bytes(s, r, static_cast<std::int64_t>(bytes - old));
            settle_locked(later);
        }
        run(later);
    }

    // --- per-resource handles and removal ---
    fs::path resource_path(std::uint32_t s, std::uint32_t r) const {
        return asset_dir(slots[s].id) / slots[s].resources[r].id.hex();
    }

    // mu held; the resource has no handles: uncounts it and marks it as being deleted.
    void begin_delete_locked(std::uint32_t s, std::uint32_t r, open_slot& os) {
        os.doomed = true;
        os.deleting = true;
        os.saved_bytes = slots[s].resources[r].bytes;
        add_bytes(s, r, -static_cast<std::int64_t>(os.saved_bytes));
    }

    static void unlink_all(const std::vector<fs::path>& paths) {
        for (const auto& p : paths) {
            if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
                KITHARA_LOG_WARN("asset store: unlink {} failed: {}", p.string(),
                                 std::error_code(errno, std::system_category()).message());
            }
        }
    }

    // Takes the files of a resource marked by begin_delete_locked out of the way by renaming
    // them to <R>.removed.<n>[.ranges] (range map first: a crash in between leaves data without
    // a map, which storage treats as empty), then drops its record; the renamed files are
    // unlinked here or, with opts.background, by the runner. The name is free on return.
    result<> finish_delete(std::uint32_t s, std::uint32_t r, const fs::path& path) {
        const std::string tomb = path.string() + ".removed." + std::to_string(++tomb_seq);
        std::vector<fs::path> junk;
        result<> out;
        const fs::path map = storage::streaming_resource::range_map_path(path);
        const fs::path map_tmp = path.string() + ".ranges.tmp";
        if (::unlink(map_tmp.c_str()) != 0 && errno != ENOENT) {
            out =
                fail(std::error_code(errno, std::system_category()), "unlink " + map_tmp.string());
        }
        for (const auto& [from, to] :
             {std::pair{map, fs::path(tomb + ".ranges")}, std::pair{path, fs::path(tomb)}}) {
            if (!out) break;
            if (::rename(from.c_str(), to.c_str()) == 0) {
                junk.push_back(to);
            } else if (errno != ENOENT) {
                out = fail(std::error_code(errno, std::system_category()),
                           "remove resource: rename " + from.string());
            }
        }
        deferred later;
        bool submit = false;
        {
            std::lock_guard lk(mu);
            auto it = open_resources.find({s, r});
            assert(it != open_resources.end() && it->second.deleting);
            if (out) {
                slots[s].dead.push_back(r);
                ++changes;
            } else {
                add_bytes(s, r, static_cast<std::int64_t>(it->second.saved_bytes));
            }
            open_resources.erase(it);
            settle_locked(later);
            if (opts.background && !junk.empty()) {
                bg_unlinks.insert(bg_unlinks.end(), junk.begin(), junk.end());
                junk.clear();
                submit = !std::exchange(drain_queued, true);
            }
        }
        cv.notify_all();
        unlink_all(junk);
        if (submit) submit_drain();
        run(later);
        return out;
    }

    // A streaming (stream) or atomic handle of resource r closed; the last one of a removed
    // resource deletes it. Called before the handle's lease is released.
    void close_resource(std::uint32_t s, std::uint32_t r, bool stream) {
        fs::path path;
        {
            std::lock_guard lk(mu);
            auto it = open_resources.find({s, r});
            assert(it != open_resources.end());
            open_slot& os = it->second;
            auto& count = stream ? os.streams : os.atomics;
            assert(count > 0);
            --count;
            if (os.streams + os.atomics > 0) {
                if (os.streams > 0 || !stream) return;
            } else if (!os.doomed) {
                open_resources.erase(it);
            } else {
                begin_delete_locked(s, r, os);
                path = resource_path(s, r);
            }
        }
        cv.notify_all();  // openers wait while a storage object closes
        if (!path.empty()) {
            if (auto d = finish_delete(s, r, path); !d) {
                KITHARA_LOG_WARN("asset store: deferred removal failed: {}", d.error().message());
            }
        }
    }

    // Encodes the index (mu held): LRU list oldest first, then leased/pinned assets by last use.
    std::vector<std::byte> encode_locked() const {
        std::size_t resources = 0;
        for (const auto& a : slots) {
            resources += a.live && a.ready ? a.resources.size() - a.dead.size() : 0;
        }
        index_writer w(clock, entries, resources);
        const auto put = [&](const asset_rec& a) {
            w.asset(a.id, a.last_use, a.pinned,
                    static_cast<std::uint32_t>(a.resources.size() - a.dead.size()));
            for (std::size_t r = 0; r < a.resources.size(); ++r) {
                if (!is_dead(a, r)) w.resource(a.resources[r].id, a.resources[r].bytes);
            }
        };
        for (std::uint32_t s = lru_head; s != npos; s = slots[s].next) put(slots[s]);
        std::vector<std::uint32_t> rest;
        for (std::uint32_t s = 0; s < slots.size(); ++s) {
            const auto& a = slots[s];
            if (a.live && a.ready && !a.in_lru) rest.push_back(s);
        }
        std::sort(rest.begin(), rest.end(), [&](std::uint32_t x, std::uint32_t y) {
            return slots[x].last_use < slots[y].last_use;
        });
        for (auto s : rest) put(slots[s]);
        return w.finish();
    }

    // Writes the index; with wait=false returns at once when another flush is running.
    result<> flush(bool wait) {
        std::vector<std::byte> image;
        std::vector<key> leased;
        std::uint64_t old_epoch;
        std::size_t snapshot_changes;
        {
            std::unique_lock lk(mu);
            if (flushing && !wait) return {};
            cv.wait(lk, [&] { return !flushing; });
            if (changes == 0) return {};  // the index on disk is current
            flushing = true;
            image = encode_locked();
            old_epoch = epoch++;
            for (auto& a : slots) {
                if (a.live && a.leases > 0) {
                    a.journal_epoch = epoch;  // still open: keep it journaled in the new epoch
                    leased.push_back(a.id);
                }
            }
            // Directories being deleted are absent from this index: journal them too, so a crash
            // before their removal finishes cannot leave an unindexed directory behind.
            for (const auto& d : deleting) leased.push_back(d.first);
            snapshot_changes = changes;
            changes = 0;
            last_flush = std::chrono::steady_clock::now();
        }
        journal_append(leased, old_epoch + 1);
        auto w = replace_file(root / "index", image, dir_fd.get());
        if (w) {
            const int fd = journal_fd[old_epoch & 1].get();
            if (::ftruncate(fd, 0) != 0) {
                KITHARA_LOG_WARN("asset store {}: truncating a journal failed", root.string());
            }
        }
        {
            std::lock_guard lk(mu);
            flushing = false;
            if (w) {
                ++index_writes;
            } else {
                changes += snapshot_changes;
            }
        }
        cv.notify_all();
        return w;
    }

    // --- leases ---
    // Returns the slot of a leased, ready asset, creating it (and its directory) when new.
    result<std::uint32_t> lease(const key& k) {
        std::unique_lock lk(mu);
        for (;;) {
            if (deleting.contains(k)) {
                cv.wait(lk);
                continue;
            }
            const std::uint32_t s = find(k);
            if (s != npos) {
                if (!slots[s].ready) {
                    cv.wait(lk);
                    continue;
                }
                acquire_locked(s);
                const bool journal = slots[s].journal_epoch != epoch;
                slots[s].journal_epoch = epoch;
                const std::uint64_t e = epoch;
                lk.unlock();
                if (journal) journal_append(std::span<const key>(&k, 1), e);
                return s;
            }
            const std::uint32_t n = insert_asset(k);
            asset_rec& a = slots[n];
            a.ready = false;
            a.leases = 1;
            ++leased_entries;
            a.last_use = ++clock;
            a.journal_epoch = epoch;
            const std::uint64_t e = epoch;
            ++changes;
            lk.unlock();
            journal_append(std::span<const key>(&k, 1), e);  // before any data can exist
            std::error_code ec;
            fs::create_directory(asset_dir(k), ec);
            deferred later;
            lk.lock();
            slots[n].ready = true;
            if (ec) {
                slots[n].leases = 0;
                --leased_entries;
                erase_asset(n);
            } else {
                settle_locked(later);
            }
            lk.unlock();
            cv.notify_all();
            if (ec) {
                return fail(std::error_code(ec), "create asset directory " + asset_dir(k).string());
            }
            run(later);
            return n;
        }
    }

    // --- load / rebuild ---
    struct scanned {
        asset_rec rec;
        std::int64_t mtime_ns = 0;
    };
    // Reads one asset directory; false when it does not exist.
    bool scan_asset(const key& k, scanned& out) const {
        const fs::path dir = asset_dir(k);
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) return false;
        struct stat dst {};
        if (::fstat(::dirfd(d), &dst) == 0) {
            out.mtime_ns =
                static_cast<std::int64_t>(dst.st_mtim.tv_sec) * 1'000'000'000 + dst.st_mtim.tv_nsec;
        }
        out.rec = asset_rec{};
        out.rec.id = k;
        out.rec.live = true;
        while (const dirent* e = ::readdir(d)) {
            const std::string_view name(e->d_name);
            key rk;
            if (name == "pin") {
                out.rec.pinned = true;
            } else if (name.find(".removed.") != std::string_view::npos) {
                (void)::unlinkat(::dirfd(d), e->d_name, 0);  // a removal's leftover (crash)
            } else if (key::from_hex(name, rk)) {
                struct stat st {};
                if (::fstatat(::dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
                const auto size = static_cast<std::uint64_t>(st.st_size);
                const auto blocks = static_cast<std::uint64_t>(st.st_blocks) * 512;
                resource_rec r;
                r.id = rk;
                r.bytes = std::min(size, blocks);
                out.rec.bytes += r.bytes;
                out.rec.resources.push_back(std::move(r));
            }
        }
        ::closedir(d);
        return true;
    }

    // Adds a loaded or scanned asset (single-threaded, during open).
    void adopt(asset_rec&& rec) {
        const std::uint32_t s = insert_asset(rec.id);
        asset_rec& a = slots[s];
        a.resources = std::move(rec.resources);
        a.bytes = rec.bytes;
        a.last_use = rec.last_use;
        a.pinned = rec.pinned;
        account_loaded(s);
    }

    void drop_loaded(std::uint32_t s) { erase_asset(s); }

    std::size_t rebuild_from_disk() {
        std::vector<scanned> found;
        if (DIR* d = ::opendir(root.c_str())) {
            while (const dirent* e = ::readdir(d)) {
                key k;
                scanned sc;
                if (key::from_hex(e->d_name, k) && scan_asset(k, sc))
                    found.push_back(std::move(sc));
            }
            ::closedir(d);
        }
        std::sort(found.begin(), found.end(),
                  [](const scanned& x, const scanned& y) { return x.mtime_ns < y.mtime_ns; });
        for (auto& sc : found) {
            sc.rec.last_use = ++clock;
            adopt(std::move(sc.rec));
        }
        return found.size();
    }

    result<> load() {
        auto file = mapped_file::open(root / "index");
        bool need_write = false;
        if (!file && file.error().code() == std::errc::no_such_file_or_directory) {
            const std::size_t n = rebuild_from_disk();
            if (n > 0) {
                KITHARA_LOG_WARN("asset store {}: index missing; rebuilt from {} asset directories",
                                 root.string(), n);
                index_rebuilt = true;
            }
            need_write = true;
        } else {
            std::string why;
            if (!file) {
                why = file.error().message();
            } else {
                const auto bytes = file->bytes();
                const std::size_t estimate = bytes.size() / index_asset_bytes + 64;
                slots.reserve(estimate);
                by_key.reserve(estimate);
                std::uint64_t file_clock = 0;
                const bool ok = decode_index(
                    bytes, file_clock, why, [&](const index_asset& ia, std::string& reason) {
                        const auto s = static_cast<std::uint32_t>(slots.size());
                        if (!by_key.insert(ia.id, s)) {
                            reason = "duplicate asset record";
                            return false;
                        }
                        asset_rec& a = slots.emplace_back();
                        a.id = ia.id;
                        a.live = true;
                        a.last_use = ia.last_use;
                        a.pinned = ia.pinned;
                        a.resources.resize(ia.resource_count);
                        decode_resources(ia.resource_records, a.resources.data());
                        for (const auto& r : a.resources) a.bytes += r.bytes;
                        ++entries;
                        account_loaded(s);
                        return true;
                    });
                if (ok) {
                    why.clear();
                    clock = std::max(clock, file_clock);
                }
            }
            if (!why.empty()) {
                reset_bookkeeping();
                const std::size_t n = rebuild_from_disk();
                KITHARA_LOG_WARN(
                    "asset store {}: index {}; rebuilt from disk ({} assets, {} pinned)",
                    root.string(), why, n, pinned_entries);
                index_rebuilt = true;
                need_write = true;
            }
        }
        // Assets changed after the last index write (created, opened, pinned, evicted): rescan.
        // An eviction tombstone counts as a journal record (it may predate its journal append).
        std::vector<key> journaled = remove_tombstones();
        for (int j = 0; j < 2; ++j) {
            auto jf = read_whole(root / (j ? "journal-1" : "journal-0"));
            if (jf) {
                auto keys = decode_journal(*jf);
                journaled.insert(journaled.end(), keys.begin(), keys.end());
            }
        }
        if (!journaled.empty() && !index_rebuilt) {
            std::sort(journaled.begin(), journaled.end());
            journaled.erase(std::unique(journaled.begin(), journaled.end()), journaled.end());
            for (const key& k : journaled) {
                scanned sc;
                const std::uint32_t s = find(k);
                const bool exists = scan_asset(k, sc);
                if (s != npos) {
                    sc.rec.last_use = slots[s].last_use;
                    drop_loaded(s);
                }
                if (exists) {
                    if (s == npos) sc.rec.last_use = ++clock;
                    adopt(std::move(sc.rec));
                }
            }
            need_write = true;
        }
        if (need_write) changes = std::max<std::size_t>(changes, 1);
        return {};
    }

    // Deletes leftover <root>/evicted/<A>.<n> directories (one small directory is read, never
    // the root); returns their asset keys.
    std::vector<key> remove_tombstones() const {
        const fs::path dir = root / "evicted";
        std::vector<key> keys;
        std::vector<std::string> names;
        if (DIR* d = ::opendir(dir.c_str())) {
            while (const dirent* e = ::readdir(d)) {
                const std::string_view name(e->d_name);
                if (name == "." || name == "..") continue;
                key k;
                if (name.size() > 33 && name[32] == '.' && key::from_hex(name.substr(0, 32), k)) {
                    keys.push_back(k);
                }
                names.emplace_back(name);
            }
            ::closedir(d);
        }
        for (const auto& n : names) {
            std::error_code ec;
            fs::remove_all(dir / n, ec);
            if (ec) {
                KITHARA_LOG_WARN("asset store: removing tombstone {} failed: {}",
                                 (dir / n).string(), ec.message());
            }
        }
        return keys;
    }

    void reset_bookkeeping() {
        slots.clear();
        free_slots.clear();
        by_key.clear();
        lru_head = lru_tail = npos;
        bytes_used = bytes_pinned = 0;
        entries = pinned_entries = leased_entries = 0;
    }
};

store_impl::~store_impl() {
    drain();  // work queued after ~asset_store (by closing handles); no drain can be running
    bool dirty;
    {
        std::lock_guard lk(mu);
        dirty = changes > 0;
    }
    if (dirty) {
        if (auto f = flush(true); !f) {
            KITHARA_LOG_WARN("asset store: final index write failed: {}", f.error().message());
        }
    }
}

}  // namespace detail

using detail::npos;
using detail::store_impl;
namespace fs = std::filesystem;

// ---------------------------------------------------------------- asset_store

asset_store::asset_store(std::shared_ptr<store_impl> impl) : impl_(std::move(impl)) {}
asset_store::asset_store(asset_store&&) noexcept = default;
asset_store& asset_store::operator=(asset_store&& o) noexcept {
    if (this != &o) {
        if (impl_) {
            impl_->quiesce();
            (void)impl_->flush(true);
        }
        impl_ = std::move(o.impl_);
    }
    return *this;
}
asset_store::~asset_store() {
    if (impl_) {
        impl_->quiesce();
        if (auto f = impl_->flush(true); !f) {
            KITHARA_LOG_WARN("asset store: index write at close failed: {}", f.error().message());
        }
    }
}

result<asset_store> asset_store::open(const fs::path& root, store_options options) {
    if (options.flush_after_changes == 0) options.flush_after_changes = 1;
    std::error_code ec;
    fs::create_directories(root, ec);
    if (ec) return fail(ec, "create store directory " + root.string());
    auto impl = std::make_shared<store_impl>(root, std::move(options));

    auto lock_fd = detail::open_file(root / "lock", O_RDWR | O_CREAT);
    if (!lock_fd) return fail(lock_fd.error());
    if (::flock(lock_fd->get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            return fail(errc::store_locked, "store directory " + root.string() +
                                                " is in use by another asset_store (lock " +
                                                (root / "lock").string() + ")");
        }
        return fail(std::error_code(errno, std::system_category()),
                    "flock " + (root / "lock").string());
    }
    impl->lock_fd = std::move(*lock_fd);
    auto dir_fd = detail::open_file(root, O_RDONLY | O_DIRECTORY);
    if (!dir_fd) return fail(dir_fd.error());
    impl->dir_fd = std::move(*dir_fd);

    if (auto l = impl->load(); !l) return fail(l.error());
    if (impl->opts.background) {
        fs::create_directory(root / "evicted", ec);  // eviction tombstones (background mode)
        if (ec) return fail(ec, "create " + (root / "evicted").string());
    }
    for (int j = 0; j < 2; ++j) {
        auto jfd = detail::open_file(root / (j ? "journal-1" : "journal-0"),
                                     O_WRONLY | O_CREAT | O_APPEND);
        if (!jfd) return fail(jfd.error());
        impl->journal_fd[static_cast<std::size_t>(j)] = std::move(*jfd);
    }
    detail::deferred later;
    {
        std::lock_guard lk(impl->mu);
        impl->settle_locked(later);
        if (impl->changes > 0) later.flush = false;  // written below, with both journals cleared
    }
    impl->run(later);
    if (impl->changes > 0) {
        if (auto f = impl->flush(true); !f) return fail(f.error());
        if (::ftruncate(impl->journal_fd[0].get(), 0) != 0 ||
            ::ftruncate(impl->journal_fd[1].get(), 0) != 0) {
            return fail(std::error_code(errno, std::system_category()),
                        "truncate journals in " + root.string());
        }
    }
    return asset_store(std::move(impl));
}

result<asset_handle> asset_store::open_asset(std::string_view asset_url) {
    auto canon = canonicalize_url(asset_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    const key k = asset_key(*canon);
    auto s = impl_->lease(k);
    if (!s) return fail(s.error());
    asset_handle h;
    h.impl_ = impl_;
    h.slot_ = *s;
    h.id_ = k;
    return h;
}

result<> asset_store::pin(std::string_view asset_url) {
    auto h = open_asset(asset_url);
    if (!h) return fail(h.error());
    return h->pin();
}

result<> asset_store::unpin(std::string_view asset_url) {
    auto canon = canonicalize_url(asset_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    {
        std::lock_guard lk(impl_->mu);
        const auto s = impl_->find(asset_key(*canon));
        if (s == npos || !impl_->slots[s].pinned) return {};
    }
    auto h = open_asset(asset_url);
    if (!h) return fail(h.error());
    return h->unpin();
}

result<bool> asset_store::is_pinned(std::string_view asset_url) const {
    auto canon = canonicalize_url(asset_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    std::lock_guard lk(impl_->mu);
    const auto s = impl_->find(asset_key(*canon));
    return s != npos && impl_->slots[s].pinned;
}

bool asset_store::contains(std::string_view asset_url) const {
    auto canon = canonicalize_url(asset_url, impl_->opts.keys);
    if (!canon) return false;
    std::lock_guard lk(impl_->mu);
    return impl_->find(asset_key(*canon)) != npos;
}

result<> asset_store::remove(std::string_view asset_url) {
    auto canon = canonicalize_url(asset_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    const key k = asset_key(*canon);
    std::uint64_t e;
    {
        std::lock_guard lk(impl_->mu);
        const auto s = impl_->find(k);
        if (s == npos) return fail(errc::not_found, "remove asset " + k.hex());
        if (impl_->slots[s].leases > 0 || !impl_->slots[s].ready) {
            return fail(errc::invalid_argument, "remove asset " + k.hex() + ": it is open");
        }
        impl_->erase_asset(s);
        ++impl_->deleting[k];
        e = impl_->epoch;
    }
    impl_->journal_append(std::span<const key>(&k, 1), e);
    std::error_code ec;
    fs::remove_all(impl_->asset_dir(k), ec);
    {
        std::lock_guard lk(impl_->mu);
        if (auto it = impl_->deleting.find(k); it != impl_->deleting.end() && --it->second == 0)
            impl_->deleting.erase(it);
    }
    impl_->cv.notify_all();
    if (ec) return fail(ec, "remove " + impl_->asset_dir(k).string());
    return {};
}

result<> asset_store::flush() {
    return impl_->flush(true);
}

store_stats asset_store::stats() const {
    std::lock_guard lk(impl_->mu);
    const store_impl& i = *impl_;
    store_stats s;
    s.bytes_used = i.bytes_used;
    s.bytes_counted = i.counted_bytes();
    s.bytes_pinned = i.bytes_pinned;
    s.entries = i.entries;
    s.entries_counted = i.counted_entries();
    s.pinned = i.pinned_entries;
    s.leased = i.leased_entries;
    s.hits = i.hits;
    s.misses = i.misses;
    s.evictions = i.evictions;
    s.evicted_bytes = i.evicted_bytes;
    s.index_writes = i.index_writes;
    s.over_budget = i.over_budget;
    s.index_rebuilt = i.index_rebuilt;
    return s;
}

const fs::path& asset_store::root() const noexcept {
    return impl_->root;
}

result<fs::path> asset_store::asset_directory(std::string_view asset_url) const {
    auto canon = canonicalize_url(asset_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    return impl_->asset_dir(asset_key(*canon));
}

// ---------------------------------------------------------------- asset_handle

asset_handle::asset_handle(asset_handle&& o) noexcept
    : impl_(std::move(o.impl_)), slot_(o.slot_), id_(o.id_) {}
asset_handle& asset_handle::operator=(asset_handle&& o) noexcept {
    if (this != &o) {
        reset();
        impl_ = std::move(o.impl_);
        slot_ = o.slot_;
        id_ = o.id_;
    }
    return *this;
}
asset_handle::~asset_handle() {
    reset();
}

void asset_handle::reset() noexcept {
    if (impl_) {
        impl_->release(slot_);
        impl_.reset();
    }
}

asset_handle asset_handle::share() const {
    asset_handle h;
    if (!impl_) return h;
    {
        std::lock_guard lk(impl_->mu);
        impl_->acquire_locked(slot_);
    }
    h.impl_ = impl_;
    h.slot_ = slot_;
    h.id_ = id_;
    return h;
}

fs::path asset_handle::directory() const {
    return impl_->asset_dir(id_);
}

namespace {
error removal_pending_error(const key& asset, const key& res, const detail::open_slot& os) {
    return error(errc::removal_pending,
                 "open resource " + res.hex() + " of asset " + asset.hex() + ": removed, " +
                     std::to_string(os.streams + os.atomics) + " handles still open");
}
}  // namespace

result<streaming_handle> asset_handle::open_streaming(std::string_view resource_url,
                                                      const resource_options& options) const {
    assert(impl_);
    auto canon = canonicalize_url(resource_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    const key rk = resource_key(*canon);
    store_impl& i = *impl_;
    std::uint32_t r;
    bool created = false;
    streaming_handle h;
    {
        std::unique_lock lk(i.mu);
        for (;;) {
            auto& a = i.slots[slot_];
            r = store_impl::find_resource(a, rk);
            if (r == npos) {
                r = static_cast<std::uint32_t>(a.resources.size());
                a.resources.push_back({rk, 0});
                created = true;
                ++i.misses;
                ++i.changes;
            }
            auto& os = i.open_resources[{slot_, r}];
            if (os.deleting) {
                i.cv.wait(lk);
                continue;
            }
            if (os.doomed) return fail(removal_pending_error(id_, rk, os));
            if (auto sp = os.res.lock()) {
                ++i.hits;
                ++os.streams;
                i.acquire_locked(slot_);
                h.impl_ = impl_;
                h.slot_ = slot_;
                h.resource_ = r;
                h.id_ = rk;
                h.res_ = std::move(sp);
                return h;
            }
            if (os.streams > 0) {  // another thread is opening or closing the storage object
                i.cv.wait(lk);
                continue;
            }
            if (!created) ++i.hits;
            ++os.streams;
            i.acquire_locked(slot_);
            break;
        }
    }
    // From here h owns a stream count and a lease: its destructor undoes both on failure.
    h.impl_ = impl_;
    h.slot_ = slot_;
    h.resource_ = r;
    h.id_ = rk;
    storage::streaming_options so;
    so.flush_every_bytes = options.flush_every_bytes.value_or(i.opts.streaming_flush_every_bytes);
    so.on_growth = [impl = impl_.get(), s = slot_, r](std::uint64_t n) {
        impl->on_growth(s, r, n);
    };
    const fs::path path = directory() / rk.hex();
    auto opened = storage::streaming_resource::open(path, std::move(so));
    if (!opened) return fail(opened.error());  // h's destructor undoes the count and lease
    auto sp = std::shared_ptr<storage::streaming_resource>(std::move(*opened));
    const std::uint64_t available = sp->available_bytes();
    detail::deferred later;
    {
        std::lock_guard lk(i.mu);
        auto& rec = i.slots[slot_].resources[r];
        i.open_resources[{slot_, r}].res = sp;
        i.add_bytes(slot_, r, static_cast<std::int64_t>(available - rec.bytes));
        i.settle_locked(later);
    }
    i.cv.notify_all();
    h.res_ = std::move(sp);
    i.run(later);
    return h;
}

result<atomic_handle> asset_handle::open_atomic(std::string_view resource_url) const {
    assert(impl_);
    auto canon = canonicalize_url(resource_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    const key rk = resource_key(*canon);
    store_impl& i = *impl_;
    atomic_handle h;
    {
        std::unique_lock lk(i.mu);
        for (;;) {
            auto& a = i.slots[slot_];
            auto r = store_impl::find_resource(a, rk);
            bool created = false;
            if (r == npos) {
                r = static_cast<std::uint32_t>(a.resources.size());
                a.resources.push_back({rk, 0});
                created = true;
            }
            auto& os = i.open_resources[{slot_, r}];
            if (os.deleting) {
                i.cv.wait(lk);
                continue;
            }
            if (os.doomed) return fail(removal_pending_error(id_, rk, os));
            if (created) {
                ++i.misses;
                ++i.changes;
            } else {
                ++i.hits;
            }
            ++os.atomics;
            i.acquire_locked(slot_);
            h.resource_ = r;
            break;
        }
    }
    h.impl_ = impl_;
    h.slot_ = slot_;
    h.id_ = rk;
    h.res_ = std::make_unique<storage::atomic_resource>(directory() / rk.hex());
    auto size = h.res_->size();
    i.set_resource_bytes(slot_, h.resource_, size ? *size : 0);
    return h;
}

result<> asset_handle::remove_resource(std::string_view resource_url) const {
    assert(impl_);
    auto canon = canonicalize_url(resource_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    const key rk = resource_key(*canon);
    store_impl& i = *impl_;
    std::uint32_t r;
    {
        std::unique_lock lk(i.mu);
        for (;;) {
            r = store_impl::find_resource(i.slots[slot_], rk);
            if (r == npos) return {};  // nothing to remove
            auto it = i.open_resources.find({slot_, r});
            if (it == i.open_resources.end()) break;
            if (it->second.deleting) {  // another remover is unlinking it: wait for the outcome
                i.cv.wait(lk);
                continue;
            }
            it->second.doomed = true;  // open handles: the last close deletes it
            return {};
        }
        i.begin_delete_locked(slot_, r, i.open_resources[{slot_, r}]);
    }
    return i.finish_delete(slot_, r, directory() / rk.hex());
}

result<std::vector<std::byte>> asset_handle::read_processed(std::string_view resource_url,
                                                            const transform& t) const {
    assert(impl_);
    auto canon = canonicalize_url(resource_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    store_impl& i = *impl_;
    const key out_key = processed_key(*canon, t.name);
    const fs::path out_path = directory() / out_key.hex();
    const auto flight = std::make_pair(id_, out_key);
    std::shared_ptr<detail::once_state> mine;
    bool cached = false;
    {
        std::unique_lock lk(i.mu);
        if (auto it = i.inflight.find(flight); it != i.inflight.end()) {
            auto theirs = it->second;
            i.cv.wait(lk, [&] { return theirs->done; });
            ++i.hits;
            return *theirs->value;
        }
        cached = store_impl::find_resource(i.slots[slot_], out_key) != npos;
        mine = std::make_shared<detail::once_state>();
        i.inflight.emplace(flight, mine);
    }
    const auto finish = [&](result<std::vector<std::byte>> value, bool hit) {
        detail::deferred later;
        {
            std::lock_guard lk(i.mu);
            mine->done = true;
            mine->value = value;
            i.inflight.erase(flight);
            if (hit)
                ++i.hits;
            else
                ++i.misses;
            i.acquire_locked(slot_);  // a use: touch
            i.release_locked(slot_, later);
        }
        i.cv.notify_all();
        i.run(later);
        return value;
    };
    if (cached) {
        storage::atomic_resource out(out_path);
        if (auto buf = out.read()) {
            std::span<const std::byte> bytes(buf->data(), buf->size());
            return finish(std::vector<std::byte>(bytes.begin(), bytes.end()), true);
        }
    }
    // Compute: read the whole source, transform, store. No lock is held here.
    auto src = open_streaming(resource_url);
    if (!src) return finish(fail(src.error()), false);
    storage::streaming_resource& res = src->resource();
    const auto len = res.final_length();
    if (!res.complete() || !len) {
        return finish(
            fail(errc::incomplete, "processed resource " + src->id().hex() + ": source has " +
                                       std::to_string(res.available_bytes()) +
                                       " bytes and is not complete"),
            false);
    }
    std::vector<std::byte> input(static_cast<std::size_t>(*len));
    for (std::size_t pos = 0; pos < input.size();) {
        auto n = res.read_at(pos, std::span(input).subspan(pos));
        if (!n || *n == 0) {
            return finish(fail(n ? error(errc::io_error, "short read") : n.error()), false);
        }
        pos += *n;
    }
    auto output = t.apply(input);
    if (!output) {
        error e = output.error();
        e.add_context("transform " + t.name + " of " + src->id().hex());
        return finish(fail(std::move(e)), false);
    }
    storage::atomic_resource out(out_path);
    if (auto w = out.replace(*output); !w) return finish(fail(w.error()), false);
    {
        std::uint32_t r;
        {
            std::lock_guard lk(i.mu);
            auto& a = i.slots[slot_];
            r = store_impl::find_resource(a, out_key);
            if (r == npos) {
                r = static_cast<std::uint32_t>(a.resources.size());
                a.resources.push_back({out_key, 0});
            }
        }
        i.set_resource_bytes(slot_, r, output->size());
    }
    return finish(std::move(*output), false);
}

// Pin and unpin of one asset are serialized (pin_busy, waited on without the lock held across the
// marker I/O), so the marker file and the in-memory flag always end in agreement.
namespace {
result<> set_pin(store_impl& i, std::uint32_t slot, const fs::path& marker, bool pin) {
    {
        std::unique_lock lk(i.mu);
        i.cv.wait(lk, [&] { return !i.slots[slot].pin_busy; });
        if (i.slots[slot].pinned == pin) return {};
        i.slots[slot].pin_busy = true;
    }
    auto m = pin ? detail::create_marker(marker) : detail::remove_marker(marker);
    detail::deferred later;
    {
        std::lock_guard lk(i.mu);
        auto& a = i.slots[slot];
        a.pin_busy = false;
        if (m) {
            a.pinned = pin;
            if (pin) {
                i.bytes_pinned += a.bytes;
                ++i.pinned_entries;
            } else {
                i.bytes_pinned -= a.bytes;
                --i.pinned_entries;
            }
            ++i.changes;
            i.settle_locked(later);
        }
    }
    i.cv.notify_all();
    i.run(later);
    return m;
}
}  // namespace

result<> asset_handle::pin() const {
    return set_pin(*impl_, slot_, directory() / "pin", true);
}

result<> asset_handle::unpin() const {
    return set_pin(*impl_, slot_, directory() / "pin", false);
}

bool asset_handle::pinned() const {
    std::lock_guard lk(impl_->mu);
    return impl_->slots[slot_].pinned;
}

// ---------------------------------------------------------------- resource handles

streaming_handle::streaming_handle(streaming_handle&& o) noexcept
    : impl_(std::move(o.impl_)),
      slot_(o.slot_),
      resource_(o.resource_),
      id_(o.id_),
      res_(std::move(o.res_)) {}
streaming_handle& streaming_handle::operator=(streaming_handle&& o) noexcept {
    if (this != &o) {
        streaming_handle old(std::move(*this));
        impl_ = std::move(o.impl_);
        slot_ = o.slot_;
        resource_ = o.resource_;
        id_ = o.id_;
        res_ = std::move(o.res_);
    }
    return *this;
}
streaming_handle::~streaming_handle() {
    res_.reset();  // the last handle closes (flushes) the resource before the lease ends
    if (impl_) {
        impl_->close_resource(slot_, resource_, true);
        impl_->release(slot_);
    }
}

atomic_handle::atomic_handle(atomic_handle&& o) noexcept
    : impl_(std::move(o.impl_)),
      slot_(o.slot_),
      resource_(o.resource_),
      id_(o.id_),
      res_(std::move(o.res_)) {}
atomic_handle& atomic_handle::operator=(atomic_handle&& o) noexcept {
    if (this != &o) {
        atomic_handle old(std::move(*this));
        impl_ = std::move(o.impl_);
        slot_ = o.slot_;
        resource_ = o.resource_;
        id_ = o.id_;
        res_ = std::move(o.res_);
    }
    return *this;
}
atomic_handle::~atomic_handle() {
    res_.reset();
    if (impl_) {
        impl_->close_resource(slot_, resource_, false);
        impl_->release(slot_);
    }
}

result<> atomic_handle::replace(std::span<const std::byte> content) {
    assert(res_);
    if (auto w = res_->replace(content); !w) return w;
    impl_->set_resource_bytes(slot_, resource_, content.size());
    return {};
}

result<bufpool::byte_buffer> atomic_handle::read() const {
    assert(res_);
    return res_->read();
}

bool atomic_handle::exists() const {
    return res_ && res_->exists();
}

const fs::path& atomic_handle::path() const noexcept {
    return res_->path();
}

}  // namespace kithara::assets
