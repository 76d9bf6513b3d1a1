// store_impl, persistence: the index (encode, write, load), the journals, the rebuild from
// directories and the eviction tombstones (docs/CACHE_FORMAT.md).
#include "detail/store_impl.hpp"

#include <kithara/detail/log.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>

namespace kithara::assets::detail {

void store_impl::journal_append(std::span<const key> keys, std::uint64_t in_epoch) {
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

std::vector<std::byte> store_impl::encode_locked() const {
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

result<> store_impl::flush(bool wait) {
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
        // So are assets whose removed resources' renamed files are not unlinked yet, and assets
        // holding another live process's temp files (rescanned until those are gone).
        for (const auto& u : unlinking) leased.push_back(u.first);
        for (const auto& a : slots) {
            if (a.live && a.leases == 0 && a.stray_bytes > 0) leased.push_back(a.id);
        }
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

void store_impl::adopt(asset_rec&& rec) {
    const std::uint32_t s = insert_asset(rec.id);
    asset_rec& a = slots[s];
    a.resources = std::move(rec.resources);
    a.bytes = rec.bytes;
    a.last_use = rec.last_use;
    a.stray_bytes = rec.stray_bytes;
    a.pinned = rec.pinned;
    account_loaded(s);
}

std::size_t store_impl::rebuild_from_disk() {
    std::vector<scanned> found;
    if (DIR* d = ::opendir(root.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            key k;
            scanned sc;
            if (key::from_hex(e->d_name, k) && scan_asset(k, sc)) {
                count_orphans(sc);
                found.push_back(std::move(sc));
            }
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

result<> store_impl::load() {
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
            KITHARA_LOG_WARN("asset store {}: index {}; rebuilt from disk ({} assets, {} pinned)",
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
            count_orphans(sc);
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

std::vector<key> store_impl::remove_tombstones() const {
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
            KITHARA_LOG_WARN("asset store: removing tombstone {} failed: {}", (dir / n).string(),
                             ec.message());
        }
    }
    return keys;
}

void store_impl::reset_bookkeeping() {
    slots.clear();
    free_slots.clear();
    by_key.clear();
    lru_head = lru_tail = npos;
    bytes_used = bytes_pinned = 0;
    entries = pinned_entries = leased_entries = 0;
}
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

}  // namespace kithara::assets::detail
