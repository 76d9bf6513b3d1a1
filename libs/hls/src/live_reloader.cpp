// live_reloader: the reload loop of a live media playlist on the client's executor.
#include "detail/live_reloader.hpp"

#include "detail/engine.hpp"

#include <kithara/core/condition.hpp>
#include <kithara/detail/log.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/hls/parser.hpp>
#include <kithara/net/error.hpp>

#include <asio/post.hpp>

namespace kithara::hls::detail {

// Collects one reload's response (bounded) and hands it to the reloader on completion.
class live_reloader::body_sink : public net::sink {
public:
    body_sink(std::shared_ptr<live_reloader> owner, steady_time started, std::uint64_t limit)
        : owner_(std::move(owner)), started_(started), limit_(limit) {}

    result<> on_response(const net::response_head& head) override {
        head_ = head;
        body_.clear();
        return {};
    }
    result<> on_data(std::uint64_t, std::span<const std::byte> bytes) override {
        if (body_.size() + bytes.size() > limit_)
            return kithara::fail(errc::limit_exceeded,
                                 "live playlist larger than the parser's "
                                 "input limit");
        body_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        return {};
    }
    result<> on_restart(const net::response_head& head) override { return on_response(head); }
    void on_complete(result<net::transfer_stats> outcome) override {
        owner_->done(std::move(outcome), head_, std::move(body_), started_);
    }

private:
    std::shared_ptr<live_reloader> owner_;
    steady_time started_;
    std::uint64_t limit_;
    net::response_head head_;
    std::string body_;
};

namespace {

// The newest media sequence number and part count of a playlist: what "changed" compares.
struct playlist_mark {
    std::uint64_t last_msn = 0;
    std::size_t segments = 0;
    std::size_t parts = 0;
    bool endlist = false;
    friend bool operator==(const playlist_mark&, const playlist_mark&) = default;
};

playlist_mark mark_of(const media_playlist& m) {
    playlist_mark k;
    k.segments = m.segments.size();
    k.last_msn = m.media_sequence + (k.segments ? k.segments - 1 : 0);
    k.parts = m.trailing_parts.size() + (k.segments ? m.segments.back().parts.size() : 0);
    k.endlist = m.endlist;
    return k;
}

}  // namespace

live_reloader::live_reloader(net::client& client, std::string url, const stream_options& options,
                             std::function<void(event)> emit)
    : client_(client),
      url_(std::move(url)),
      headers_(options.headers),
      request_(options.request),
      emit_(std::move(emit)),
      timer_(client.executor()) {
    // The schedule backs off and retries; net retries once within a reload.
    request_.retry.max_retries = std::min(request_.retry.max_retries, 1);
    request_.max_body_size = parse_limits{}.max_input_bytes;
    if (options.live.time_scale > 0) scale_ = options.live.time_scale;
}

steady_time live_reloader::to_media(steady_time wall) const {
    if (scale_ == 1.0) return wall;
    const std::chrono::duration<double> d = wall - origin_;
    return origin_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(d * scale_);
}

steady_time live_reloader::to_wall(steady_time media) const {
    if (scale_ == 1.0) return media;
    const std::chrono::duration<double> d = media - origin_;
    return origin_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(d / scale_);
}

live_reloader::~live_reloader() = default;

void live_reloader::start(const media_playlist& first, steady_time started, steady_time finished,
                          std::string etag, std::string last_modified) {
    auto self = shared_from_this();
    auto copy = std::make_shared<const media_playlist>(first);
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        latest_ = {copy, 0};
        ended_ = first.endlist;
        ++pending_;
    }
    origin_ = started;
    asio::post(client_.executor(), [self, copy, started, finished, etag = std::move(etag),
                                    last_modified = std::move(last_modified)]() mutable {
        self->last_ = copy;
        self->etag_ = std::move(etag);
        self->last_modified_ = std::move(last_modified);
        (void)self->schedule_.on_result(reload_outcome::changed, self->to_media(started),
                                        self->to_media(finished), copy.get());
        self->arm();
        self->handler_done();
    });
}

void live_reloader::arm() {
    {
        std::lock_guard lock(mutex_);
        if (closed_ || ended_ || schedule_.finished()) return;
        ++pending_;
    }
    timer_.expires_at(to_wall(schedule_.next().at));
    timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
        if (!ec) self->fire();
        self->handler_done();
    });
}

