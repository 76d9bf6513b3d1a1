// live_stream::state: the timeline (media time as a piecewise function of steady_clock), the
// playlist writer, and the route handler answering playlist, segment, part and init requests.
#include "test_server_live_state.hpp"

#include <asio/post.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace kithara::test {

namespace {

using clock = std::chrono::steady_clock;
using us = std::chrono::microseconds;

using clock = std::chrono::steady_clock;
using us = std::chrono::microseconds;

std::string http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

std::optional<std::time_t> parse_http_date(const std::string& s) {
    std::tm tm{};
    const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0') return std::nullopt;
    return timegm(&tm);
}

std::string iso8601(std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[80];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
    return out;
}

std::string seconds(std::int64_t micros, int decimals = 6) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, static_cast<double>(micros) / 1e6);
    return buf;
}

std::string content_type_of(const std::string& ext) {
    if (ext == ".ts") return "video/mp2t";
    if (ext == ".aac") return "audio/aac";
    if (ext == ".mp3") return "audio/mpeg";
    if (ext == ".m4s" || ext == ".mp4" || ext == ".m4a") return "audio/mp4";
    return {};
}

bool parse_u64(const std::string& s, std::uint64_t& out) {
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
        return false;
    out = std::stoull(s);
    return true;
}

// The value of name in a query string ("a=1&b=2"), nullopt if absent.
std::optional<std::string> query_value(const std::string& query, const std::string& name) {
    std::size_t pos = 0;
    while (pos <= query.size()) {
        const auto amp = std::min(query.find('&', pos), query.size());
        const auto item = query.substr(pos, amp - pos);
        const auto eq = item.find('=');
        if (item.substr(0, eq) == name)
            return eq == std::string::npos ? std::string() : item.substr(eq + 1);
        pos = amp + 1;
    }
    return std::nullopt;
}

route_response not_found() {
    route_response r;
    r.status = 404;
    return r;
}

}  // namespace

std::int64_t live_stream::state::seg_start(std::uint64_t k) const {
    const auto n = dur.size();
    return static_cast<std::int64_t>(k / n) * cycle + ends[k % n] - dur[k % n];
}

std::int64_t live_stream::state::seg_end(std::uint64_t k) const {
    return seg_start(k) + dur[k % dur.size()];
}

std::int64_t live_stream::state::part_end(std::uint64_t k, int j) const {
    return seg_start(k) + dur[k % dur.size()] * (j + 1) / parts;
}

std::uint64_t live_stream::state::complete_at(std::int64_t pos) const {
    const auto c = static_cast<std::uint64_t>(pos / cycle);
    const auto in = std::upper_bound(ends.begin(), ends.end(), pos % cycle) - ends.begin();
    std::uint64_t k = c * dur.size() + static_cast<std::uint64_t>(in);
    k = std::max(k, initial);
    return total ? std::min(k, *total) : k;
}

std::int64_t live_stream::state::media_at(clock::time_point t) const {
    const piece* p = nullptr;
    for (const auto& q : pieces)
        if (q.t <= t) p = &q;
    if (!p) return 0;
    return p->media +
           static_cast<std::int64_t>(std::floor(
               p->slope * static_cast<double>(std::chrono::duration_cast<us>(t - p->t).count())));
}

std::optional<clock::time_point> live_stream::state::time_of(std::int64_t x) const {
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        const auto& p = pieces[i];
        if (p.media >= x) return p.t;
        if (p.slope <= 0) continue;
        const auto t =
            p.t +
            us(static_cast<std::int64_t>(std::ceil(static_cast<double>(x - p.media) / p.slope)) +
               1);
        if (i + 1 == pieces.size() || t < pieces[i + 1].t) return t;
    }
    return std::nullopt;
}

live_stream::state::view live_stream::state::view_at(clock::time_point t) const {
    view v;
    const std::int64_t pos = base + media_at(t);
    v.complete = complete_at(pos);
    v.ended = total && v.complete == *total;
    if (parts > 0 && !o.parts_never_published && !v.ended)
        while (v.parts < parts - 1 && part_end(v.complete, v.parts) <= pos) ++v.parts;
    return v;
}

