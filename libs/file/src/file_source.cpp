#include <kithara/file/file_source.hpp>

#include <kithara/assets/error.hpp>
#include <kithara/detail/log.hpp>
#include <kithara/net/error.hpp>
#include <kithara/storage/error.hpp>
#include <kithara/stream/error.hpp>
#include <kithara/stream/resource_source.hpp>
#include <kithara/worker/blocking_pool.hpp>

#include <asio/post.hpp>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <future>
#include <limits>
#include <mutex>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

namespace kithara::file {
namespace detail {
using storage::byte_range;
namespace {

constexpr std::uint64_t no_end = std::numeric_limits<std::uint64_t>::max();
constexpr const char* meta_name = "kithara-file://meta/v1";

std::int64_t now_unix() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// What is stored beside the data: validators, length, freshness, data generation.
struct meta {
    std::uint64_t gen = 0;
    std::string etag;
    std::string last_modified;
    std::optional<std::uint64_t> length;
    std::int64_t fetched_at = 0;   // unix seconds of the last validated response
    std::int64_t fresh_until = 0;  // unix seconds; 0: revalidate
    bool ranges = true;
    std::string container;  // inferred demuxer hint ("" = probe)

    [[nodiscard]] bool has_validator() const { return !etag.empty() || !last_modified.empty(); }
    [[nodiscard]] std::string if_range() const {
        if (!etag.empty() && etag.rfind("W/", 0) != 0) return etag;
        return last_modified;
    }

    [[nodiscard]] std::string serialize() const {
        std::ostringstream o;
        o << "kithara-file-meta 1\n"
          << "gen=" << gen << "\netag=" << etag << "\nlast_modified=" << last_modified
          << "\nlength=" << (length ? std::to_string(*length) : std::string("-"))
          << "\nfetched_at=" << fetched_at << "\nfresh_until=" << fresh_until
          << "\nranges=" << (ranges ? 1 : 0) << "\ncontainer=" << container << "\n";
        return o.str();
    }

