#include <kithara/assets/asset_store.hpp>

#include <kithara/assets/error.hpp>
#include <kithara/detail/log.hpp>

#include "detail/store_impl.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <cerrno>

namespace kithara::assets {

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
        // Assets holding another live process's temp files stay journaled (rescanned next open).
        std::vector<key> stray;
        std::uint64_t e;
        {
            std::lock_guard lk(impl->mu);
            for (const auto& a : impl->slots) {
                if (a.live && a.stray_bytes > 0) stray.push_back(a.id);
            }
            e = impl->epoch;
        }
        impl->journal_append(stray, e);
    }
    if (impl->orphans_removed + impl->orphans_kept > 0) {
        KITHARA_LOG_INFO("asset store {}: removed {} orphaned files, kept {} of live processes",
                         root.string(), impl->orphans_removed, impl->orphans_kept);
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

result<asset_handle> asset_store::find_asset(std::string_view asset_url) {
    auto canon = canonicalize_url(asset_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    const key k = asset_key(*canon);
    auto s = impl_->lease(k, /*create=*/false);
    if (!s) return fail(s.error());
    asset_handle h;
    h.impl_ = impl_;
    h.slot_ = *s;
    h.id_ = k;
    return h;
}

std::vector<asset_info> asset_store::assets() const {
    std::vector<asset_info> out;
    std::lock_guard lk(impl_->mu);
    out.reserve(impl_->entries);
    for (const auto& a : impl_->slots) {
        if (!a.live || !a.ready) continue;
        asset_info i;
        i.id = a.id;
        i.bytes = a.bytes;
        i.resources = a.resources.size() - a.dead.size();
        i.pinned = a.pinned;
        i.leased = a.leases > 0;
        i.last_use = a.last_use;
        out.push_back(i);
    }
    return out;
}

result<key> asset_store::asset_id(std::string_view asset_url) const {
    auto canon = canonicalize_url(asset_url, impl_->opts.keys);
    if (!canon) return fail(canon.error());
    return asset_key(*canon);
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
    s.orphans_removed = i.orphans_removed;
    s.orphans_kept = i.orphans_kept;
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
}  // namespace kithara::assets