void live_reloader::fire() {
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        ++pending_;
    }
    const auto next = schedule_.next();
    net::request req;
    req.url = next.blocking ? with_delivery_directives(url_, next.blocking) : url_;
    req.headers = headers_;
    if (!etag_.empty())
        req.headers.push_back({"If-None-Match", etag_});
    else if (!last_modified_.empty())
        req.headers.push_back({"If-Modified-Since", last_modified_});
    req.options = request_;
    if (next.blocking) {
        // A blocking reload is answered when the next segment or part is out: allow for that.
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::duration<double>(next.timeout) / scale_);
        req.options.timeout.first_byte = std::max(req.options.timeout.first_byte, wait);
        req.options.retry.max_retries = 0;
    }
    const auto started = std::chrono::steady_clock::now();
    auto sink = std::make_shared<body_sink>(
        shared_from_this(), started,
        request_.max_body_size ? request_.max_body_size : parse_limits{}.max_input_bytes);
    auto h = client_.start(std::move(req), sink);
    bool closing = false;
    {
        std::lock_guard lock(mutex_);
        running_ = h;
        closing = closed_;
    }
    if (closing) h.cancel();  // close() ran before the handle was known
}

void live_reloader::done(result<net::transfer_stats> outcome, const net::response_head& head,
                         std::string body, steady_time started) {
    const auto finished = std::chrono::steady_clock::now();
    const bool blocking = schedule_.next().blocking.has_value();
    reload_outcome how = reload_outcome::error;
    std::shared_ptr<const media_playlist> now;
    std::string failure;
    if (!outcome && outcome.error() == kithara::condition::cancelled) {
        handler_done();
        return;
    }
    const int status = outcome ? head.status : net::http_status_of(outcome.error());
    if (status == 304) {
        how = reload_outcome::not_modified;
    } else if (!outcome) {
        failure = outcome.error().message();
        const bool timed_out = outcome.error() == kithara::condition::timed_out;
        how = blocking && (timed_out || status == 503) ? reload_outcome::blocking_timeout
                                                       : reload_outcome::error;
    } else {
        auto parsed = parse_playlist(body, url_);
        if (!parsed) {
            failure = parsed.error().message();
        } else if (parsed->is_master()) {
            failure = "the live media playlist became a master playlist";
        } else {
            now = std::make_shared<const media_playlist>(std::move(parsed->media()));
            how = last_ && mark_of(*now) == mark_of(*last_) ? reload_outcome::unchanged
                                                            : reload_outcome::changed;
            etag_ = head.etag;
            last_modified_ = head.last_modified;
        }
    }
    const auto report = schedule_.on_result(how, to_media(started), to_media(finished),
                                            how == reload_outcome::changed ? now.get() : nullptr);
    if (how == reload_outcome::changed) {
        last_ = now;
        std::size_t added = 0;
        {
            std::lock_guard lock(mutex_);
            const auto before = latest_.playlist ? mark_of(*latest_.playlist).last_msn : 0;
            const auto after = mark_of(*now).last_msn;
            added = after > before ? static_cast<std::size_t>(after - before) : 0;
            latest_ = {now, latest_.seq + 1};
            if (now->endlist) ended_ = true;
        }
        changed_.notify_all();
        if (on_publish_) on_publish_(now);
        if (emit_)
            emit_(make_event(event_kind::live_reloaded, url_, mark_of(*now).last_msn, 0, 0,
                             std::to_string(added) + " new segment(s), newest media sequence " +
                                 std::to_string(mark_of(*now).last_msn)));
    }
    if (emit_) {
        if (!failure.empty())
            emit_(make_event(event_kind::live_reload_failed, url_, 0, 0, 0,
                             failure + " (" + std::to_string(report.consecutive_errors) +
                                 " in a row; retrying)"));
        if (report.stuck_began)
            emit_(make_event(event_kind::live_stuck, url_, 0, 0, 0,
                             "the playlist has not changed for 3.5 target durations; still "
                             "reloading"));
        if (report.recovered)
            emit_(make_event(event_kind::live_recovered, url_, 0, 0, 0,
                             "the playlist changes again"));
        if (report.fell_back)
            KITHARA_LOG_INFO("hls: blocking playlist reloads time out; polling instead");
    }
    arm();
    handler_done();
}

void live_reloader::handler_done() {
    {
        std::lock_guard lock(mutex_);
        --pending_;
    }
    changed_.notify_all();
}

std::optional<live_reloader::publication> live_reloader::take(std::uint64_t seq, bool wait) {
    std::unique_lock lock(mutex_);
    if (wait) {
        changed_.wait(lock, [&] { return latest_.seq > seq || ended_ || closed_ || interrupted_; });
    }
    if (latest_.seq > seq) return latest_;
    return std::nullopt;
}

void live_reloader::interrupt() {
    {
        std::lock_guard lock(mutex_);
        interrupted_ = true;
    }
    changed_.notify_all();
}

bool live_reloader::finished() const {
    std::lock_guard lock(mutex_);
    return ended_ || closed_;
}

void live_reloader::close() {
    net::request_handle running;
    {
        std::lock_guard lock(mutex_);
        if (!closed_) {
            closed_ = true;
            running = running_;
        }
    }
    changed_.notify_all();
    running.cancel();
    // The timer belongs to the executor: cancel it there.
    asio::post(client_.executor(), [self = shared_from_this()] { self->timer_.cancel(); });
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return pending_ == 0; });
}

}  // namespace kithara::hls::detail