    static std::optional<meta> parse(std::string_view s) {
        meta m;
        std::size_t pos = s.find('\n');
        if (pos == std::string_view::npos || s.substr(0, pos) != "kithara-file-meta 1")
            return std::nullopt;
        s.remove_prefix(pos + 1);
        auto num = [](std::string_view v, auto& out) {
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
            return ec == std::errc{} && p == v.data() + v.size();
        };
        while (!s.empty()) {
            pos = s.find('\n');
            if (pos == std::string_view::npos) return std::nullopt;
            std::string_view line = s.substr(0, pos);
            s.remove_prefix(pos + 1);
            auto eq = line.find('=');
            if (eq == std::string_view::npos) return std::nullopt;
            auto k = line.substr(0, eq);
            auto v = line.substr(eq + 1);
            bool ok = true;
            if (k == "gen") {
                ok = num(v, m.gen);
            } else if (k == "etag") {
                m.etag = v;
            } else if (k == "last_modified") {
                m.last_modified = v;
            } else if (k == "length") {
                if (v != "-") {
                    std::uint64_t n = 0;
                    ok = num(v, n);
                    m.length = n;
                }
            } else if (k == "fetched_at") {
                ok = num(v, m.fetched_at);
            } else if (k == "fresh_until") {
                ok = num(v, m.fresh_until);
            } else if (k == "container") {
                m.container = v;
            } else if (k == "ranges") {
                m.ranges = v == "1";
            }
            if (!ok) return std::nullopt;
        }
        return m;
    }
};

std::string_view find_header(const std::vector<net::header>& hs, std::string_view name) {
    for (const auto& h : hs) {
        if (h.name.size() != name.size()) continue;
        bool eq = true;
        for (std::size_t i = 0; i < name.size() && eq; ++i)
            eq = std::tolower(static_cast<unsigned char>(h.name[i])) == name[i];
        if (eq) return h.value;
    }
    return {};
}

// Freshness lifetime from Cache-Control (max-age, no-cache, no-store) and Expires.
std::int64_t fresh_until_of(const net::response_head& head, std::int64_t now) {
    std::string cc(find_header(head.headers, "cache-control"));
    for (auto& ch : cc) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (cc.find("no-cache") != std::string::npos || cc.find("no-store") != std::string::npos)
        return 0;
    if (auto p = cc.find("max-age="); p != std::string::npos) {
        std::int64_t age = 0;
        const char* b = cc.data() + p + 8;
        auto [e, ec] = std::from_chars(b, cc.data() + cc.size(), age);
        if (ec == std::errc{} && age > 0) return now + age;
        return 0;
    }
    std::string ex(find_header(head.headers, "expires"));
    if (!ex.empty()) {
        std::tm tm{};
        if (::strptime(ex.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) != nullptr) {
            std::int64_t t = ::timegm(&tm);
            return t > now ? t : 0;
        }
    }
    return 0;
}

// A transfer cancelled because the source closed ended as asked (it is not a success either).
bool is_cancellation(const kithara::error& e) {
    return e == kithara::condition::cancelled;
}

// A demuxer hint from the Content-Type, else from the URL path's extension ("" = let FFmpeg
// probe). Only specific audio types and well-known extensions count.
std::string infer_container(std::string_view content_type, std::string_view url) {
    std::string ct(content_type.substr(0, content_type.find(';')));
    for (auto& ch : ct) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    struct pair {
        std::string_view key;
        const char* container;
    };
    static constexpr pair types[] = {
        {"audio/mpeg", "mp3"},    {"audio/mp3", "mp3"},   {"audio/mp4", "mov"},
        {"audio/x-m4a", "mov"},   {"audio/m4a", "mov"},   {"audio/flac", "flac"},
        {"audio/x-flac", "flac"}, {"audio/ogg", "ogg"},   {"audio/opus", "ogg"},
        {"audio/wav", "wav"},     {"audio/x-wav", "wav"}, {"audio/wave", "wav"},
        {"audio/aac", "aac"}};
    for (const auto& t : types)
        if (ct == t.key) return t.container;
    std::string_view path = url.substr(0, url.find_first_of("?#"));
    auto dot = path.rfind('.');
    if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) return {};
    std::string ext(path.substr(dot + 1));
    for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    static constexpr pair exts[] = {
        {"mp3", "mp3"}, {"m4a", "mov"}, {"m4b", "mov"},  {"mp4", "mov"}, {"flac", "flac"},
        {"ogg", "ogg"}, {"oga", "ogg"}, {"opus", "ogg"}, {"wav", "wav"}, {"aac", "aac"}};
    for (const auto& e : exts)
        if (ext == e.key) return e.container;
    return {};
}

// Transient network failures worth a new request when the failed one made progress.
bool resumable(const kithara::error& e) {
    const auto& c = e.code();
    if (c == net::errc::connection_lost || c == net::errc::stalled) return true;
    // retries_exhausted carries the last failure in its context only.
    return c == net::errc::retries_exhausted &&
           e.context().find("HTTP error status") == std::string::npos;
}

}  // namespace

struct data_state {
    assets::streaming_handle h;
    storage::streaming_resource& res() const { return h.resource(); }
};

class controller;

// One GET: a net::sink writing into the resource.
struct fetcher final : net::sink {
    std::weak_ptr<controller> owner;
    std::uint64_t start = 0;
    std::uint64_t pos = 0;       // next byte expected
    std::uint64_t end = no_end;  // requested end (exclusive)
    bool first = false;          // the open() request
    bool demand = false;
    bool caught_up = false;  // stopped on purpose: ran into cached bytes
    bool cancelled_by_us = false;
    net::request_handle handle;

    result<> on_response(const net::response_head& head) override;
    result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) override;
    result<> on_restart(const net::response_head& head) override;
    void on_complete(result<net::transfer_stats> outcome) override;
};

