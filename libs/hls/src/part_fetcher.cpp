// part_fetcher: the segment being built, fetched part by part (see detail/part_fetcher.hpp).
#include "detail/part_fetcher.hpp"

#include <kithara/assets/key.hpp>
#include <kithara/detail/log.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/net/http.hpp>

#include <algorithm>

namespace kithara::hls::detail {

namespace {
constexpr int max_part_attempts = 3;  // requests of one part before the rest comes from the segment
constexpr int max_rest_attempts = 2;  // requests for the rest of the segment before it fails
}  // namespace

// Writes one response at its place in the segment's resource.
class part_fetcher::sink final : public net::sink {
public:
    sink(std::shared_ptr<part_fetcher> f, std::uint64_t request, bool is_part,
         std::shared_ptr<assets::streaming_handle> res, std::uint64_t write_base,
         std::uint64_t request_begin)
        : f_(std::move(f)),
          request_(request),
          is_part_(is_part),
          res_(std::move(res)),
          base_(write_base),
          begin_(request_begin) {}
    result<> on_response(const net::response_head&) override { return {}; }
    result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) override {
        if (offset < begin_)
            return kithara::fail(errc::segment_failed, "a part's response began before its range");
        if (f_->hooks_.on_bytes) f_->hooks_.on_bytes(bytes.size());
        received_ = std::max(received_, offset + bytes.size() - begin_);
        return res_->resource().write_at(base_ + (offset - begin_), bytes);
    }
    // A retried response net could not prove to be the same entity: a part is the same bytes at
    // the same place (written again), never spliced with another entity's.
    result<> on_restart(const net::response_head&) override {
        received_ = 0;
        return {};
    }
    void on_complete(result<net::transfer_stats> outcome) override {
        res_.reset();
        auto f = std::move(f_);
        f->finished(request_, is_part_, received_, std::move(outcome));
    }

private:
    std::shared_ptr<part_fetcher> f_;
    std::uint64_t request_;
    bool is_part_;
    std::shared_ptr<assets::streaming_handle> res_;
    std::uint64_t base_;
    std::uint64_t begin_;
    std::uint64_t received_ = 0;
};

part_fetcher::part_fetcher(net::client& client, std::vector<net::header> headers,
                           net::request_options options, hooks h)
    : client_(client),
      headers_(std::move(headers)),
      options_(std::move(options)),
      hooks_(std::move(h)) {}

part_fetcher::~part_fetcher() = default;

std::string part_fetcher::resource_name(const std::string& playlist_url, std::uint64_t msn) {
    return "kithara-hls://parts/" + assets::resource_key(playlist_url).hex() + "/" +
           std::to_string(msn);
}

void part_fetcher::follow(std::uint64_t msn, std::shared_ptr<assets::streaming_handle> res,
                          std::string label) {
    net::request_handle old;
    std::optional<std::uint64_t> dropped;  // an unfinished segment followed before
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        if (job_ && job_->msn == msn) return;
        if (busy_) old = running_;  // its completion is ignored (another generation)
        if (job_) dropped = job_->msn;
        job j;
        j.msn = msn;
        j.res = std::move(res);
        j.label = std::move(label);
        j.generation = ++generation_;
        job_ = std::move(j);
    }
    old.cancel();
    if (dropped && hooks_.on_done)
        hooks_.on_done(
            *dropped,
            error(errc::segment_failed, "segment of media sequence " + std::to_string(*dropped) +
                                            ": its parts were left for a later one"),
            false);
    step();
}

void part_fetcher::on_playlist(std::shared_ptr<const media_playlist> m) {
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        latest_ = std::move(m);
    }
    step();
}

std::uint64_t part_fetcher::parts_fetched() const {
    std::lock_guard lock(mutex_);
    return parts_fetched_;
}

void part_fetcher::close() {
    net::request_handle running;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        running = running_;
    }
    running.cancel();
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return pending_ == 0; });
    job_.reset();
    latest_.reset();
}

