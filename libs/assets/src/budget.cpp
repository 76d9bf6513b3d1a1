// store_impl, budget and LRU: counting bytes and assets, leases, the LRU list and the eviction
// decision (settle_locked), asset creation (lease).
#include "detail/store_impl.hpp"

#include <kithara/assets/error.hpp>
#include <kithara/detail/log.hpp>

#include <cassert>
#include <system_error>

namespace kithara::assets::detail {

void store_impl::lru_unlink(std::uint32_t s) {
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

void store_impl::account_loaded(std::uint32_t s) {
    const asset_rec& a = slots[s];
    bytes_used += a.bytes;
    if (a.pinned) {
        bytes_pinned += a.bytes;
        ++pinned_entries;
    } else {
        lru_push_back(s);
    }
}

void store_impl::lru_push_back(std::uint32_t s) {
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

std::uint32_t store_impl::insert_asset(const key& k) {
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

void store_impl::erase_asset(std::uint32_t s) {
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

void store_impl::add_bytes(std::uint32_t s, std::uint32_t r, std::int64_t delta) {
    asset_rec& a = slots[s];
    const auto d = static_cast<std::uint64_t>(delta);  // two's complement add
    a.resources[r].bytes += d;
    a.bytes += d;
    bytes_used += d;
    if (a.pinned) bytes_pinned += d;
    ++changes;
}

void store_impl::acquire_locked(std::uint32_t s) {
    asset_rec& a = slots[s];
    lru_unlink(s);
    if (a.leases++ == 0) ++leased_entries;
    a.last_use = ++clock;
    ++changes;
}

void store_impl::release_locked(std::uint32_t s, deferred& later) {
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

void store_impl::compact_locked(std::uint32_t s) {
    asset_rec& a = slots[s];
    std::sort(a.dead.begin(), a.dead.end(), std::greater<>());
    for (const std::uint32_t r : a.dead) {
        a.resources.erase(a.resources.begin() + static_cast<std::ptrdiff_t>(r));
    }
    a.dead.clear();
    open_resources.erase(open_resources.lower_bound({s, 0}),
                         open_resources.lower_bound({s + 1, 0}));
}

void store_impl::settle_locked(deferred& later) {
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

void store_impl::release(std::uint32_t s) {
    deferred later;
    {
        std::lock_guard lk(mu);
        release_locked(s, later);
    }
    run(later);
}

void store_impl::on_growth(std::uint32_t s, std::uint32_t r, std::uint64_t n) {
    deferred later;
    {
        std::lock_guard lk(mu);
        add_bytes(s, r, static_cast<std::int64_t>(n));
        settle_locked(later);
    }
    run(later);
}

void store_impl::set_resource_bytes(std::uint32_t s, std::uint32_t r, std::uint64_t bytes) {
    deferred later;
    {
        std::lock_guard lk(mu);
        const std::uint64_t old = slots[s].resources[r].bytes;
        add_bytes(s, r, static_cast<std::int64_t>(bytes - old));
        settle_locked(later);
    }
    run(later);
}

result<std::uint32_t> store_impl::lease(const key& k, bool create) {
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
        if (!create) return fail(errc::not_found, "asset " + k.hex() + " is not in the store");
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
}  // namespace kithara::assets::detail