class controller : public std::enable_shared_from_this<controller> {
public:
    controller(std::string url, options o, net::client& client, assets::asset_handle asset,
               assets::atomic_handle meta_res, std::optional<meta> m)
        : url_(std::move(url)),
          opts_(std::move(o)),
          client_(client),
          asset_(std::move(asset)),
          meta_res_(std::move(meta_res)),
          meta_(m.value_or(meta{})),
          had_meta_(m.has_value()),
          pool_(opts_.background != nullptr ? *opts_.background : shared_background()) {
        if (opts_.max_requests == 0) opts_.max_requests = 1;
    }

    ~controller() { finish_background(); }

    // The pool for flushes and metadata writes when the application gives none: one thread for
    // every file of the process, never destroyed (so never joined from one of its own tasks).
    static worker::blocking_pool& shared_background() {
        static auto* pool =
            new worker::blocking_pool({.threads = 1, .max_queued = 64, .name = "kithara-flush"});
        return *pool;
    }

    // Waits for this file's background tasks, then stores metadata a full queue left unwritten.
    // Not on the executor while tasks may run (they never wait on it, so this cannot deadlock).
    void finish_background() {
        {
            std::unique_lock lock(tasks_mutex_);
            tasks_done_.wait(lock, [&] { return tasks_ == 0; });
        }
        write_pending_meta();
    }

    static std::string data_name(std::uint64_t gen) {
        return "kithara-file://data/" + std::to_string(gen);
    }

    // The data resource of meta_.gen. Storage never flushes it from write_at (that would
    // fdatasync on the executor): the file layer flushes every flush_every_bytes itself.
    result<> open_data() {
        auto h = asset_.open_streaming(data_name(meta_.gen), {.flush_every_bytes = 0});
        if (!h) return fail(h.error());
        auto d = std::make_shared<data_state>();
        d->h = std::move(*h);
        if (meta_.length && !d->res().final_length()) {
            if (auto r = d->res().commit(*meta_.length); !r) return fail(r.error());
        }
        data_ = std::move(d);
        return {};
    }

    [[nodiscard]] storage::streaming_resource& res() const { return data_->res(); }
    [[nodiscard]] const options& opts() const { return opts_; }
    [[nodiscard]] const meta& stored_meta() const { return meta_; }

    [[nodiscard]] bool fresh() const {
        if (!had_meta_) return false;
        const auto now = now_unix();
        if (opts_.trust_cache && now - meta_.fetched_at <= opts_.trust_cache->count()) return true;
        return meta_.fresh_until > now;
    }

    void emit(event_kind k, std::uint64_t offset = 0, std::optional<kithara::error> e = {}) {
        if (!opts_.on_event) return;
        event ev;
        ev.kind = k;
        ev.offset = offset;
        auto avail = res().available();
        ev.downloaded = avail.covered_bytes();
        ev.ranges = avail.size();
        ev.length = res().final_length();
        ev.failure = std::move(e);
        opts_.on_event(ev);
    }

    // open(): the first request (on the executor); `done` gets its outcome once the head is in.
    void start_first(std::promise<result<>>* done) {
        exec_thread = std::this_thread::get_id();
        exec_used = true;
        first_done_ = done;
        auto avail = res().available();
        std::uint64_t at = 0;
        std::uint64_t end = no_end;
        if (res().complete()) {
            // Revalidate with one byte (If-Range); it is cached, so the fetch stops there.
            at = *res().final_length() - 1;
            end = at + 1;
        } else if (auto g = avail.first_gap({0, res().final_length().value_or(no_end)})) {
            at = g->begin;
            end = g->end;
        }
        start_fetch(at, end, /*demand=*/false, /*first=*/true);
    }

