// asset_handle, streaming_handle, atomic_handle: leases on an asset and its resources.
#include <kithara/assets/asset_store.hpp>

#include <kithara/assets/error.hpp>

#include "detail/store_impl.hpp"

#include <cassert>
#include <string>

namespace kithara::assets {

using detail::npos;
using detail::store_impl;
namespace fs = std::filesystem;

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
    so.range_log = i.opts.streaming_range_log;
    so.on_growth = [impl = impl_.get(), s = slot_, r](std::uint64_t n) {
        impl->on_growth(s, r, n);
    };
    if (i.opts.background) {
        so.defer_sync = [impl = impl_.get(), s = slot_, r](std::function<void()> job) {
            return impl->defer_sync(s, r, std::move(job));
        };
    }
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

result<std::vector<resource_info>> asset_handle::resources() const {
    assert(impl_);
    store_impl& i = *impl_;
    struct entry {
        resource_info info;
        std::shared_ptr<storage::streaming_resource> open;
    };
    std::vector<entry> list;
    {
        std::lock_guard lk(i.mu);
        const auto& a = i.slots[slot_];
        for (std::uint32_t r = 0; r < a.resources.size(); ++r) {
            if (store_impl::is_dead(a, r)) continue;
            entry e;
            e.info.id = a.resources[r].id;
            e.info.bytes = a.resources[r].bytes;
            e.info.pinned = a.pinned;
            if (auto it = i.open_resources.find({slot_, r}); it != i.open_resources.end()) {
                e.open = it->second.res.lock();
            }
            list.push_back(std::move(e));
        }
    }
    // File reads without the lock: the lease keeps the asset's directory in place.
    std::vector<resource_info> out;
    out.reserve(list.size());
    for (auto& e : list) {
        resource_info& info = e.info;
        const fs::path path = directory() / info.id.hex();
        if (e.open) {
            info.length = e.open->final_length();
            info.complete = e.open->complete();
        } else if (auto m = storage::streaming_resource::inspect(path)) {
            info.length = m->final_length;
            info.complete = m->complete;
        } else if (m.error() != std::errc::no_such_file_or_directory) {
            return fail(m.error());
        } else {
            std::error_code ec;
            const auto size = fs::file_size(path, ec);
            if (!ec && size > 0) {
                info.kind = resource_kind::atomic;
                info.length = size;
                info.complete = true;
            }
        }
        out.push_back(info);
    }
    return out;
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
