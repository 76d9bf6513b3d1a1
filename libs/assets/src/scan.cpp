// store_impl, rescan of one asset directory (after a crash, or a rebuild): which files are
// resources, which are orphans to delete, and what each resource counts once recovered.
#include "detail/store_impl.hpp"

#include <kithara/detail/log.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <charconv>
#include <set>
#include <string>
#include <string_view>

namespace kithara::assets::detail {

namespace {

// The pid of a storage temp file name "<R>.tmp.<pid>.<n>", or 0.
pid_t temp_owner(std::string_view name) {
    if (name.size() < 38 || name.substr(32, 5) != ".tmp.") return 0;
    const std::string_view rest = name.substr(37);
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos) return 0;
    long pid = 0;
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + dot, pid);
    if (ec != std::errc() || end != rest.data() + dot || pid <= 0) return 0;
    return static_cast<pid_t>(pid);
}

bool process_alive(pid_t pid) {
    return pid == ::getpid() || ::kill(pid, 0) == 0 || errno == EPERM;
}

// "<R><suffix>" with R 32 hex digits: R's hex, else empty.
std::string_view base_of(std::string_view name, std::string_view suffix) {
    if (name.size() != 32 + suffix.size() || name.substr(32) != suffix) return {};
    return name.substr(0, 32);
}

std::uint64_t allocated(const struct stat& st) {
    return std::min(static_cast<std::uint64_t>(st.st_size),
                    static_cast<std::uint64_t>(st.st_blocks) * 512);
}

}  // namespace

bool store_impl::scan_asset(const key& k, scanned& out) const {
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
    // Names first: recovery below rewrites files of this directory.
    std::vector<std::string> names;
    std::set<std::string, std::less<>> data;  // 32-hex regular files: resources
    while (const dirent* e = ::readdir(d)) {
        const std::string_view name(e->d_name);
        if (name == "." || name == "..") continue;
        key rk;
        if (key::from_hex(name, rk)) {
            data.emplace(name);
        } else {
            names.emplace_back(name);
        }
    }
    ::closedir(d);

    const auto remove = [&](const std::string& name) {
        if (::unlink((dir / name).c_str()) == 0 || errno == ENOENT) {
            ++out.orphans_removed;
        } else {
            KITHARA_LOG_WARN("asset store: removing orphan {} failed: {}", (dir / name).string(),
                             std::error_code(errno, std::system_category()).message());
        }
    };
    std::set<std::string, std::less<>> streaming;  // resources with a range map or range log
    for (const auto& name : names) {
        if (name == "pin") {
            out.rec.pinned = true;
        } else if (name.find(".removed.") != std::string::npos) {
            remove(name);  // an interrupted removal's leftover
        } else if (const pid_t pid = temp_owner(name); pid != 0) {
            if (!process_alive(pid)) {
                remove(name);  // an atomic replace of a process that died
            } else {
                struct stat st {};
                if (::stat((dir / name).c_str(), &st) == 0) {
                    ++out.orphans_kept;
                    out.rec.stray_bytes += allocated(st);
                }
            }
        } else if (auto r = base_of(name, ".ranges"); !r.empty()) {
            if (data.contains(r)) {
                streaming.emplace(r);
            } else {
                remove(name);  // a range map whose data file is gone
            }
        } else if (auto l = base_of(name, ".rlog"); !l.empty()) {
            if (data.contains(l)) {
                streaming.emplace(l);
            } else {
                remove(name);
            }
        } else if (!base_of(name, ".ranges.tmp").empty()) {
            remove(name);  // a range-map write interrupted by the crash
        }
    }
    out.rec.bytes = out.rec.stray_bytes;
    for (const auto& name : data) {
        resource_rec r;
        (void)key::from_hex(name, r.id);
        const fs::path p = dir / name;
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (streaming.contains(name)) {
            // Storage claims what the map (and a same-boot range log) proves written and
            // releases the rest; closing it writes the map and drops the log.
            storage::streaming_options so;
            so.create = false;
            so.flush_every_bytes = 0;
            so.range_log = opts.streaming_range_log;
            auto res = storage::streaming_resource::open(p, so);
            if (res) {
                r.bytes = (*res)->available_bytes();
            } else {
                KITHARA_LOG_WARN("asset store: recovering {} failed: {}", p.string(),
                                 res.error().message());
                r.bytes = allocated(st);
            }
        } else {
            r.bytes = allocated(st);  // an atomic resource (or data never mapped): its blocks
        }
        out.rec.bytes += r.bytes;
        out.rec.resources.push_back(r);
    }
    return true;
}

}  // namespace kithara::assets::detail