    void start_fetch(std::uint64_t at, std::uint64_t end, bool demand, bool first) {
        auto f = std::make_shared<fetcher>();
        f->owner = weak_from_this();
        f->start = f->pos = at;
        f->end = end;
        f->first = first;
        f->demand = demand;
        net::request req;
        req.url = url_;
        req.headers = opts_.headers;
        req.options = opts_.request;
        if (first && res().complete()) req.options.retry.max_retries = 1;  // fall back to cache
        if (at > 0 || end != no_end) {
            std::optional<std::uint64_t> len;
            if (end != no_end) len = end - at;
            req.range = net::byte_range{at, len};
        }
        if (meta_.has_validator() && (at > 0 || res().available_bytes() > 0))
            req.if_range = meta_.if_range();
        active_.push_back(f);
        ++requests_;
        if (demand) ++demand_requests_;
        f->handle = client_.start(std::move(req), f);
        emit(event_kind::request_started, at);
    }

    result<> on_response(fetcher& f, const net::response_head& head) {
        if (closed_) return fail(errc::closed, url_);
        const bool whole = head.body_offset == 0 && f.start > 0 && !head.range_ignored;
        if (f.first) {
            const bool had_data = res().available_bytes() > 0;
            bool changed = whole && had_data;
            if (had_data && had_meta_) {
                if (!meta_.etag.empty() && head.etag != meta_.etag) changed = true;
                if (meta_.etag.empty() && !meta_.last_modified.empty() &&
                    head.last_modified != meta_.last_modified)
                    changed = true;
                if (meta_.length && head.entity_size && *head.entity_size != *meta_.length)
                    changed = true;
            }
            if (changed) {
                // Never splice: a new data resource for the new entity; the old one is deleted
                // (once its last handle, e.g. a queued flush, is gone).
                ++meta_.gen;
                meta_.length.reset();
                if (auto r = open_data(); !r) return r;
                remove_old_generation();
                emit(event_kind::invalidated);
            }
            meta_.etag = head.etag;
            meta_.last_modified = head.last_modified;
            meta_.fetched_at = now_unix();
            meta_.fresh_until = fresh_until_of(head, meta_.fetched_at);
            meta_.ranges =
                head.status == 206 ||
                find_header(head.headers, "accept-ranges").find("bytes") != std::string_view::npos;
            if (head.range_ignored) meta_.ranges = false;
            meta_.container = infer_container(head.content_type, url_);
            if (head.entity_size) {
                meta_.length = head.entity_size;
                if (!res().final_length()) {
                    if (auto r = res().commit(*head.entity_size); !r) return r;
                }
            }
            had_meta_ = true;
            save_meta();
        } else {
            if (whole) return fail(errc::content_changed, "If-Range failed for " + url_);
            if (!meta_.etag.empty() && !head.etag.empty() && head.etag != meta_.etag)
                return fail(errc::content_changed, "ETag changed for " + url_);
            if (head.range_ignored) meta_.ranges = false;
        }
        f.pos = head.body_offset;
        if (whole) f.end = no_end;
        if (f.first) signal_first({});
        return {};
    }

    result<> on_data(fetcher& f, std::uint64_t offset, std::span<const std::byte> bytes) {
        if (closed_) return fail(errc::closed, url_);
        const byte_range r{offset, offset + bytes.size()};
        auto avail = res().available();
        if (avail.contains(r)) {
            // Ran into bytes cached (by another request or an earlier run): stop here.
            f.caught_up = true;
            return fail(errc::closed, "caught up");
        }
        if (auto w = res().write_at(offset, bytes); !w) return w;
        f.pos = r.end;
        fetched_ += bytes.size();
        since_flush_ += bytes.size();
        since_progress_ += bytes.size();
        if (since_flush_ >= opts_.flush_every_bytes) {
            since_flush_ = 0;
            schedule_flush();
        }
        if (since_progress_ >= opts_.progress_every_bytes) {
            since_progress_ = 0;
            emit(event_kind::progress);
        }
        if (f.end != no_end && f.pos >= f.end) f.caught_up = true;
        check_complete();
        return {};
    }