std::uint64_t live_stream::state::first_of(std::uint64_t complete) const {
    if (o.type == live_playlist_type::event || complete <= o.window) return 0;
    return complete - o.window;
}

std::optional<clock::time_point> live_stream::state::seg_time(std::uint64_t k) const {
    if (total && k >= *total) return std::nullopt;
    if (k < initial) return t0;
    return time_of(seg_end(k) - base);
}

std::optional<clock::time_point> live_stream::state::part_time(std::uint64_t k, int j) const {
    if (parts == 0 || o.parts_never_published || j < 0 || j >= parts) return std::nullopt;
    if (total && k >= *total) return std::nullopt;
    if (k < initial) return t0;
    return time_of(part_end(k, j) - base);
}

std::string live_stream::state::uri(std::uint64_t k, std::optional<int> part) const {
    std::string s = stem + "_" + std::to_string(o.media_sequence + k);
    if (part) s += ".p" + std::to_string(*part);
    return s + o.source.extension;
}

void live_stream::state::write_parts(std::string& out, std::uint64_t k, int count) const {
    const auto d = dur[k % dur.size()];
    for (int j = 0; j < count; ++j) {
        const auto pd = d * (j + 1) / parts - d * j / parts;
        out += "#EXT-X-PART:DURATION=" + seconds(pd, 5) + ",URI=\"" + uri(k, j) + "\"";
        out += j == 0 ? ",INDEPENDENT=YES\n" : "\n";
    }
}

std::string live_stream::state::build(const view& v) const {
    const std::uint64_t first = first_of(v.complete);
    const auto n = dur.size();
    std::string out =
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:" + std::to_string(target) + "\n";
    if (o.type == live_playlist_type::event) out += "#EXT-X-PLAYLIST-TYPE:EVENT\n";
    out += "#EXT-X-MEDIA-SEQUENCE:" + std::to_string(o.media_sequence + first) + "\n";
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(o.discontinuity_sequence + first / n) +
           "\n";
    if (parts > 0) {
        out += "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=" +
               seconds(3 * part_target, 3) + "\n";
        out += "#EXT-X-PART-INF:PART-TARGET=" + seconds(part_target, 3) + "\n";
    }
    if (o.start_offset) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "%.3f", *o.start_offset);
        out += std::string("#EXT-X-START:TIME-OFFSET=") + buf +
               (o.start_precise ? ",PRECISE=YES\n" : "\n");
    }
    if (o.source.init)
        out += "#EXT-X-MAP:URI=\"" + stem + "_init" + o.source.init_extension + "\"\n";
    const bool show_parts = parts > 0 && !o.parts_never_published;
    auto segment_head = [&](std::uint64_t k) {
        if (k != first && k % n == 0) out += "#EXT-X-DISCONTINUITY\n";
        if (o.program_date_time)
            out += "#EXT-X-PROGRAM-DATE-TIME:" + iso8601(pdt_epoch + us(seg_start(k))) + "\n";
    };
    for (std::uint64_t k = first; k < v.complete; ++k) {
        segment_head(k);
        if (show_parts && k + o.part_segments_kept >= v.complete) write_parts(out, k, parts);
        out += "#EXTINF:" + seconds(dur[k % n]) + ",\n" + uri(k) + "\n";
    }
    if (show_parts && !v.ended) {
        if (v.parts > 0) {
            segment_head(v.complete);
            write_parts(out, v.complete, v.parts);
        }
        out += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + uri(v.complete, v.parts) + "\"\n";
    }
    if (v.ended) out += "#EXT-X-ENDLIST\n";
    return out;
}