part_fetcher::action part_fetcher::plan() {
    action a;
    if (closed_ || busy_ || !job_ || !latest_) return a;
    auto& j = *job_;
    const auto& m = *latest_;
    auto end_job = [&](action::kind k) {
        a.what = k;
        a.msn = j.msn;
        a.res = std::move(j.res);
        a.write_base = j.offset;
        job_.reset();
        ++pending_;  // close() waits for the commit (or failure) and its hook
        return a;
    };
    if (j.msn < m.media_sequence) {
        a.failure = error(errc::segment_failed,
                          "segment " + j.label + " left the playlist before its parts were had");
        a.lost = true;
        return end_job(action::kind::fail);
    }
    const std::uint64_t first =
        m.segments.empty() ? m.media_sequence : m.segments.front().media_sequence;
    const std::uint64_t end =
        m.segments.empty() ? m.media_sequence : m.segments.back().media_sequence + 1;
    const segment* seg = j.msn >= first && j.msn < end ? &m.segments[j.msn - first] : nullptr;
    const std::vector<part>* parts =
        seg ? &seg->parts : (j.msn == end ? &m.trailing_parts : nullptr);
    if (j.rest_done) return end_job(action::kind::commit);
    if (!parts) return a;  // not begun yet, or skipped in a delta update: a later playlist
    if (!j.parts_failed && j.next_part < parts->size()) {
        const part& p = (*parts)[j.next_part];
        if (p.gap) {
            j.parts_failed = true;  // no bytes for it: the segment's own bytes instead
        } else {
            a.what = action::kind::fetch;
            a.is_part = true;
            a.req.url = p.resolved_uri;
            if (p.range) a.req.range = net::byte_range{p.range->offset, p.range->length};
        }
    }
    if (a.what == action::kind::none) {
        if (!seg) return a;  // the next part is not out yet
        if (!j.parts_failed && !parts->empty() && j.next_part == parts->size())
            return end_job(action::kind::commit);
        const bool gone = j.rest_status == 404 || j.rest_status == 410;
        if (gone || j.rest_attempts >= max_rest_attempts) {
            std::string what = "segment " + j.label + ": neither its parts nor " + seg->uri;
            if (j.rest_status > 0) what += " (HTTP status " + std::to_string(j.rest_status) + ")";
            a.failure = error(errc::segment_failed, what + " could be fetched");
            a.lost = gone;
            return end_job(action::kind::fail);
        }
        // The rest of the segment from its own URI, from the first byte not in the resource.
        a.what = action::kind::fetch;
        a.req.url = seg->resolved_uri;
        if (seg->range) {
            if (j.offset >= seg->range->length) return end_job(action::kind::commit);
            a.req.range =
                net::byte_range{seg->range->offset + j.offset, seg->range->length - j.offset};
        } else if (j.offset > 0) {
            a.req.range = net::byte_range{j.offset, std::nullopt};
        }
    }
    a.req.headers = headers_;
    a.req.options = options_;
    a.write_base = j.offset;
    a.res = j.res;
    a.msn = j.msn;
    a.generation = ++request_;
    request_generation_ = j.generation;
    busy_ = true;
    ++pending_;
    return a;
}

void part_fetcher::step() {
    for (;;) {
        action a;
        {
            std::lock_guard lock(mutex_);
            a = plan();
        }
        switch (a.what) {
            case action::kind::none:
                return;
            case action::kind::commit: {
                std::optional<error> failure;
                auto& r = a.res->resource();
                if (r.final_length() != a.write_base) {
                    if (auto c = r.commit(a.write_base); !c) failure = c.error();
                }
                a.res.reset();
                if (hooks_.on_done) hooks_.on_done(a.msn, std::move(failure), false);
                end_pending();
                continue;
            }
            case action::kind::fail:
                if (a.res) a.res->resource().fail(*a.failure);
                a.res.reset();
                if (hooks_.on_done) hooks_.on_done(a.msn, std::move(a.failure), a.lost);
                end_pending();
                continue;
            case action::kind::fetch: {
                const std::uint64_t begin = a.req.range ? a.req.range->offset : 0;
                auto s = std::make_shared<sink>(shared_from_this(), a.generation, a.is_part,
                                                std::move(a.res), a.write_base, begin);
                if (hooks_.on_request) hooks_.on_request();
                auto h = client_.start(std::move(a.req), std::move(s));
                bool cancel = false;
                {
                    std::lock_guard lock(mutex_);
                    // Still running (its sink may have completed already: then not), and not
                    // closed meanwhile (close() found no handle to cancel).
                    if (busy_ && request_ == a.generation) running_ = h;
                    cancel = closed_;
                }
                if (cancel) h.cancel();
                return;
            }
        }
    }
}

void part_fetcher::end_pending() {
    {
        std::lock_guard lock(mutex_);
        --pending_;
    }
    idle_.notify_all();
}

void part_fetcher::finished(std::uint64_t request, bool is_part, std::uint64_t received,
                            result<net::transfer_stats> outcome) {
    if (outcome && hooks_.on_transfer) hooks_.on_transfer(*outcome);
    {
        std::lock_guard lock(mutex_);
        busy_ = false;
        running_ = {};
        if (!closed_ && job_ && job_->generation == request_generation_ && request == request_) {
            auto& j = *job_;
            if (outcome) {
                j.offset += received;
                j.attempts = 0;
                if (is_part) {
                    ++j.next_part;
                    ++parts_fetched_;
                } else {
                    j.rest_done = true;
                }
            } else if (outcome.error() != kithara::condition::cancelled) {
                const int status = net::http_status_of(outcome.error());
                KITHARA_LOG_DEBUG("hls: {} of segment {} failed: {}",
                                  is_part ? "a part" : "the rest", j.label,
                                  outcome.error().message());
                if (is_part) {
                    if (++j.attempts >= max_part_attempts) {
                        j.parts_failed = true;
                        j.attempts = 0;
                    }
                } else {
                    j.offset += received;  // a range response is contiguous from its start
                    ++j.rest_attempts;
                    j.rest_status = status;
                }
            }
        }
    }
    step();
    end_pending();  // after step(): close() returns only once nothing can start
}

}  // namespace kithara::hls::detail