    result<> on_restart(fetcher& f, const net::response_head& head) {
        // Validators changed (or a whole new entity came): the cached bytes are another file.
        if (meta_.has_validator() || head.body_offset != f.start)
            return fail(errc::content_changed, "restarted with different content: " + url_);
        f.pos = head.body_offset;  // no validators: the same bytes are rewritten
        return {};
    }

    void on_complete(fetcher& f, result<net::transfer_stats> outcome) {
        std::erase_if(active_, [&](const auto& p) { return p.get() == &f; });
        bool ok = outcome || f.caught_up || f.cancelled_by_us ||
                  (closed_ && is_cancellation(outcome.error()));
        if (outcome && !res().final_length() && f.end == no_end) {
            // Unknown length (chunked): the end of an open-ended response is the end.
            if (auto r = res().commit(f.pos); !r) {
                fail_all(r.error());
                return;
            }
            meta_.length = f.pos;
            save_meta();
            check_complete();
        }
        if (!ok && f.pos > f.start && resumable(outcome.error())) {
            // The net client's retry budget is per request; a request that made progress is
            // resumed by a new one at its position (each resume needs progress: no loop).
            KITHARA_LOG_DEBUG("file: resuming at {} after: {}", f.pos, outcome.error().message());
            ok = true;
        }
        if (!ok) {
            kithara::error e = outcome.error();
            if (f.first && first_done_) {
                signal_first(fail(e));
                return;
            }
            fail_all(std::move(e));
            return;
        }
        if (f.first && first_done_) signal_first({});
        schedule_next();
    }

    // A read at `offset` found no byte there (decoder thread posts this to the executor).
    // advisory (will_need): only a free request slot is used, nothing is cancelled, and the read
    // position that orders later gaps stays where the decoder reads.
    void demand(std::uint64_t offset, bool advisory = false) {
        if (closed_ || failed_) return;
        if (advisory && active_.size() >= opts_.max_requests) return;
        if (!advisory) last_demand_ = offset;
        auto avail = res().available();
        if (avail.contains(offset)) return;
        const auto len = res().final_length();
        if (len && offset >= *len) return;
        for (auto& f : active_) {
            if (f->pos <= offset && offset < f->pos + opts_.prefetch_bytes && offset < f->end)
                return;  // a running request gets there soon
        }
        if (!meta_.ranges) {
            if (active_.empty()) schedule_next();
            return;  // sequential only
        }
        if (active_.size() >= opts_.max_requests) {
            // Make room: cancel the request that is not serving a demand, else the oldest.
            auto victim = active_.begin();
            for (auto it = active_.begin(); it != active_.end(); ++it) {
                if (!(*it)->demand) {
                    victim = it;
                    break;
                }
            }
            (*victim)->cancelled_by_us = true;
            (*victim)->handle.cancel();
            active_.erase(victim);
        }
        std::uint64_t end = len.value_or(no_end);
        if (auto g = avail.first_gap({offset, end})) end = g->end;
        for (auto& f : active_)
            if (f->pos > offset) end = std::min(end, f->pos);
        // A small gap of known extent (an MP4 moov or Ogg's last pages at the end) is split
        // across the free request slots: each response is then limited by its own connection's
        // throughput (per-connection rate limits, TCP windows on long paths), not all of them.
        std::uint64_t parts = 1;
        const std::uint64_t free_slots =
            opts_.max_requests > active_.size() ? opts_.max_requests - active_.size() : 1;
        if (end != no_end && end - offset <= opts_.split_limit_bytes && opts_.split_min_bytes > 0) {
            parts =
                std::clamp<std::uint64_t>((end - offset) / opts_.split_min_bytes, 1, free_slots);
        }
        const std::uint64_t step = end == no_end ? 0 : (end - offset + parts - 1) / parts;
        for (std::uint64_t i = 0; i < parts; ++i) {
            const std::uint64_t b = offset + i * step;
            const std::uint64_t e = i + 1 == parts ? end : std::min(end, b + step);
            if (b < e || end == no_end) start_fetch(b, e, /*demand=*/true, /*first=*/false);
        }
    }

