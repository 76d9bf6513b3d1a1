// live_timeline (reloads folded into one MSN-keyed timeline) and sliding_window_eviction.
#include "detail/live.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace kithara::hls::detail {

namespace {

std::string msn_range(std::uint64_t a, std::uint64_t b) {
    return a == b ? std::to_string(a) : std::to_string(a) + ".." + std::to_string(b);
}

std::size_t part_bytes(const part& p) {
    return sizeof(part) + p.uri.size() + p.resolved_uri.size();
}

std::string seconds(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", v);
    return b;
}

bool same_range(const std::optional<byte_range>& a, const std::optional<byte_range>& b) {
    return a.has_value() == b.has_value() && (!a || *a == *b);
}

}  // namespace

std::string live_segment::label() const {
    return uri + " (media sequence " + std::to_string(msn) + ")";
}

const char* to_string(live_anomaly_kind k) noexcept {
    switch (k) {
        case live_anomaly_kind::media_sequence_backwards:
            return "media_sequence_backwards";
        case live_anomaly_kind::media_sequence_restart:
            return "media_sequence_restart";
        case live_anomaly_kind::gap:
            return "gap";
        case live_anomaly_kind::segment_changed:
            return "segment_changed";
        case live_anomaly_kind::discontinuity_mismatch:
            return "discontinuity_mismatch";
        case live_anomaly_kind::delta_without_base:
            return "delta_without_base";
        case live_anomaly_kind::bad_program_date_time:
            return "bad_program_date_time";
    }
    return "unknown";
}

const live_segment* live_timeline::find(std::uint64_t msn) const noexcept {
    auto it = std::lower_bound(segs_.begin(), segs_.end(), msn,
                               [](const live_segment& s, std::uint64_t v) { return s.msn < v; });
    return it != segs_.end() && it->msn == msn ? &*it : nullptr;
}

const live_segment* live_timeline::at(double t) const noexcept {
    auto it = std::upper_bound(segs_.begin(), segs_.end(), t + 1e-3,
                               [](double v, const live_segment& s) { return v < s.start; });
    return it == segs_.begin() ? nullptr : &*std::prev(it);
}

void live_timeline::append(const media_playlist& m, const segment& s, live_merge_result& r,
                           bool disc, bool after_gap, std::uint64_t disc_seq) {
    live_segment n;
    n.msn = s.media_sequence;
    n.discontinuity_sequence = disc_seq;
    n.discontinuity = disc;
    n.after_gap = after_gap;
    n.start = end_time_;
    n.duration = s.duration;
    n.uri = s.uri;
    n.resolved_uri = s.resolved_uri;
    n.range = s.range;
    n.title = s.title;
    n.gap = s.gap;
    n.parts = s.parts;
    n.bytes = sizeof(live_segment) + n.uri.size() + n.resolved_uri.size() +
              (n.title ? n.title->size() : 0);
    for (const auto& p : n.parts) n.bytes += part_bytes(p);
    // Map and key: shared with the previous segment when equal (a playlist's few maps and keys
    // are stored once however many segments use them).
    const live_segment* prev = segs_.empty() ? nullptr : &segs_.back();
    if (const auto* mp = m.map_of(s)) {
        if (prev && prev->map && prev->map->resolved_uri == mp->resolved_uri &&
            same_range(prev->map->range, mp->range)) {
            n.map = prev->map;
        } else {
            n.map = std::make_shared<const init_section>(*mp);
            n.bytes += sizeof(init_section) + mp->uri.size() + mp->resolved_uri.size();
        }
    }
    if (const auto* k = m.key_of(s)) {
        if (prev && prev->key && prev->key->resolved_uri == k->resolved_uri &&
            prev->key->iv == k->iv && prev->key->method == k->method) {
            n.key = prev->key;
        } else {
            n.key = std::make_shared<const hls::key>(*k);
            n.bytes += sizeof(hls::key) + k->uri.size() + k->resolved_uri.size();
        }
    }
    if (s.program_date_time_tagged) {
        if (const auto* raw = m.program_date_time_of(s)) {
            if (auto w = parse_program_date_time(*raw)) {
                n.program_date_time = *w;
            } else {
                r.anomalies.push_back({live_anomaly_kind::bad_program_date_time, n.msn, n.msn,
                                       "EXT-X-PROGRAM-DATE-TIME of " + n.label() +
                                           " ignored: " + w.error().message()});
            }
        }
    }
    end_time_ += n.duration;
    last_msn_ = n.msn;
    last_disc_ = disc_seq;
    bytes_ += n.bytes;
    r.appended.push_back(n);
    segs_.push_back(std::move(n));
}

