#include <kithara/kithara/context.hpp>

#include "detail/backend.hpp"
#include "detail/context_state.hpp"
#include "detail/radio_list.hpp"
#include "detail/sniff.hpp"
#include "detail/turn_pool.hpp"

#include <kithara/core/log.hpp>
#include <kithara/detail/log.hpp>
#include <kithara/net/url.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace kithara {

std::filesystem::path default_cache_dir() {
    if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
        return std::filesystem::path(x) / "kithara";
    if (const char* h = std::getenv("HOME"); h && *h)
        return std::filesystem::path(h) / ".cache" / "kithara";
    std::error_code ec;
    auto tmp = std::filesystem::temp_directory_path(ec);
    if (ec) return {};
    return tmp / "kithara-cache";
}

namespace detail {

context_state::context_state(context_options o)
    : options(std::move(o)),
      io({.threads = options.io_threads == 0 ? 1 : options.io_threads, .name = "kithara-io"}),
      background({.threads = options.background_threads == 0 ? 1 : options.background_threads,
                  .max_queued = 256,
                  .name = "kithara-bg"}) {}

context_state::~context_state() {
    decode_pool_.reset();
    client.reset();
    store.reset();
    background.shutdown(worker::shutdown_mode::drain);
    io.shutdown();
}

turn_pool& context_state::decode_pool() {
    std::call_once(decode_pool_once_, [this] {
        unsigned n = options.decode_threads;
        if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
        decode_pool_ = std::make_unique<turn_pool>(n);
    });
    return *decode_pool_;
}

namespace {

// The asset's bytes on disk (0 when it has none).
std::uint64_t cached_bytes_of(assets::asset_store& store, std::string_view url) {
    auto asset = store.find_asset(url);
    if (!asset) return 0;
    auto resources = asset->resources();
    if (!resources) return 0;
    std::uint64_t n = 0;
    for (const auto& r : *resources) n += r.bytes;
    return n;
}

// Downloads a progressive file whole: its source fetches from the first gap to the end when
// nothing reads it. Waits for the complete or error event.
result<pin_result> pin_file(context_state& ctx, const std::string& url, const open_options& opts) {
    struct waiter {
        std::mutex m;
        std::condition_variable cv;
        bool complete = false;
        std::optional<error> failure;
    };
    auto w = std::make_shared<waiter>();
    file::options fo = file_options_for(ctx, opts);
    fo.on_event = [w, user = std::move(fo.on_event)](const file::event& e) {
        if (user) user(e);
        if (e.kind != file::event_kind::complete && e.kind != file::event_kind::opened_cached &&
            e.kind != file::event_kind::error)
            return;
        {
            std::lock_guard lk(w->m);
            if (e.kind == file::event_kind::error)
                w->failure = e.failure ? *e.failure : error(context_errc::closed, "download");
            else
                w->complete = true;
        }
        w->cv.notify_all();
    };
    auto src = file::open(url, *ctx.store, *ctx.client, std::move(fo));
    if (!src) return fail(src.error());
    {
        std::unique_lock lk(w->m);
        w->cv.wait(lk, [&] { return w->complete || w->failure || (*src)->complete(); });
        if (w->failure) return fail(*w->failure);
    }
    pin_result r;
    r.kind = stream_kind::file;
    r.bytes_from_network = (*src)->stats().bytes_fetched;
    src->reset();  // flushes what was stored
    r.bytes_cached = cached_bytes_of(*ctx.store, url);
    return r;
}

}  // namespace
}  // namespace detail

result<context> context::create(context_options options) {
    if (options.cache_dir.empty()) options.cache_dir = default_cache_dir();
    if (options.cache_dir.empty())
        return fail(context_errc::bad_cache_dir, "no XDG_CACHE_HOME, HOME or temp directory");
    auto s = std::make_shared<detail::context_state>(std::move(options));
    if (auto r = s->io.start(); !r) return fail(r.error());
    assets::store_options so;
    so.max_bytes = s->options.cache_bytes;
    so.max_assets = s->options.cache_assets;
    so.keys = s->options.keys;
    // The pool outlives the store (context_state's destructor closes the store first).
    so.background = [pool = &s->background](std::function<void()> task) {
        return pool->try_submit([t = std::move(task)] { t(); }).has_value();
    };
    auto store = assets::asset_store::open(s->options.cache_dir, std::move(so));
    if (!store)
        return fail(store.error().code(),
                    "cache " + s->options.cache_dir.string() + ": " + store.error().message());
    s->store.emplace(std::move(*store));
    s->client.emplace(s->io.executor(), s->options.client);
    return context(std::move(s));
}

context::context(std::shared_ptr<detail::context_state> s) : state_(std::move(s)) {}
context::context(context&&) noexcept = default;
context& context::operator=(context&&) noexcept = default;
context::~context() = default;

