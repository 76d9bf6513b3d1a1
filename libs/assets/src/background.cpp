// store_impl, deferred work: evictions' journal append and deletion and index rewrites, inline or
// drained on store_options::background.
#include "detail/store_impl.hpp"

#include <kithara/detail/log.hpp>

#include <stdio.h>
#include <cassert>
#include <string>

namespace kithara::assets::detail {

void store_impl::run(deferred& later) {
    if (opts.background) {
        run_in_background(later);
    } else {
        run_plain(later);
    }
}

void store_impl::run_plain(deferred& later) {
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

void store_impl::run_in_background(deferred& later) {
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

bool store_impl::defer_sync(std::uint32_t s, std::uint32_t r, std::function<void()>&& job) {
    if (!opts.background) return false;
    bool submit = false;
    {
        std::lock_guard lk(mu);
        if (bg_syncs.size() >= max_pending_syncs) return false;  // back-pressure: run inline
        pending_sync ps;
        ps.job = std::move(job);
        if (auto it = open_resources.find({s, r}); it != open_resources.end()) {
            // Opened (a commit): hold it like a handle, so neither a removal nor an eviction
            // moves its files before the job wrote their map. Opening (the directory sync of a
            // new file): the job holds only a descriptor of the directory.
            if (auto sp = it->second.res.lock()) {
                ++it->second.streams;
                acquire_locked(s);
                ps.keep = std::move(sp);
                ps.slot = s;
                ps.resource = r;
            }
        }
        bg_syncs.push_back(std::move(ps));
        if (!drain_queued) {
            drain_queued = true;
            submit = true;
        }
    }
    if (submit) submit_drain();
    return true;
}

void store_impl::submit_drain() {
    auto ticket = std::make_shared<drain_ticket>();
    ticket->store = weak_from_this();
    if (!opts.background([ticket] {
            ticket->ran = true;
            if (auto self = ticket->store.lock()) self->drain();
        })) {
        drain();
    }
}

void store_impl::drain() {
    std::unique_lock lk(mu);
    drain_queued = false;
    if (draining) return;
    draining = true;
    for (;;) {
        auto dels = std::move(bg_deletes);
        bg_deletes.clear();
        auto unlinks = std::move(bg_unlinks);
        bg_unlinks.clear();
        auto syncs = std::move(bg_syncs);
        bg_syncs.clear();
        const bool want_flush = std::exchange(bg_flush, false);
        if (dels.empty() && unlinks.empty() && syncs.empty() && !want_flush) break;
        const std::uint64_t e = epoch;
        lk.unlock();
        for (auto& ps : syncs) {
            ps.job();
            if (!ps.keep) continue;
            ps.keep.reset();  // closes it here when its handles are gone (nothing left to flush)
            close_resource(ps.slot, ps.resource, true);
            release(ps.slot);
        }
        syncs.clear();
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
        if (!unlinks.empty()) {
            std::vector<fs::path> paths;
            paths.reserve(unlinks.size());
            for (const auto& u : unlinks) paths.push_back(u.second);
            unlink_all(paths);
            std::lock_guard relock(mu);
            for (const auto& u : unlinks) {
                if (auto it = unlinking.find(u.first); it != unlinking.end() && --it->second == 0)
                    unlinking.erase(it);
            }
        }
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

void store_impl::quiesce() {
    drain();
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return !draining; });
}
}  // namespace kithara::assets::detail