    void schedule_next() {
        if (closed_ || failed_ || !active_.empty()) return;
        if (res().complete()) return;
        const auto len = res().final_length();
        auto gaps = res().available().gaps({0, len.value_or(no_end)});
        if (gaps.empty()) return;
        auto pick = gaps.front();
        for (auto& g : gaps) {
            if (g.end > last_demand_) {
                pick = g;
                if (g.begin < last_demand_ && meta_.ranges) pick.begin = last_demand_;
                break;
            }
        }
        if (!meta_.ranges) pick = gaps.front();
        start_fetch(pick.begin, pick.end, /*demand=*/false, /*first=*/false);
    }

    void check_complete() {
        if (complete_reported_ || !res().complete()) return;
        complete_reported_ = true;
        save_meta();
        schedule_flush();
        emit(event_kind::complete);
    }

    void fail_all(kithara::error e) {
        if (failed_) return;
        failed_ = true;
        KITHARA_LOG_WARN("file: download failed: {}", e.message());
        for (auto& f : active_) {
            f->cancelled_by_us = true;
            f->handle.cancel();
        }
        active_.clear();
        res().fail(e);
        emit(event_kind::error, 0, std::move(e));
    }

    void close() {
        closed_ = true;
        for (auto& f : active_) {
            f->cancelled_by_us = true;
            f->handle.cancel();
        }
        active_.clear();
    }

    // Deletes generation gen - 1 in the background (also one a crash or a full queue left behind:
    // open() calls this too). A missing resource is not an error.
    void remove_old_generation() {
        if (meta_.gen == 0) return;
        run_background([this, name = data_name(meta_.gen - 1)] {
            if (auto r = asset_.remove_resource(name);
                !r && r.error() != assets::errc::removal_pending)
                KITHARA_LOG_WARN("file: removing an old data generation failed: {}",
                                 r.error().message());
        });
    }

    // Runs fn on the background pool; false when its queue is full. `this` outlives its tasks:
    // finish_background() waits for them.
    // The count of this file's tasks goes down when a task is destroyed: after it ran, or unrun
    // (a full queue, a pool shut down with shutdown_mode::cancel, a task that threw).
    class task_ticket {
    public:
        explicit task_ticket(controller* c) : c_(c) {
            std::lock_guard lock(c_->tasks_mutex_);
            ++c_->tasks_;
        }
        task_ticket(task_ticket&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
        task_ticket& operator=(task_ticket&&) = delete;
        ~task_ticket() {
            if (c_ == nullptr) return;
            std::lock_guard lock(c_->tasks_mutex_);
            if (--c_->tasks_ == 0) c_->tasks_done_.notify_all();
        }

    private:
        controller* c_;
    };

    template <class F>
    bool run_background(F fn) {
        return pool_
            .try_submit([ticket = task_ticket(this), fn = std::move(fn)]() mutable { fn(); })
            .has_value();
    }

    // The atomic replace fsyncs: in the background, never on the executor. Writes coalesce: at
    // most one is queued and it stores the latest metadata. With the queue full the metadata
    // stays pending and is written by the next save_meta() or when the source closes.
    void save_meta() {
        {
            std::lock_guard lock(meta_mutex_);
            meta_pending_ = meta_.serialize();
            meta_pending_gen_ = meta_.gen;
            meta_dirty_ = true;
            if (meta_queued_) return;
            meta_queued_ = true;
        }
        if (!run_background([this] { write_pending_meta(); })) {
            std::lock_guard lock(meta_mutex_);
            meta_queued_ = false;
        }
    }