route_response live_stream::state::playlist_response(const route_request& req,
                                                     clock::time_point now) {
    view v = view_at(now);
    if (rewind > 0) {
        v.complete = v.complete > rewind ? std::max<std::uint64_t>(v.complete - rewind, 1) : 1;
        v.parts = 0;
        v.ended = false;
        rewind = 0;
    }
    route_response r;
    auto body = build(v);
    std::uint64_t h = 1469598103934665603ull;
    for (char c : body) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    char etag[32];
    std::snprintf(etag, sizeof etag, "\"%016llx\"", static_cast<unsigned long long>(h));
    r.etag = etag;
    const auto change =
        v.complete * static_cast<std::uint64_t>(parts + 1) + static_cast<std::uint64_t>(v.parts);
    const auto lm = lm_base + static_cast<std::time_t>(change);
    r.last_modified = http_date(lm);
    r.content_type = "application/vnd.apple.mpegurl";
    r.headers.push_back("Cache-Control: no-cache");
    const auto inm = req.header("if-none-match");
    const auto ims = req.header("if-modified-since");
    bool fresh = false;
    if (!inm.empty()) {
        fresh = inm == "*" || inm.find(r.etag) != std::string::npos;
    } else if (!ims.empty()) {
        const auto t = parse_http_date(ims);
        fresh = t && *t >= lm;
    }
    if (fresh) {
        ++not_modified;
        r.status = 304;
    } else {
        r.body = std::make_shared<const std::string>(std::move(body));
    }
    return r;
}

route_response live_stream::state::status(int code) {
    if (code == 400) ++bad;
    route_response r;
    r.status = code;
    return r;
}

std::optional<route_response> live_stream::state::media_response(std::uint64_t k,
                                                                 std::optional<int> part,
                                                                 clock::time_point now) {
    const view v = view_at(now);
    const bool published =
        part ? (k < v.complete || (k == v.complete && *part < v.parts)) : k < v.complete;
    if (!published) return std::nullopt;
    if (o.type == live_playlist_type::live && k + o.window < v.complete) {
        const auto left = seg_time(k + o.window);
        if (left && now > *left + grace) return status(404);
    }
    route_response r;
    const auto src = k % dur.size();
    r.body =
        part ? part_bodies[src][static_cast<std::size_t>(*part)] : o.source.segments[src].bytes;
    r.etag = "\"" + stem + "-" + std::to_string(o.media_sequence + k) +
             (part ? "-p" + std::to_string(*part) : std::string()) + "\"";
    r.last_modified = http_date(lm_base);
    r.content_type = content_type_of(o.source.extension);
    return r;
}

bool live_stream::state::satisfied(const held& h, const view& v) const {
    if (!h.part) return v.complete > h.k;
    return v.complete > h.k || (v.complete == h.k && v.parts > *h.part);
}

std::optional<clock::time_point> live_stream::state::due(const held& h) const {
    if (!h.playlist) return part_time(h.k, *h.part);
    if (o.parts_never_published) return std::nullopt;
    return h.part ? part_time(h.k, *h.part) : seg_time(h.k);
}

void live_stream::state::evaluate(const std::shared_ptr<held>& h) {
    std::optional<route_response> answer;
    clock::time_point wake;
    {
        std::lock_guard lock(mutex);
        const auto now = clock::now();
        const view v = view_at(now);
        if (!h->playlist) {
            answer = media_response(h->k, h->part, now);
            if (!answer && now >= h->deadline) answer = status(404);
        } else if ((!o.parts_never_published && satisfied(*h, v)) || v.ended) {
            answer = playlist_response(h->req, now);
        } else if (now >= h->deadline) {
            answer = o.block_timeout_status == 200 ? playlist_response(h->req, now)
                                                   : status(o.block_timeout_status);
        }
        if (!answer) wake = std::min(h->deadline, due(*h).value_or(h->deadline));
    }
    if (answer) return h->reply(std::move(*answer));
    h->timer.expires_at(wake);
    h->timer.async_wait([self = shared_from_this(), h](const std::error_code&) {
        self->evaluate(h);  // also when cancelled: the timeline changed
    });
}

void live_stream::state::hold(std::shared_ptr<held> h) {
    ++blocked;
    std::erase_if(holding, [](const std::weak_ptr<held>& w) { return w.expired(); });
    holding.push_back(h);
    asio::post(executor, [self = shared_from_this(), h] { self->evaluate(h); });
}

