// live_stream: creation (options checked, parts cut), accessors and faults; the request side is
// in test_server_live_state.cpp.
#include "test_server_live_state.hpp"

#include <algorithm>
#include <cmath>

namespace kithara::test {

namespace {

using clock = std::chrono::steady_clock;
using us = std::chrono::microseconds;

route_response not_found() {
    route_response r;
    r.status = 404;
    return r;
}

}  // namespace

std::unique_ptr<live_stream> live_stream::create(http_server& srv, live_stream_options options,
                                                 std::string& error) {
    auto s = std::make_shared<state>();
    auto& o = s->o;
    o = std::move(options);
    const auto& segs = o.source.segments;
    const std::string ext = ".m3u8";
    if (o.path.empty() || o.path[0] != '/' || o.path.size() <= ext.size() ||
        o.path.compare(o.path.size() - ext.size(), ext.size(), ext) != 0) {
        error = "live stream path must start with / and end in .m3u8: " + o.path;
        return nullptr;
    }
    if (segs.empty()) {
        error = o.path + ": the source has no segments";
        return nullptr;
    }
    if (o.window == 0 || !(o.time_scale > 0) || o.parts_per_segment < 0 ||
        (o.end_after && *o.end_after == 0)) {
        error = o.path + ": window and end_after must be >= 1, time_scale > 0, parts >= 0";
        return nullptr;
    }
    int longest = 1;
    for (const auto& seg : segs) {
        if (!seg.bytes || seg.bytes->empty() || !(seg.duration > 0)) {
            error = o.path + ": source segment " + seg.name + " is empty or has no duration";
            return nullptr;
        }
        longest = std::max(longest, static_cast<int>(std::lround(seg.duration)));
        s->dur.push_back(std::llround(seg.duration * 1e6));
        s->cycle += s->dur.back();
        s->ends.push_back(s->cycle);
    }
    s->target = o.target_duration > 0 ? o.target_duration : longest;
    if (s->target < longest) {
        error = o.path + ": target_duration " + std::to_string(o.target_duration) +
                " is below the longest segment (" + std::to_string(longest) + " s rounded)";
        return nullptr;
    }
    if (!o.loop) s->total = segs.size();
    if (o.end_after) s->total = s->total ? std::min(*s->total, *o.end_after) : *o.end_after;
    s->initial = o.initial_segments > 0 ? o.initial_segments : o.window;
    if (s->total) s->initial = std::min(s->initial, *s->total);
    s->base = s->seg_end(s->initial - 1);

    s->parts = o.parts_per_segment;
    if (s->parts > 0) {
        const bool ts = o.source.extension == ".ts";
        std::int64_t longest_part = 0;
        for (std::size_t i = 0; i < segs.size(); ++i) {
            const auto& bytes = *segs[i].bytes;
            const std::size_t unit = ts && bytes.size() % 188 == 0 ? 188 : 1;
            const std::size_t units = bytes.size() / unit;
            if (units < static_cast<std::size_t>(s->parts)) {
                error = o.path + ": segment " + segs[i].name + " is too small for " +
                        std::to_string(s->parts) + " parts";
                return nullptr;
            }
            std::vector<std::shared_ptr<const std::string>> cut;
            std::size_t from = 0;
            for (int j = 1; j <= s->parts; ++j) {
                const std::size_t to = j == s->parts
                                           ? bytes.size()
                                           : units * static_cast<std::size_t>(j) /
                                                 static_cast<std::size_t>(s->parts) * unit;
                cut.push_back(std::make_shared<const std::string>(bytes.substr(from, to - from)));
                from = to;
            }
            s->part_bodies.push_back(std::move(cut));
            longest_part = std::max(longest_part, (s->dur[i] + s->parts - 1) / s->parts);
        }
        s->part_target = (longest_part + 999) / 1000 * 1000;  // rounded up to 1 ms
    }
    const auto media_wall = [&](double media_seconds) {
        return std::chrono::duration_cast<clock::duration>(
            std::chrono::duration<double>(media_seconds / o.time_scale));
    };
    s->block_timeout =
        o.block_timeout ? clock::duration(*o.block_timeout) : media_wall(3.0 * s->target);
    s->grace =
        o.grace ? clock::duration(*o.grace) : media_wall(static_cast<double>(o.window) * s->target);

    const auto slash = o.path.rfind('/');
    s->dir = o.path.substr(0, slash + 1);
    s->stem = o.path.substr(slash + 1, o.path.size() - slash - 1 - ext.size());
    s->playlist_path = o.path;
    s->prefix = s->dir + s->stem + "_";
    s->executor = srv.executor();
    s->t0 = clock::now();
    s->pieces.push_back({s->t0, 0, o.time_scale});
    const auto sys_now = std::chrono::system_clock::now();
    s->lm_base = std::chrono::system_clock::to_time_t(sys_now);
    s->pdt_epoch =
        o.pdt_epoch
            ? *o.pdt_epoch
            : std::chrono::time_point_cast<std::chrono::milliseconds>(sys_now - us(s->base));

    auto handler = [w = std::weak_ptr<state>(s)](const route_request& req,
                                                 const asio::any_io_executor&, route_reply reply) {
        if (auto st = w.lock()) return st->handle(req, std::move(reply));
        reply(not_found());
    };
    srv.route(s->playlist_path, handler);
    srv.route(s->prefix, handler);
    return std::unique_ptr<live_stream>(new live_stream(srv, std::move(s)));
}

live_stream::live_stream(http_server& srv, std::shared_ptr<state> s)
    : srv_(srv), state_(std::move(s)) {}

live_stream::~live_stream() {
    srv_.unroute(state_->playlist_path);
    srv_.unroute(state_->prefix);
    std::lock_guard lock(state_->mutex);
    state_->detached = true;
}

const live_stream_options& live_stream::options() const {
    return state_->o;
}

std::string live_stream::segment_uri(std::uint64_t msn) const {
    std::lock_guard lock(state_->mutex);
    return state_->uri(msn - state_->o.media_sequence);
}

std::string live_stream::part_uri(std::uint64_t msn, int part) const {
    std::lock_guard lock(state_->mutex);
    return state_->uri(msn - state_->o.media_sequence, part);
}

std::string live_stream::init_uri() const {
    return state_->o.source.init ? state_->stem + "_init" + state_->o.source.init_extension
                                 : std::string();
}

std::string live_stream::path_of(const std::string& uri) const {
    return state_->dir + uri;
}

std::uint64_t live_stream::media_sequence() const {
    std::lock_guard lock(state_->mutex);
    const auto v = state_->view_at(clock::now());
    return state_->o.media_sequence + state_->first_of(v.complete);
}

std::uint64_t live_stream::last_media_sequence() const {
    std::lock_guard lock(state_->mutex);
    return state_->o.media_sequence + state_->view_at(clock::now()).complete - 1;
}

std::uint64_t live_stream::discontinuity_sequence() const {
    std::lock_guard lock(state_->mutex);
    const auto v = state_->view_at(clock::now());
    return state_->o.discontinuity_sequence + state_->first_of(v.complete) / state_->dur.size();
}

int live_stream::published_parts() const {
    std::lock_guard lock(state_->mutex);
    return state_->view_at(clock::now()).parts;
}

bool live_stream::ended() const {
    std::lock_guard lock(state_->mutex);
    return state_->view_at(clock::now()).ended;
}

std::string live_stream::playlist() const {
    std::lock_guard lock(state_->mutex);
    return state_->build(state_->view_at(clock::now()));
}

std::size_t live_stream::source_index(std::uint64_t msn) const {
    return (msn - state_->o.media_sequence) % state_->dur.size();
}

std::optional<live_stream::clock::time_point> live_stream::published_at(std::uint64_t msn) const {
    std::lock_guard lock(state_->mutex);
    if (msn < state_->o.media_sequence) return std::nullopt;
    return state_->seg_time(msn - state_->o.media_sequence);
}

std::optional<live_stream::clock::time_point> live_stream::part_published_at(std::uint64_t msn,
                                                                             int part) const {
    std::lock_guard lock(state_->mutex);
    if (msn < state_->o.media_sequence) return std::nullopt;
    return state_->part_time(msn - state_->o.media_sequence, part);
}

std::optional<live_stream::clock::time_point> live_stream::wait_published(
    std::uint64_t msn, std::optional<int> part, std::chrono::milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    std::unique_lock lock(state_->mutex);
    if (msn < state_->o.media_sequence) return std::nullopt;
    const auto k = msn - state_->o.media_sequence;
    for (;;) {
        const auto at = part ? state_->part_time(k, *part) : state_->seg_time(k);
        const auto now = clock::now();
        if (at && *at <= now) return at;
        if (now >= deadline) return std::nullopt;
        // Woken at the publish time, at the deadline, or by a fault that moved the timeline.
        state_->changed.wait_until(lock, at ? std::min(*at, deadline) : deadline);
    }
}

std::uint64_t live_stream::playlist_requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->playlist_requests;
}