    void write_pending_meta() {
        std::string s;
        std::uint64_t gen = 0;
        {
            std::lock_guard lock(meta_mutex_);
            meta_queued_ = false;
            if (!meta_dirty_) return;
            meta_dirty_ = false;
            s = std::move(meta_pending_);
            gen = meta_pending_gen_;
        }
        // Another source of the same URL may have moved to a newer generation (and deleted
        // ours): its metadata stays.
        if (auto cur = meta_res_.read(); cur && !cur->empty()) {
            std::string_view text(reinterpret_cast<const char*>(cur->data()), cur->size());
            if (auto stored = meta::parse(text); stored && stored->gen > gen) return;
        }
        auto w = meta_res_.replace(std::as_bytes(std::span(s.data(), s.size())));
        if (!w) KITHARA_LOG_WARN("file: storing metadata failed: {}", w.error().message());
    }

    // With the queue full the flush is skipped: the next one (or close) covers these bytes.
    void schedule_flush() {
        if (flush_pending_.exchange(true)) return;
        const bool queued = run_background([this, d = data_] {
            flush_pending_.store(false);
            if (auto f = d->res().flush(); !f)
                KITHARA_LOG_WARN("file: flush failed: {}", f.error().message());
        });
        if (!queued) flush_pending_ = false;
    }

    void signal_first(result<> r) {
        if (!first_done_) return;
        auto* p = std::exchange(first_done_, nullptr);
        p->set_value(std::move(r));
    }

    std::string url_;
    options opts_;
    net::client& client_;
    assets::asset_handle asset_;
    assets::atomic_handle meta_res_;
    std::shared_ptr<data_state> data_;  // fixed once open() returned
    meta meta_;                         // executor only after open
    bool had_meta_ = false;
    std::atomic<bool> offline{false};  // source side: never demand
    std::uint64_t cached_at_open = 0;
    std::string hint_container;          // set before open() returns
    std::atomic<bool> exec_used{false};  // the executor ran something for this controller
    std::atomic<std::thread::id> exec_thread{};

    // Executor-only state.
    std::vector<std::shared_ptr<fetcher>> active_;
    std::promise<result<>>* first_done_ = nullptr;
    std::uint64_t last_demand_ = 0;
    std::uint64_t since_flush_ = 0;
    std::uint64_t since_progress_ = 0;
    bool closed_ = false;
    bool failed_ = false;
    bool complete_reported_ = false;

    // Stats (any thread).
    std::atomic<std::uint64_t> fetched_{0};
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> demand_requests_{0};
    std::atomic<bool> flush_pending_{false};

    // Guards meta_pending_, meta_dirty_ and meta_queued_ (never held across I/O).
    std::mutex meta_mutex_;
    std::string meta_pending_;  // the latest serialized metadata not yet written
    std::uint64_t meta_pending_gen_ = 0;
    bool meta_dirty_ = false;   // meta_pending_ holds something not yet written
    bool meta_queued_ = false;  // a write task is queued and will store meta_pending_

    worker::blocking_pool& pool_;  // flushes and metadata writes
    std::mutex tasks_mutex_;       // guards tasks_
    std::condition_variable tasks_done_;
    int tasks_ = 0;  // this file's tasks queued or running on pool_
};

result<> fetcher::on_response(const net::response_head& head) {
    auto c = owner.lock();
    if (!c) return fail(errc::closed, "source gone");
    return c->on_response(*this, head);
}
result<> fetcher::on_data(std::uint64_t offset, std::span<const std::byte> bytes) {
    auto c = owner.lock();
    if (!c) return fail(errc::closed, "source gone");
    return c->on_data(*this, offset, bytes);
}
result<> fetcher::on_restart(const net::response_head& head) {
    auto c = owner.lock();
    if (!c) return fail(errc::closed, "source gone");
    return c->on_restart(*this, head);
}
void fetcher::on_complete(result<net::transfer_stats> outcome) {
    if (auto c = owner.lock()) c->on_complete(*this, std::move(outcome));
}

}  // namespace detail

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
            m = detail::meta::parse(s);
            if (!m) KITHARA_LOG_WARN("file: cached metadata unreadable; starting over");
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
