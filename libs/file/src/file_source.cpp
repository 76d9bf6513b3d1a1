// The public file_source (a stream::source over the controller's data resource) and open():
// reads cached metadata, decides between cached, offline and network opens, and waits for the
// first response head.
#include <kithara/file/file_source.hpp>

#include <kithara/detail/log.hpp>
#include <kithara/stream/resource_source.hpp>

#include "detail/controller.hpp"
#include "detail/meta.hpp"

#include <asio/post.hpp>

#include <future>
#include <thread>

namespace kithara::file {

// --- file_source ---------------------------------------------------------------------------

file_source::file_source(std::shared_ptr<detail::controller> c) : c_(std::move(c)) {}

file_source::~file_source() {
    // Close synchronously so the asset lease (and the store) is free when this returns.
    detail::controller* c = c_.get();
    const bool used = c->exec_used.load();
    if (used && std::this_thread::get_id() != c->exec_thread.load()) {
        std::promise<void> done;
        auto f = done.get_future();
        asio::post(c->client_.executor(), [c, &done] {
            c->close();
            done.set_value();
        });
        f.wait();
    } else {
        c->close();  // on the executor, or it never ran anything for this source
    }
    c->finish_background();
    if (auto r = c->res().flush(); !r)
        KITHARA_LOG_WARN("file: flush at close failed: {}", r.error().message());
}

std::optional<std::uint64_t> file_source::length() const {
    return c_->res().final_length();
}

result<stream::wait_status> file_source::wait_range(stream::byte_range r,
                                                    std::optional<stream::deadline> until,
                                                    std::stop_token stop) {
    auto& res = c_->res();
    if (auto len = res.final_length(); len && r.end > *len) r.end = std::max(r.begin, *len);
    if (!r.empty()) {
        if (auto gap = res.available().first_gap(r)) {
            if (auto e = res.failure()) return fail(*e);
            if (c_->offline.load()) {
                return fail(errc::offline_miss, "bytes " + std::to_string(gap->begin) + "-" +
                                                    std::to_string(gap->end) + " not cached");
            }
            asio::post(c_->client_.executor(), [c = c_, at = gap->begin] { c->demand(at); });
        }
    }
    return stream::wait_resource(res, r, until, std::move(stop));
}

result<std::size_t> file_source::read_at(std::uint64_t offset, std::span<std::byte> out) {
    return stream::read_resource(c_->res(), offset, out);
}

void file_source::will_need(stream::byte_range r) {
    auto& res = c_->res();
    if (c_->offline.load() || res.failure()) return;
    if (auto gap = res.available().first_gap(r))
        asio::post(c_->client_.executor(), [c = c_, at = gap->begin] { c->demand(at, true); });
}

stream::media_hints file_source::hints() const {
    stream::media_hints h = c_->opts().hints;
    if (h.empty() && c_->opts().infer_hints) h.container = c_->hint_container;
    return h;
}

source_stats file_source::stats() const {
    return {.cached_at_open = c_->cached_at_open,
            .bytes_fetched = c_->fetched_.load(),
            .requests = c_->requests_.load(),
            .demand_requests = c_->demand_requests_.load()};
}

std::uint64_t file_source::cached_bytes() const {
    return c_->res().available_bytes();
}
bool file_source::complete() const {
    return c_->res().complete();
}

// --- open ----------------------------------------------------------------------------------

result<std::shared_ptr<file_source>> open(std::string_view url, assets::asset_store& store,
                                          net::client& client, options opts) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        return fail(errc::invalid_url, "not an http(s) URL");
    auto asset = store.open_asset(url);
    if (!asset) return fail(asset.error());
    auto meta_res = asset->open_atomic(detail::meta_name);
    if (!meta_res) return fail(meta_res.error());
    std::optional<detail::meta> m;
    if (meta_res->exists()) {
        if (auto buf = meta_res->read()) {
            std::string_view s(reinterpret_cast<const char*>(buf->data()), buf->size());
            if (auto parsed = detail::meta::parse(s)) {
                m = std::move(*parsed);
            } else {
                KITHARA_LOG_WARN("file: cached metadata unreadable ({}); starting over",
                                 parsed.error().message());
            }
        }
    }
    const bool offline = opts.offline;
    auto c = std::make_shared<detail::controller>(std::string(url), std::move(opts), client,
                                                  std::move(*asset), std::move(*meta_res), m);
    if (auto r = c->open_data(); !r) return fail(r.error());
    c->remove_old_generation();
    c->cached_at_open = c->res().available_bytes();
    c->hint_container = c->stored_meta().container;

    if (c->res().complete() && (offline || c->fresh())) {
        c->offline = true;
        c->emit(event_kind::opened_cached);
        return std::make_shared<file_source>(std::move(c));
    }
    if (offline) {
        if (c->cached_at_open == 0) return fail(errc::offline_miss, "nothing cached");
        c->offline = true;
        return std::make_shared<file_source>(std::move(c));
    }

    std::promise<result<>> first;
    auto fut = first.get_future();
    asio::post(client.executor(), [c, p = &first] { c->start_first(p); });
    auto r = fut.get();
    c->hint_container = c->stored_meta().container;  // the promise ordered the executor's write
    if (!r) {
        if (c->res().complete()) {
            // Cached whole, server unreachable: play the (unvalidated) copy.
            KITHARA_LOG_WARN("file: revalidation failed ({}); playing the cached copy",
                             r.error().message());
            c->offline = true;
            asio::post(client.executor(), [c] { c->emit(event_kind::stale_served); });
            return std::make_shared<file_source>(std::move(c));
        }
        std::promise<void> done;
        auto closed = done.get_future();
        asio::post(client.executor(), [raw = c.get(), &done] {
            raw->close();
            done.set_value();
        });
        closed.wait();  // the lease ends with this function
        return fail(r.error());
    }
    return std::make_shared<file_source>(std::move(c));
}

}  // namespace kithara::file