namespace {

// File, HLS or a radio list, by the options, the URL, (offline) the cache, or a probe.
result<detail::source> classify(detail::context_state& s, std::string_view url,
                                const open_options& options) {
    if (options.kind) return detail::source_of(*options.kind);
    if (auto k = detail::kind_from_url(url)) return *k;
    if (options.offline || s.options.offline) {
        if (auto k = detail::kind_from_cache(*s.store, url, s.options.keys))
            return detail::source_of(*k);
        return fail(context_errc::unknown_content_kind, std::string(url));
    }
    return detail::probe_kind(*s.client, std::string(url), options);
}

// Calls use(url, kind) on `url`, or, when it is a radio list, on its entries in order until one
// succeeds (an entry may be a list itself, to max_list_depth). An M3U with HLS tags is HLS.
// Offline a list cannot be read (lists are not cached): its URL is classified as HLS or file.
template <class T, class Use>
result<T> through_lists(detail::context_state& s, const std::string& url,
                        const open_options& options, Use&& use, int depth = 0) {
    auto kind = classify(s, url, options);
    if (!kind) return fail(kind.error());
    const bool offline = options.offline || s.options.offline;
    if (*kind != detail::source::list || offline)
        return use(url, *kind == detail::source::list ? stream_kind::hls : public_kind(*kind));
    auto text = detail::fetch_list_text(*s.client, url, options);
    if (!text) return fail(text.error());
    auto entries = detail::radio_list_entries(*text, url);
    if (!entries) return use(url, stream_kind::hls);
    const auto shown = net::redact_url(url);  // errors and logs carry no token or credential
    if (entries->empty())
        return fail(context_errc::bad_radio_list, shown + ": the radio list names no http(s) URL");
    if (depth + 1 >= detail::max_list_depth)
        return fail(context_errc::bad_radio_list, shown + ": radio lists nested more than " +
                                                      std::to_string(detail::max_list_depth) +
                                                      " deep");
    std::optional<error> last;
    for (const auto& entry : *entries) {
        auto r = through_lists<T>(s, entry, options, use, depth + 1);
        if (r) return r;
        KITHARA_LOG_INFO("radio list {}: entry {} did not open: {}", shown, net::redact_url(entry),
                         r.error().message());
        last = r.error();
    }
    return fail(last->code(), shown + ": none of the radio list's " +
                                  std::to_string(entries->size()) +
                                  " entries opened; the last: " + last->message());
}

}  // namespace

result<stream_kind> context::detect(std::string_view url, const open_options& options) {
    return through_lists<stream_kind>(
        *state_, std::string(url), options,
        [](const std::string&, stream_kind k) -> result<stream_kind> { return k; });
}

result<std::unique_ptr<audio_stream>> context::open(std::string_view url, open_options options) {
    return through_lists<std::unique_ptr<audio_stream>>(
        *state_, std::string(url), options,
        [&](const std::string& u, stream_kind kind) -> result<std::unique_ptr<audio_stream>> {
            const bool ahead = options.decode_ahead_chunks > 0;
            auto hook = ahead ? std::make_shared<detail::wake_hook>() : nullptr;
            auto b = kind == stream_kind::hls
                         ? detail::open_hls_backend(*state_, u, options, hook)
                         : detail::open_file_backend(*state_, u, options, hook);
            if (!b) return fail(b.error());
            std::unique_ptr<detail::backend> backend = std::move(*b);
            if (ahead) backend = detail::decode_ahead(*state_, std::move(backend), options, *hook);
            return std::unique_ptr<audio_stream>(
                new audio_stream(state_, u, kind, std::move(backend)));
        });
}

result<pin_result> context::pin(std::string_view url, open_options options) {
    return through_lists<pin_result>(
        *state_, std::string(url), options,
        [&](const std::string& u, stream_kind kind) { return pin_one(u, kind, options); });
}

result<pin_result> context::pin_one(const std::string& u, stream_kind kind,
                                    const open_options& options) {
    auto& s = *state_;
    if (auto r = s.store->pin(u); !r) return fail(r.error());
    if (kind == stream_kind::file) return detail::pin_file(s, u, options);
    auto h = hls::pin(u, *s.store, *s.client, detail::hls_options_for(s, options));
    if (!h) return fail(h.error());
    pin_result r;
    r.kind = stream_kind::hls;
    r.bytes_from_network = h->bytes_from_network;
    r.bytes_cached = detail::cached_bytes_of(*s.store, u);
    r.hls = *h;
    return r;
}

result<> context::unpin(std::string_view url) {
    return state_->store->unpin(url);
}
result<bool> context::is_pinned(std::string_view url) const {
    return state_->store->is_pinned(url);
}

assets::asset_store& context::store() noexcept {
    return *state_->store;
}
net::client& context::client() noexcept {
    return *state_->client;
}
worker::blocking_pool& context::background() noexcept {
    return state_->background;
}
const context_options& context::options() const noexcept {
    return state_->options;
}

}  // namespace kithara
