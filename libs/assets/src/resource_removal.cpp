// store_impl, resource removal: the rename-then-unlink deletion of one resource, now or when its
// last handle closes.
#include "detail/store_impl.hpp"

#include <kithara/detail/log.hpp>

#include <unistd.h>
#include <cassert>
#include <cerrno>
#include <string>
#include <system_error>

namespace kithara::assets::detail {

void store_impl::begin_delete_locked(std::uint32_t s, std::uint32_t r, open_slot& os) {
    os.doomed = true;
    os.deleting = true;
    os.saved_bytes = slots[s].resources[r].bytes;
    add_bytes(s, r, -static_cast<std::int64_t>(os.saved_bytes));
}

void store_impl::unlink_all(const std::vector<fs::path>& paths) {
    for (const auto& p : paths) {
        if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
            KITHARA_LOG_WARN("asset store: unlink {} failed: {}", p.string(),
                             std::error_code(errno, std::system_category()).message());
        }
    }
}

result<> store_impl::finish_delete(std::uint32_t s, std::uint32_t r, const fs::path& path) {
    const std::string tomb = path.string() + ".removed." + std::to_string(++tomb_seq);
    std::vector<fs::path> junk;
    result<> out;
    const fs::path map = storage::streaming_resource::range_map_path(path);
    const fs::path map_tmp = path.string() + ".ranges.tmp";
    // The unsynced range log goes first: it claims bytes of this data file only.
    for (const auto& p : {storage::streaming_resource::range_log_path(path), map_tmp}) {
        if (out && ::unlink(p.c_str()) != 0 && errno != ENOENT) {
            out = fail(std::error_code(errno, std::system_category()), "unlink " + p.string());
        }
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
            const key& id = slots[s].id;
            for (auto& j : junk) bg_unlinks.emplace_back(id, std::move(j));
            unlinking[id] += junk.size();
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

void store_impl::close_resource(std::uint32_t s, std::uint32_t r, bool stream) {
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
}  // namespace kithara::assets::detail