void live_timeline::check_known(const live_segment& known, const segment& s, std::uint64_t disc_seq,
                                live_merge_result& r) const {
    std::string what;
    if (known.resolved_uri != s.resolved_uri) {
        what = "URI " + known.uri + " became " + s.uri;
    } else if (!same_range(known.range, s.range)) {
        what = "its EXT-X-BYTERANGE changed";
    } else if (std::fabs(known.duration - s.duration) > opts_.duration_tolerance) {
        what = "EXTINF " + seconds(known.duration) + " became " + seconds(s.duration);
    }
    if (!what.empty()) {
        r.anomalies.push_back({live_anomaly_kind::segment_changed, known.msn, known.msn,
                               "media sequence " + std::to_string(known.msn) +
                                   " changed on reload (" + what +
                                   "); the first version is kept (RFC 8216 6.3.4)"});
    }
    if (disc_seq != known.discontinuity_sequence) {
        r.anomalies.push_back({live_anomaly_kind::discontinuity_mismatch, known.msn, known.msn,
                               "media sequence " + std::to_string(known.msn) +
                                   " has discontinuity sequence " + std::to_string(disc_seq) +
                                   " in the reload, " +
                                   std::to_string(known.discontinuity_sequence) + " before"});
    }
}

void live_timeline::take_parts(const media_playlist& m, live_merge_result& r) {
    const std::uint64_t next = m.segments.empty()
                                   ? m.media_sequence + (m.skip ? m.skip->skipped_segments : 0)
                                   : m.segments.back().media_sequence + 1;
    if (next != parts_msn_) {
        parts_msn_ = next;
        parts_known_ = 0;
    }
    r.parts_msn = parts_msn_;
    for (std::size_t i = parts_known_; i < m.trailing_parts.size(); ++i) {
        r.new_parts.emplace_back(static_cast<std::uint32_t>(i), m.trailing_parts[i]);
    }
    parts_known_ = std::max(parts_known_, m.trailing_parts.size());
}

live_merge_result live_timeline::merge(const media_playlist& m) {
    live_merge_result r;
    if (ended_) return r;  // after ENDLIST the playlist cannot change (RFC 8216 6.2.1)
    const std::uint64_t skipped = m.skip ? m.skip->skipped_segments : 0;
    const std::uint64_t first_listed = m.media_sequence + skipped;
    const bool any = !m.segments.empty();
    const std::uint64_t last_listed = any ? m.segments.back().media_sequence : 0;

    if (loaded_) {
        const bool backwards = m.media_sequence < window_first_ || (any && last_listed < last_msn_);
        if (backwards) {
            ++backwards_;
            if (backwards_ < opts_.restart_after_backwards) {
                r.ignored = true;
                r.anomalies.push_back(
                    {live_anomaly_kind::media_sequence_backwards, m.media_sequence,
                     any ? last_listed : m.media_sequence,
                     "reload lists media sequence " +
                         msn_range(m.media_sequence, any ? last_listed : m.media_sequence) +
                         ", older than the " + msn_range(window_first_, last_msn_) +
                         " already known: ignored (EXT-X-MEDIA-SEQUENCE MUST NOT decrease)"});
                return r;
            }
            // Backwards again and again: the server restarted its numbering. A new stream on
            // the same timeline, after a discontinuity.
            r.anomalies.push_back(
                {live_anomaly_kind::media_sequence_restart, m.media_sequence,
                 any ? last_listed : m.media_sequence,
                 "media sequence went back to " + std::to_string(m.media_sequence) + " (was " +
                     std::to_string(last_msn_) + ") in " + std::to_string(backwards_) +
                     " reloads in a row: taken as a restarted stream"});
            for (const auto& s : segs_) r.dropped.push_back({s.msn, s.resolved_uri});
            segs_.clear();
            bytes_ = 0;
            loaded_ = false;
            restart_pending_ = true;
        }
    }
    backwards_ = 0;

    if (skipped > 0 &&
        (!loaded_ || m.media_sequence < first_seen_ || first_listed > last_msn_ + 1)) {
        r.ignored = r.needs_full_reload = true;
        r.anomalies.push_back(
            {live_anomaly_kind::delta_without_base, m.media_sequence, first_listed - 1,
             "delta update skips media sequence " + msn_range(m.media_sequence, first_listed - 1) +
                 (loaded_ ? ", not all of them known" : " before any full playlist") +
                 ": reload without _HLS_skip (rfc8216bis 6.3.7)"});
        return r;
    }

    const bool first_load = !loaded_;
    if (first_load) {
        first_seen_ = first_listed;
        window_first_ = m.media_sequence;
    }
    // Discontinuity sequence of the segment before the first listed one: a delta update's
    // EXT-X-DISCONTINUITY-SEQUENCE counts from the first skipped segment, so the listed
    // segments' numbers are re-derived from ours.
    const live_segment* before = skipped > 0 ? find(first_listed - 1) : nullptr;
    std::uint64_t disc = 0;
    bool lost_reported = false;
    for (std::size_t i = 0; i < m.segments.size(); ++i) {
        const segment& s = m.segments[i];
        std::uint64_t server_disc = s.discontinuity_sequence;
        if (before) {
            server_disc =
                (i == 0 ? before->discontinuity_sequence : disc) + (s.discontinuity ? 1 : 0);
        }
        disc = server_disc;
        if (loaded_ && s.media_sequence <= last_msn_) {
            if (const auto* known = find(s.media_sequence)) check_known(*known, s, server_disc, r);
            continue;
        }
        if (!loaded_) {
            // The first segment ever (or after a restart): the server's numbering.
            append(m, s, r, s.discontinuity || restart_pending_, false, server_disc);
            loaded_ = true;
            restart_pending_ = false;
            continue;
        }
        const bool lost = s.media_sequence > last_msn_ + 1;
        if (lost && !lost_reported) {
            lost_reported = true;
            const std::uint64_t n = s.media_sequence - last_msn_ - 1;
            r.anomalies.push_back(
                {live_anomaly_kind::gap, last_msn_ + 1, s.media_sequence - 1,
                 "media sequence " + msn_range(last_msn_ + 1, s.media_sequence - 1) +
                     " left the window before it was seen (" + std::to_string(n) +
                     " segment(s), about " + std::to_string(n * target_.value_or(0)) +
                     " s): lost, continuing at " + std::to_string(s.media_sequence)});
        }
        // Our count: the previous one, +1 at a tag. After a loss the server's (the lost
        // segments may have had discontinuities), never below ours.
        std::uint64_t ours = last_disc_ + (s.discontinuity ? 1 : 0);
        if (lost) {
            ours = std::max(ours, server_disc);
        } else if (server_disc != ours) {
            r.anomalies.push_back(
                {live_anomaly_kind::discontinuity_mismatch, s.media_sequence, s.media_sequence,
                 "media sequence " + std::to_string(s.media_sequence) +
                     " has discontinuity sequence " + std::to_string(server_disc) + ", expected " +
                     std::to_string(ours) + " from the segments before it"});
        }
        append(m, s, r, s.discontinuity || lost, lost, ours);
    }
    if (!loaded_) {
        // An empty live playlist: nothing known yet, but its parts and ENDLIST count.
        window_first_ = m.media_sequence;
    }

    // The server's window now starts at m.media_sequence: what was in it before slid out.
    if (!first_load && m.media_sequence > window_first_) {
        for (const auto& s : segs_) {
            if (s.msn >= m.media_sequence) break;
            if (s.msn >= window_first_) r.slid_out.push_back({s.msn, s.resolved_uri});
        }
    }
    window_first_ = std::max(window_first_, m.media_sequence);
    if (m.target_duration) target_ = m.target_duration;
    take_parts(m, r);
    if (m.endlist) {
        ended_ = true;
        r.ended = true;
    }
    r.changed = !r.appended.empty() || !r.new_parts.empty() || r.ended;
    auto dropped = trim();
    r.dropped.insert(r.dropped.end(), dropped.begin(), dropped.end());
    return r;
}