std::uint64_t live_stream::not_modified() const {
    std::lock_guard lock(state_->mutex);
    return state_->not_modified;
}

std::uint64_t live_stream::blocked_requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->blocked;
}

std::uint64_t live_stream::bad_requests() const {
    std::lock_guard lock(state_->mutex);
    return state_->bad;
}

void live_stream::fail_next_reloads(int n, int status) {
    std::lock_guard lock(state_->mutex);
    state_->fail_count = n;
    state_->fail_status = status;
}

void live_stream::freeze(std::chrono::milliseconds wall, bool catch_up) {
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    const auto now = clock::now();
    const auto v = s.media_at(now);
    std::erase_if(s.pieces, [now](const detail::live_piece& p) { return p.t > now; });
    s.pieces.push_back({now, v, 0});
    const auto frozen = std::chrono::duration_cast<us>(wall).count();
    s.pieces.push_back(
        {now + wall,
         catch_up ? v + static_cast<std::int64_t>(static_cast<double>(frozen) * s.o.time_scale) : v,
         s.o.time_scale});
    s.poke();
}

void live_stream::jump(std::uint64_t segments) {
    auto& s = *state_;
    std::lock_guard lock(s.mutex);
    if (segments == 0) return;
    const auto now = clock::now();
    const auto v = s.media_at(now);
    const auto complete = s.complete_at(s.base + v);
    auto to = complete + segments;
    if (s.total) to = std::min(to, *s.total);
    if (to <= complete) return;
    const auto delta = std::max<std::int64_t>(0, s.seg_end(to - 1) - (s.base + v));
    double slope = s.o.time_scale;
    std::size_t at = 0;
    for (std::size_t i = 0; i < s.pieces.size(); ++i)
        if (s.pieces[i].t <= now) {
            slope = s.pieces[i].slope;
            at = i + 1;
        } else {
            s.pieces[i].media += delta;
        }
    s.pieces.insert(s.pieces.begin() + static_cast<std::ptrdiff_t>(at), {now, v + delta, slope});
    s.poke();
}

void live_stream::rewind_next_reload(std::uint64_t segments) {
    std::lock_guard lock(state_->mutex);
    state_->rewind = segments;
}

}  // namespace kithara::test