void live_stream::state::poke() {
    changed.notify_all();
    if (detached) return;
    asio::post(executor, [list = holding] {
        for (const auto& w : list)
            if (auto h = w.lock()) h->timer.cancel();
    });
}

void live_stream::state::handle(const route_request& req, route_reply reply) {
    const auto now = clock::now();
    std::unique_lock lock(mutex);
    if (req.path == playlist_path) {
        ++playlist_requests;
        if (fail_count > 0) {
            --fail_count;
            auto r = status(fail_status);
            lock.unlock();
            return reply(std::move(r));
        }
        const auto msn_text = query_value(req.query, "_HLS_msn");
        const auto part_text = query_value(req.query, "_HLS_part");
        if (parts > 0 && (msn_text || part_text)) {
            std::uint64_t msn = 0, part = 0;
            const bool msn_ok = msn_text && parse_u64(*msn_text, msn);
            const bool part_ok = !part_text || parse_u64(*part_text, part);
            const view v = view_at(now);
            const std::uint64_t last = o.media_sequence + v.complete - 1;
            if (!msn_ok || !part_ok || msn > last + 2) {
                auto r = status(400);
                lock.unlock();
                return reply(std::move(r));
            }
            auto h = std::make_shared<held>(executor);
            h->req = req;
            h->reply = std::move(reply);
            h->deadline = now + block_timeout;
            h->k = msn >= o.media_sequence ? msn - o.media_sequence : 0;
            if (part_text) {
                h->part = static_cast<int>(std::min<std::uint64_t>(part, 1'000'000));
                if (*h->part >= parts) {  // past the segment's last part: the next segment's
                    ++h->k;
                    h->part = 0;
                }
            }
            if (o.parts_never_published || (!satisfied(*h, v) && !v.ended))
                return hold(std::move(h));
            auto r = playlist_response(req, now);
            lock.unlock();
            return h->reply(std::move(r));
        }
        auto r = playlist_response(req, now);
        lock.unlock();
        return reply(std::move(r));
    }
    // prefix + "init<ext>", prefix + "<msn><ext>", prefix + "<msn>.p<j><ext>".
    const std::string name = req.path.substr(prefix.size());
    if (o.source.init && name == "init" + o.source.init_extension) {
        route_response r;
        r.body = o.source.init;
        r.etag = "\"" + stem + "-init\"";
        r.last_modified = http_date(lm_base);
        r.content_type = content_type_of(o.source.init_extension);
        lock.unlock();
        return reply(std::move(r));
    }
    const auto& ext = o.source.extension;
    std::uint64_t msn = 0, j = 0;
    bool ok = false;
    std::optional<int> part;
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
        const std::string base_name = name.substr(0, name.size() - ext.size());
        const auto dot = base_name.find(".p");
        ok = parse_u64(base_name.substr(0, dot), msn);
        if (dot != std::string::npos) {
            ok = ok && parse_u64(base_name.substr(dot + 2), j) &&
                 j < static_cast<std::uint64_t>(parts);
            part = static_cast<int>(std::min<std::uint64_t>(j, 1'000'000));
        }
    }
    if (!ok || msn < o.media_sequence) {
        lock.unlock();
        return reply(not_found());
    }
    const std::uint64_t k = msn - o.media_sequence;
    if (auto r = media_response(k, part, now)) {
        lock.unlock();
        return reply(std::move(*r));
    }
    const view v = view_at(now);
    if (part && k == v.complete && *part == v.parts && !v.ended && !o.parts_never_published) {
        auto h = std::make_shared<held>(executor);  // the preload hint: held until published
        h->req = req;
        h->reply = std::move(reply);
        h->playlist = false;
        h->k = k;
        h->part = part;
        h->deadline = now + block_timeout;
        return hold(std::move(h));
    }
    lock.unlock();
    reply(not_found());
}

}  // namespace kithara::test