std::vector<live_slid_out> live_timeline::trim() {
    std::vector<live_slid_out> out;
    const double horizon = [&] {
        for (const auto& s : segs_) {
            if (s.msn >= window_first_) return s.start;
        }
        return end_time_;
    }();
    while (!segs_.empty()) {
        const live_segment& f = segs_.front();
        if (f.msn >= window_first_) break;  // the server's window is never forgotten
        const bool over = segs_.size() > opts_.max_segments || bytes_ > opts_.max_bytes;
        const bool old =
            !opts_.keep_all && f.msn < playing_ && f.end() <= horizon - opts_.retain_behind;
        if (!over && !old) break;
        out.push_back({f.msn, f.resolved_uri});
        bytes_ -= f.bytes;
        segs_.pop_front();
    }
    return out;
}

eviction_plan sliding_window_eviction(const live_timeline& tl, std::uint64_t playing_msn,
                                      std::uint64_t from_msn, bool keep_all,
                                      bool server_keeps_all) {
    eviction_plan p;
    p.next_from = from_msn;
    if (keep_all) return p;
    const std::uint64_t limit =
        server_keeps_all ? playing_msn : std::min(playing_msn, tl.window_first());
    if (limit <= from_msn) return p;
    std::set<std::string> kept_uris;
    std::set<std::string> kept_maps;
    for (const auto& s : tl.segments()) {
        if (s.msn < limit) continue;
        kept_uris.insert(s.resolved_uri);
        if (s.map) kept_maps.insert(s.map->resolved_uri);
    }
    std::set<std::string> seen;
    std::set<std::string> seen_maps;
    for (const auto& s : tl.segments()) {
        if (s.msn < from_msn) continue;
        if (s.msn >= limit) break;
        p.msns.push_back(s.msn);
        if (!kept_uris.count(s.resolved_uri) && seen.insert(s.resolved_uri).second) {
            p.resources.push_back(s.resolved_uri);
        }
        if (s.map && !kept_maps.count(s.map->resolved_uri) &&
            seen_maps.insert(s.map->resolved_uri).second) {
            p.maps.push_back(s.map->resolved_uri);
        }
    }
    p.next_from = limit;
    return p;
}

}  // namespace kithara::hls::detail
