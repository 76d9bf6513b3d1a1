// kithara_crash_child: downloads one URL through kithara::file into an asset store and reports
// progress, for the kill -9 resume test and bench/crash_refetch.sh.
//
//   kithara_crash_child <url> <cache-dir> [--no-range-log]
//
// Prints "progress <bytes cached>" (every 16 KiB stored) and "done <bytes>" on stdout, unbuffered,
// and exits 0 once the file is complete; non-zero with a message on stderr on failure.
#include <kithara/assets/asset_store.hpp>
#include <kithara/file/file_source.hpp>
#include <kithara/net/client.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

void say(const std::string& line) {
    const std::string l = line + "\n";
    (void)!::write(STDOUT_FILENO, l.data(), l.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <url> <cache-dir> [--no-range-log]\n", argv[0]);
        return 2;
    }
    kithara::assets::store_options so;
    so.streaming_range_log = !(argc > 3 && std::strcmp(argv[3], "--no-range-log") == 0);
    auto store = kithara::assets::asset_store::open(argv[2], so);
    if (!store) {
        std::fprintf(stderr, "store: %s\n", store.error().message().c_str());
        return 3;
    }
    kithara::worker::io_runtime rt;
    if (!rt.start()) return 4;
    int rc = 0;
    {
        kithara::net::client client(rt.executor(), kithara::net::client_options{});
        kithara::file::options o;
        o.progress_every_bytes = 16 * 1024;
        o.request.retry.initial_backoff = std::chrono::milliseconds(10);
        o.request.retry.max_backoff = std::chrono::milliseconds(50);
        o.on_event = [](const kithara::file::event& e) {
            if (e.kind == kithara::file::event_kind::progress) {
                say("progress " + std::to_string(e.downloaded));
            }
        };
        auto src = kithara::file::open(argv[1], *store, client, o);
        if (!src) {
            std::fprintf(stderr, "open: %s\n", src.error().message().c_str());
            return 5;
        }
        const auto len = (*src)->length();
        if (!len) return 6;
        auto w = (*src)->wait_range({0, *len}, std::nullopt, {});
        if (!w || *w != kithara::stream::wait_status::ready || !(*src)->complete()) {
            std::fprintf(stderr, "download: %s\n",
                         w ? "not complete" : w.error().message().c_str());
            rc = 7;
        } else {
            say("done " + std::to_string((*src)->cached_bytes()));
        }
    }
    return rc;
}
