// session: the ABR plan, the prefetch window across variants, the link estimate and the
// emergency abort (see detail/session.hpp).
#include "detail/session.hpp"

#include "detail/abr_rules.hpp"
#include "detail/estimate_store.hpp"
#include "detail/renditions.hpp"

#include <kithara/detail/log.hpp>
#include <kithara/hls/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kithara::hls::detail {

namespace {

// The bits/s a variant announces: AVERAGE-BANDWIDTH when present, else BANDWIDTH.
std::uint64_t announced(const variant_stream& v) {
    return v.average_bandwidth && *v.average_bandwidth > 0 ? *v.average_bandwidth : v.bandwidth;
}

// Per variant: false when a cheaper variant (or an equal one listed before it) plays the same
// audio media playlist.
std::vector<bool> distinct_audio(const master_playlist& m, const audio_preferences& prefs) {
    const auto n = m.variants.size();
    std::vector<std::string> uris;
    for (std::size_t v = 0; v < n; ++v) uris.push_back(audio_for(m, v, prefs).uri);
    std::vector<bool> out(n, true);
    for (std::size_t v = 0; v < n; ++v)
        for (std::size_t w = 0; w < n; ++w) {
            if (w == v || uris[w] != uris[v]) continue;
            const auto bv = announced(m.variants[v]), bw = announced(m.variants[w]);
            if (bw < bv || (bw == bv && w < v)) out[v] = false;
        }
    return out;
}

}  // namespace

session::session(std::string url, assets::asset_store& store, stream_options options)
    : url_(std::move(url)),
      store_(store),
      opts_(std::move(options)),
      cap_(opts_.abr.max_bandwidth),
      estimator_(opts_.abr.estimator) {}

session::~session() = default;

result<session::opened> session::open(std::string url, assets::asset_store& store,
                                      net::client& client, stream_options options) {
    if (options.offline) {  // nothing to adapt or switch to without the network
        auto e = engine::create(std::move(url), store, client, std::move(options));
        if (!e) return kithara::fail(e.error());
        return opened{*e, nullptr, std::nullopt, false};
    }
    const bool may_adapt =
        !options.variant && !options.variant_bandwidth && options.abr.mode == abr_mode::automatic;
    auto s = std::make_shared<session>(url, store, options);
    s->client_ = &client;
    std::optional<double> seed;  // bits/s from a previous session on this host
    if (may_adapt && options.abr.persist_estimate)
        seed = load_estimate(store, url, options.abr.estimate_max_age);
    master_playlist m;
    bool adapt = false;
    auto choose = [&](const master_playlist& mp) -> std::size_t {
        const auto distinct = distinct_audio(mp, options.audio);
        adapt = std::count(distinct.begin(), distinct.end(), true) >= 2;
        abr_status st;
        for (const auto& v : mp.variants) st.bandwidths.push_back(announced(v));
        st.available = distinct;
        st.playback_speed = s->opts_.abr.playback_speed;
        st.max_bandwidth = s->cap_;
        // Without an estimate: the lowest variant within the cap (rate 0 fits nothing).
        return best_fit(st, seed ? *seed : 0.0, s->opts_.abr.up_safety);
    };
    auto e0 = may_adapt ? engine::create(url, store, client, options, choose, &m)
                        : engine::create(url, store, client, options, {}, &m);
    if (!e0) return kithara::fail(e0.error());
    // Live playlists play one track at a time: the player switches renditions and variants at
    // segment boundaries by media sequence number (hls_stream.cpp, live tracks).
    if ((*e0)->live()) {
        opened o{*e0, nullptr, std::nullopt, adapt};
        if (!m.variants.empty()) o.live_master = std::move(m);
        return o;
    }
    // A session when the bitrate adapts or the audio can be switched at run time (a group with
    // two renditions or more); otherwise the one engine plays alone, as before.
    bool switchable = false;
    for (const auto& v : m.variants)
        if (v.audio && audio_group(m, *v.audio).size() >= 2) switchable = true;
    if (!adapt && !switchable) return opened{*e0, nullptr, std::nullopt, false};

    s->master_ = m;
    s->adapt_ = adapt;
    const std::size_t pick = (*e0)->variant();
    for (std::size_t v = 0; v < m.variants.size(); ++v) {
        const auto& variant = m.variants[v];
        const auto members =
            variant.audio ? audio_group(m, *variant.audio) : std::vector<std::size_t>{};
        if (members.empty()) s->tracks_.push_back({v, std::nullopt, variant.resolved_uri});
        for (auto r : members)
            s->tracks_.push_back(
                {v, r, m.renditions[r].uri ? m.renditions[r].resolved_uri : variant.resolved_uri});
    }
    const auto n = s->tracks_.size();
    s->engines_.assign(n, nullptr);
    s->measured_bytes_.assign(n, 0);
    s->measured_seconds_.assign(n, 0);
    s->measured_count_.assign(n, 0);
    s->active_ = s->choose_tracks(options.audio, pick, adapt);
    const std::size_t t0 = s->active_[pick];
    if (t0 == none || s->tracks_[t0].rendition != (*e0)->rendition())
        return kithara::fail(errc::bad_response,
                             "alternate audio: no track for the chosen rendition");
    if (!may_adapt) s->locked_ = pick;
    s->engines_[t0] = *e0;
    (*e0)->attach(s, t0);
    if (seed) s->estimator_.seed(*seed / 8.0);
    s->played_variant_ = t0;
    slot first;
    first.variant = t0;
    first.decided_at = clock::now();
    s->plan_.push_back(first);
    s->pump();  // the first segment's request goes out before the other playlists load
    if (!adapt) return opened{nullptr, s, std::nullopt, false};
    const auto r0 = (*e0)->rendition();
    const rendition* like = r0 ? &m.renditions[*r0] : nullptr;
    for (std::size_t v = 0; v < m.variants.size(); ++v) {
        const auto t = s->active_[v];
        if (v == pick || t == none) continue;
        auto e = engine::create_variant(url, store, client, options, m, v, like);
        if (!e) {
            KITHARA_LOG_WARN("hls: variant {} left out of adaptation: {}", v, e.error().message());
            continue;
        }
        (*e)->attach(s, t);
        std::lock_guard lock(s->mutex_);
        s->engines_[t] = *e;
    }
    return opened{nullptr, s, std::nullopt, false};
}

std::vector<std::size_t> session::choose_tracks(const audio_preferences& p, std::size_t lead,
                                                bool dedupe) const {
    const auto n = master_.variants.size();
    std::vector<std::optional<std::size_t>> chosen(n);
    const auto first = audio_for(master_, lead, p);
    const rendition* like = first.rendition ? &master_.renditions[*first.rendition] : nullptr;
    for (std::size_t v = 0; v < n; ++v)
        chosen[v] = v == lead ? first.rendition : audio_for(master_, v, p, like).rendition;
    std::vector<std::size_t> out(n, none);
    for (std::size_t t = 0; t < tracks_.size(); ++t)
        if (tracks_[t].rendition == chosen[tracks_[t].variant]) out[tracks_[t].variant] = t;
    if (dedupe) {
        for (std::size_t v = 0; v < n; ++v)
            for (std::size_t w = 0; w < n; ++w) {
                if (w == v || out[v] == none || out[w] == none ||
                    tracks_[out[w]].uri != tracks_[out[v]].uri)
                    continue;
                const auto bv = announced(master_.variants[v]), bw = announced(master_.variants[w]);
                if ((bw < bv || (bw == bv && w < v)) && v != lead) out[v] = none;
            }
    }
    return out;
}

bool session::usable_locked(std::size_t v) const {
    return v < active_.size() && active_[v] != none && engines_[active_[v]] != nullptr;
}

std::size_t session::first_track() const {
    std::lock_guard lock(mutex_);
    return played_variant_;
}

std::string session::rendition_label(std::size_t t) const {
    const auto r = tracks_[t].rendition;
    if (!r) return {};
    const auto& x = master_.renditions[*r];
    return x.language ? x.name + " (" + *x.language + ")" : x.name;
}

result<> session::select_audio(const audio_preferences& p) {
    std::size_t lead = 0;
    std::vector<std::size_t> next;
    std::vector<std::pair<std::size_t, std::size_t>> load;  // (variant, track) without engine
    {
        std::lock_guard lock(mutex_);
        if (shut_down_) return kithara::fail(errc::invalid_value, "the stream is closed");
        audio_pending_ = true;
        lead = tracks_[plan_.empty() ? played_variant_ : plan_.back().variant].variant;
        next = choose_tracks(p, lead, adapt_);
        for (std::size_t v = 0; v < next.size(); ++v)
            if (next[v] != none && !engines_[next[v]] && (adapt_ || v == lead))
                load.emplace_back(v, next[v]);
    }
    struct pending_scope {
        session* s;
        ~pending_scope() {
            {
                std::lock_guard lock(s->mutex_);
                s->audio_pending_ = false;
            }
            s->pump();
        }
    } pending{this};
    if (next[lead] == none)
        return kithara::fail(errc::invalid_value, "alternate audio: no rendition to play");
    // The playlists of the new choice (I/O, no lock held).
    auto options = opts_;
    options.audio = p;
    const auto r0 = tracks_[next[lead]].rendition;
    const rendition* like = r0 ? &master_.renditions[*r0] : nullptr;
    std::vector<std::pair<std::size_t, std::shared_ptr<engine>>> loaded;
    for (auto [v, t] : load) {
        auto e = engine::create_variant(url_, store_, *client_, options, master_, v, like);
        if (!e) {
            if (v == lead) return kithara::fail(e.error());
            KITHARA_LOG_WARN("hls: variant {} left out of adaptation: {}", v, e.error().message());
            next[v] = none;
            continue;
        }
        (*e)->attach(weak_from_this(), t);
        if (playing_) (*e)->note_playing();
        loaded.emplace_back(t, *e);
    }
    std::vector<std::pair<std::shared_ptr<engine>, std::size_t>> cancel;
    {
        std::lock_guard lock(mutex_);
        if (shut_down_) return kithara::fail(errc::invalid_value, "the stream is closed");
        audio_pending_ = false;
        for (auto& [t, e] : loaded) engines_[t] = std::move(e);
        opts_.audio = p;
        if (next == active_) return {};
        active_ = std::move(next);
        // The slots the player did not take yet are decided again (their downloads stop; the
        // bytes stay cached); with none taken, the plan restarts at the position.
        for (std::size_t i = next_take_; i < plan_.size(); ++i)
            if (engines_[plan_[i].variant]->state_of(plan_[i].seg) == item::state::fetching)
                cancel.emplace_back(engines_[plan_[i].variant], plan_[i].seg);
        if (next_take_ == 0) {
            const auto t = active_[lead];
            slot s;
            s.variant = t;
            s.seg = engines_[t]->segment_at(position_);
            s.from = position_;
            s.decided_at = clock::now();
            plan_.assign(1, s);
            played_variant_ = t;
        } else {
            plan_.erase(plan_.begin() + static_cast<std::ptrdiff_t>(next_take_), plan_.end());
        }
        last_demand_ = {static_cast<std::size_t>(-1), 0};
    }
    for (auto& [e, i] : cancel) e->cancel_item(i);
    return {};  // pending's end pumps
}

std::shared_ptr<engine> session::engine_of(std::size_t v) const {
    std::lock_guard lock(mutex_);
    return engines_[v];
}

double session::duration() const {
    std::lock_guard lock(mutex_);
    return engines_[played_variant_]->info().duration;
}

bool session::enter() {
    std::lock_guard lock(mutex_);
    if (shut_down_) return false;
    ++busy_;
    return true;
}

void session::leave() {
    {
        std::lock_guard lock(mutex_);
        --busy_;
    }
    idle_.notify_all();
}

void session::emit(event e) const {
    if (opts_.on_event) opts_.on_event(e);
}

double session::slot_end(const slot& s) const {
    const auto& it = engines_[s.variant]->items()[s.seg];
    return it.start + it.duration;
}

bool session::slot_complete_locked(const slot& s) const {
    const auto& e = *engines_[s.variant];
    const auto& seg = e.segments()[s.seg];
    if (seg.gap) return true;
    if (e.state_of(s.seg) != item::state::done) return false;
    if (auto m = e.map_item(s.seg); m != no_index && e.state_of(m) != item::state::done)
        return false;
    return true;
}

double session::buffer_locked(double position) const {
    std::size_t i = 0;
    while (i < plan_.size() && slot_end(plan_[i]) <= position + 1e-6) ++i;
    double until = position;
    for (; i < plan_.size(); ++i) {
        if (!slot_complete_locked(plan_[i])) break;
        until = slot_end(plan_[i]);
    }
    return std::max(0.0, until - position);
}

std::uint64_t session::bandwidth_locked(std::size_t v) const {
    // Measured once two segments are known (what the variant really costs), else announced.
    if (measured_count_[v] >= 2 && measured_seconds_[v] > 0)
        return static_cast<std::uint64_t>(static_cast<double>(measured_bytes_[v]) * 8.0 /
                                          measured_seconds_[v]);
    return announced(master_.variants[tracks_[v].variant]);
}

std::optional<double> session::estimate_bps_locked() const {
    auto e = estimator_.estimate();
    if (!e) return std::nullopt;
    return *e * 8.0;
}

abr_status session::status_locked(std::size_t current) const {
    // The rules and the policy see the master's variants, each through its current track.
    abr_status st;
    for (std::size_t v = 0; v < active_.size(); ++v) {
        const auto t = active_[v];
        st.bandwidths.push_back(t != none ? bandwidth_locked(t) : announced(master_.variants[v]));
        st.available.push_back(usable_locked(v));
    }
    st.current = tracks_[current].variant;
    st.estimate = estimate_bps_locked();
    st.buffer_seconds = buffer_locked(position_);
    st.playback_speed = opts_.abr.playback_speed;
    st.max_bandwidth = cap_;
    return st;
}

bool session::extend_locked(std::vector<event>& events) {
    // While select_audio() loads the new rendition, nothing is decided with the old one.
    if (plan_.empty() || audio_pending_) return false;
    const slot last = plan_.back();
    const auto& ev = *engines_[last.variant];
    if (last.seg + 1 >= ev.segments().size()) return false;
    const double t = slot_end(last);
    // Decided in the master's variants; played as each one's current track.
    const std::size_t last_v = tracks_[last.variant].variant;
    std::size_t v = last_v;
    std::string why;
    if (locked_ && usable_locked(*locked_)) {
        v = *locked_;
        why = "locked";
    } else if (opts_.abr.mode == abr_mode::automatic && adapt_) {
        const auto st = status_locked(last.variant);
        if (opts_.abr.policy) {
            v = opts_.abr.policy(st);
            why = "policy";
        } else {
            abr_context c;
            c.since_last_up = t - last_up_at_;
            c.draining = last_fill_ < 1.0;
            auto ch = choose_variant(st, opts_.abr, c);
            v = ch.variant;
            why = std::move(ch.reason);
        }
        if (!usable_locked(v)) v = last_v;
        if (st.bandwidths[v] > st.bandwidths[last_v]) last_up_at_ = t;
    }
    std::size_t tr = last.variant;
    if (usable_locked(v))
        tr = active_[v];
    else if (usable_locked(last_v))
        tr = active_[last_v];
    if (tr != last.variant && tracks_[tr].variant == last_v)
        why = "audio: " + rendition_label(tr);  // select_audio()
    slot s;
    s.variant = tr;
    s.decided_at = clock::now();
    if (tr == last.variant) {
        s.seg = last.seg + 1;
        s.from = ev.items()[s.seg].start;
    } else {
        const auto& ew = *engines_[tr];
        s.seg = ew.segment_at(t);
        const auto& it = ew.items()[s.seg];
        if (it.start + it.duration <= t + 1e-3) {  // the new track ends first: stay
            s.variant = last.variant;
            s.seg = last.seg + 1;
            s.from = ev.items()[s.seg].start;
        } else {
            s.switch_in = true;
            s.from = t;
            const auto& seg = ew.segments()[s.seg];
            events.push_back(make_event(event_kind::abr_decision, seg.resolved_uri,
                                        seg.media_sequence, tracks_[tr].variant, t, why));
            KITHARA_LOG_DEBUG("hls: abr track {} -> {} at {:.3f} s: {}", last.variant, tr, t, why);
        }
    }
    plan_.push_back(s);
    return true;
}

void session::trim_locked() {
    // Slots the player finished with: consumed, and the next one consumed too, and over.
    while (plan_.size() > 1 && next_take_ > 1 && plan_[1].consumed &&
           slot_end(plan_[0]) <= position_ - 1e-6) {
        plan_.pop_front();
        --next_take_;
    }
}

void session::pump() {
    if (!enter()) return;
    struct scope {
        session* s;
        ~scope() { s->leave(); }
    } guard{this};
    for (;;) {
        std::vector<std::pair<std::shared_ptr<engine>, std::size_t>> to_start;
        std::vector<event> events;
        {
            std::lock_guard lock(mutex_);
            if (shut_down_) return;
            trim_locked();
            std::size_t running = 0;
            for (const auto& e : engines_)
                if (e) running += e->in_flight();
            const auto now = clock::now();
            double secs = 0;
            std::uint64_t bytes = 0;
            for (std::size_t i = 0; running < opts_.max_requests; ++i) {
                if (i > 0 && (secs >= opts_.prefetch_seconds || bytes >= opts_.prefetch_bytes))
                    break;
                if (i == plan_.size()) {
                    // Never decide blind while the first measurement is under way: at start
                    // the second segment waits for the first one's reading (which it would
                    // otherwise share the link with) and is decided with it.
                    if (!estimator_.estimate() && !downloads_.empty()) break;
                    if (!extend_locked(events)) break;
                }
                const slot& sl = plan_[i];
                const auto& e = engines_[sl.variant];
                const auto& segs = e->segments();
                auto want = [&](std::size_t item) {
                    if (running >= opts_.max_requests || !e->claim(item)) return;
                    ++running;
                    to_start.emplace_back(e, item);
                    if (item < segs.size()) downloads_[{sl.variant, item}] = download{now};
                };
                // The priming segment of a switch (decoded before the slot, dropped): until the
                // output reaches the switch point (the player may take the slot before the
                // window came to it: right after select_audio(), or a seek).
                const bool priming_needed = !sl.consumed || position_ < sl.from - 1e-6;
                if (sl.switch_in && opts_.abr.prime_decoder && sl.seg > 0 && priming_needed &&
                    !segs[sl.seg].discontinuity && !segs[sl.seg - 1].gap &&
                    segs[sl.seg - 1].map == segs[sl.seg].map) {
                    if (auto m = e->map_item(sl.seg - 1); m != no_index) want(m);
                    want(sl.seg - 1);
                }
                if (!segs[sl.seg].gap) {
                    if (auto m = e->map_item(sl.seg); m != no_index) want(m);
                    want(sl.seg);
                }
                const auto& it = e->items()[sl.seg];
                // Media ahead of the position: the slot being played counts from the position.
                secs += std::max(0.0,
                                 it.start + it.duration - std::max({sl.from, it.start, position_}));
                if (auto size = e->size_of(sl.seg))
                    bytes += *size;
                else
                    bytes += static_cast<std::uint64_t>(
                        static_cast<double>(bandwidth_locked(sl.variant)) / 8.0 * it.duration);
            }
        }
        for (auto& ev : events) emit(std::move(ev));
        bool finished_any = false;
        for (auto& [e, i] : to_start) finished_any |= e->start_claimed(i);
        if (!finished_any) return;
    }
}

void session::on_demand(std::size_t variant, std::size_t seg) {
    {
        std::lock_guard lock(mutex_);
        if (last_demand_ == std::pair{variant, seg}) return;
        last_demand_ = {variant, seg};
    }
    pump();
}

std::optional<session::slot> session::take_slot() {
    std::optional<slot> out;
    std::vector<event> events;
    {
        std::lock_guard lock(mutex_);
        if (next_take_ == plan_.size() && !extend_locked(events)) return std::nullopt;
        auto& s = plan_[next_take_++];
        s.consumed = true;
        out = s;
    }
    for (auto& ev : events) emit(std::move(ev));
    pump();
    return out;
}

bool session::take_slot_if(std::size_t v, std::size_t seg) {
    bool taken = false;
    std::vector<event> events;
    {
        std::lock_guard lock(mutex_);
        if (next_take_ == plan_.size() && !extend_locked(events)) return false;
        auto& s = plan_[next_take_];
        if (s.variant == v && s.seg == seg && !s.switch_in) {
            s.consumed = true;
            ++next_take_;
            taken = true;
        }
    }
    for (auto& ev : events) emit(std::move(ev));
    pump();
    return taken;
}

void session::set_position(double seconds, std::size_t variant) {
    {
        std::lock_guard lock(mutex_);
        position_ = seconds;
        played_variant_ = variant;
    }
    pump();  // the window slides with the position (a request when there is room)
}

void session::seek(double t) {
    {
        std::lock_guard lock(mutex_);
        std::size_t v = plan_.empty() ? played_variant_ : plan_.back().variant;
        if (usable_locked(tracks_[v].variant)) v = active_[tracks_[v].variant];
        plan_.clear();
        next_take_ = 0;
        cut_.reset();
        position_ = t;
        slot s;
        s.variant = v;
        s.seg = engines_[v]->segment_at(t);
        s.from = t;
        s.switch_in = false;
        s.decided_at = clock::now();
        plan_.push_back(s);
        last_demand_ = {static_cast<std::size_t>(-1), 0};
    }
    pump();
}

void session::on_sample(std::size_t variant, std::size_t seg, const net::throughput_sample& s) {
    if (!enter()) return;
    struct scope {
        session* s;
        ~scope() { s->leave(); }
    } guard{this};
    std::vector<std::pair<std::shared_ptr<engine>, std::size_t>> cancel;
    std::vector<event> events;
    {
        std::lock_guard lock(mutex_);
        if (shut_down_) return;
        const auto now = clock::now();
        if (auto r = meter_.add(s, now)) {
            const double media_bps = static_cast<double>(bandwidth_locked(variant)) / 8.0;
            estimator_.add(r->bytes_per_second(), r->weight(media_bps));
        }
        auto it = downloads_.find({variant, seg});
        if (it != downloads_.end()) {
            it->second.bytes = s.bytes;
            if (s.interval_time.count() > 0 && s.interval_bytes > 0) {
                it->second.rate = s.interval_bytes_per_second;
                ++it->second.samples;
            }
        }
        if (!s.final) check_abort_locked(cancel, events);
    }
    for (auto& ev : events) emit(std::move(ev));
    for (auto& [e, i] : cancel) e->cancel_item(i);
}

void session::check_abort_locked(
    std::vector<std::pair<std::shared_ptr<engine>, std::size_t>>& cancel,
    std::vector<event>& events) {
    if (!opts_.abr.emergency_abort || opts_.abr.mode != abr_mode::automatic || locked_ || cut_)
        return;
    const double speed = opts_.abr.playback_speed > 0 ? opts_.abr.playback_speed : 1.0;
    // From the slot being played on: a slot the player took already is cut at its start (the
    // player stops its run there), a later one simply replaced.
    std::size_t first = 0;
    while (first < plan_.size() && slot_end(plan_[first]) <= position_ + 1e-6) ++first;
    for (std::size_t i = first; i < plan_.size(); ++i) {
        const slot& sl = plan_[i];
        auto d = downloads_.find({sl.variant, sl.seg});
        // Judged on two interval samples at least (the first holds TCP's slow start), and only
        // once playing (at start-up there is no buffer to protect yet).
        if (!playing_ || d == downloads_.end() || d->second.samples < 2 || d->second.rate <= 0)
            continue;
        if (sl.consumed && sl.from <= position_ + 1e-6) continue;  // already playing into it
        const auto& e = *engines_[sl.variant];
        const auto& it = e.items()[sl.seg];
        const double media_bps = static_cast<double>(bandwidth_locked(sl.variant)) / 8.0;
        const auto size = e.size_of(sl.seg);
        const double expected = size ? static_cast<double>(*size) : media_bps * it.duration;
        const double remaining = std::max(0.0, expected - static_cast<double>(d->second.bytes));
        const double rate = d->second.rate;
        const double needed = remaining / rate;                                  // wall seconds
        const double until_needed = std::max(0.0, sl.from - position_) / speed;  // wall seconds
        if (needed <= until_needed) continue;
        // The best lower variant whose segment arrives in time at this rate, else the lowest;
        // only worth it when that saves at least half of the wait.
        const auto st = status_locked(sl.variant);  // in variants
        const std::size_t cur = st.current;
        auto seconds_for = [&](std::size_t v) {
            return static_cast<double>(st.bandwidths[v]) / 8.0 * it.duration / rate;
        };
        std::optional<std::size_t> pick;
        for (std::size_t v = 0; v < active_.size(); ++v) {
            if (!usable_locked(v) || st.bandwidths[v] >= st.bandwidths[cur]) continue;
            if (cap_ && st.bandwidths[v] > cap_) continue;
            if (seconds_for(v) <= until_needed * 0.8 &&
                (!pick || st.bandwidths[v] > st.bandwidths[*pick]))
                pick = v;
        }
        if (!pick) {
            for (std::size_t v = 0; v < active_.size(); ++v)
                if (usable_locked(v) && (!pick || st.bandwidths[v] < st.bandwidths[*pick]))
                    pick = v;
        }
        if (!pick || st.bandwidths[*pick] >= st.bandwidths[cur]) return;
        if (seconds_for(*pick) > needed * 0.5) return;
        const std::size_t pick_track = active_[*pick];
        // Abandon slot i and the later ones; slot i is decided again, from the same time.
        const slot old = sl;
        for (std::size_t k = i; k < plan_.size(); ++k) {
            const auto& later = plan_[k];
            if (k == i && old.consumed) continue;  // cancelled once the player cut its run
            if (engines_[later.variant]->state_of(later.seg) == item::state::fetching)
                cancel.emplace_back(engines_[later.variant], later.seg);
        }
        if (old.consumed) cut_ = cut{old.variant, old.seg, old.from};
        plan_.erase(plan_.begin() + static_cast<std::ptrdiff_t>(i), plan_.end());
        next_take_ = std::min(next_take_, i);
        slot s;
        s.variant = pick_track;
        s.decided_at = clock::now();
        s.seg = engines_[pick_track]->segment_at(old.from);
        s.from = old.from;
        s.switch_in = true;
        plan_.push_back(s);
        ++aborts_;
        char why[256];
        std::snprintf(why, sizeof why,
                      "emergency: the rest of %s (%.0f KiB) would take %.2f s at %s, %.2f s "
                      "before it plays",
                      it.label.c_str(), remaining / 1024.0, needed, format_rate(rate * 8.0).c_str(),
                      until_needed);
        const auto& seg = engines_[pick_track]->segments()[s.seg];
        events.push_back(make_event(event_kind::abr_decision, seg.resolved_uri, seg.media_sequence,
                                    *pick, old.from, why));
        KITHARA_LOG_INFO("hls: abr {}", why);
        return;
    }
}

std::optional<double> session::cut_for(std::size_t variant) const {
    std::lock_guard lock(mutex_);
    if (cut_ && cut_->variant == variant) return cut_->at;
    return std::nullopt;
}

void session::cut_done() {
    std::shared_ptr<engine> e;
    std::size_t seg = 0;
    {
        std::lock_guard lock(mutex_);
        if (!cut_) return;
        e = engines_[cut_->variant];
        seg = cut_->seg;
        cut_.reset();
    }
    e->cancel_item(seg);  // its bytes stay cached for later
    pump();
}

void session::on_item_done(std::size_t variant, std::size_t item_index, bool ok) {
    if (!enter()) return;
    struct scope {
        session* s;
        ~scope() { s->leave(); }
    } guard{this};
    {
        std::lock_guard lock(mutex_);
        if (shut_down_) return;
        auto d = downloads_.find({variant, item_index});
        if (d != downloads_.end()) {
            const auto& e = *engines_[variant];
            if (ok) {
                const auto& it = e.items()[item_index];
                if (auto size = e.size_of(item_index)) {
                    measured_bytes_[variant] += *size;
                    measured_seconds_[variant] += it.duration;
                    ++measured_count_[variant];
                }
                const double wall =
                    std::chrono::duration<double>(clock::now() - d->second.started).count();
                const double speed = opts_.abr.playback_speed > 0 ? opts_.abr.playback_speed : 1.0;
                if (wall > 0) last_fill_ = it.duration / (wall * speed);
            }
            downloads_.erase(d);
            // Nothing else on the wire: what the meter holds is a reading now.
            if (downloads_.empty()) {
                if (auto r = meter_.flush()) {
                    const double media_bps = static_cast<double>(bandwidth_locked(variant)) / 8.0;
                    estimator_.add(r->bytes_per_second(), r->weight(media_bps));
                }
            }
        }
    }
    pump();
}

void session::lock_variant(std::optional<std::size_t> v) {
    std::lock_guard lock(mutex_);
    locked_ = v;
}

void session::set_max_bandwidth(std::uint64_t bps) {
    std::lock_guard lock(mutex_);
    cap_ = bps;
}

void session::note_switch() {
    std::lock_guard lock(mutex_);
    ++switches_;
}

void session::note_playing() {
    std::lock_guard lock(mutex_);
    playing_ = true;
    for (auto& e : engines_)
        if (e) e->note_playing();
}

stream_stats session::stats(double position) const {
    std::vector<std::shared_ptr<engine>> engines;
    stream_stats out;
    {
        std::lock_guard lock(mutex_);
        engines = engines_;
        out.switches = switches_;
        out.aborts = aborts_;
        out.estimate_bps = estimate_bps_locked().value_or(0.0);
        out.buffered_seconds = buffer_locked(position);
    }
    for (const auto& e : engines) {
        if (!e) continue;
        const auto c = e->counters();
        add_counters(out, c);
        out.segments_held += c.segments_held;
    }
    return out;
}

stream_info session::info() const {
    std::lock_guard lock(mutex_);
    auto i = engines_[played_variant_]->info();
    i.variant = tracks_[played_variant_].variant;
    return i;
}

void session::await_complete_requests() {
    std::vector<std::shared_ptr<engine>> engines;
    {
        std::lock_guard lock(mutex_);
        engines = engines_;
    }
    for (auto& e : engines)
        if (e) e->await_complete_requests();
}

void session::shutdown() {
    std::vector<std::shared_ptr<engine>> engines;
    std::optional<double> estimate;
    {
        std::unique_lock lock(mutex_);
        shut_down_ = true;
        // Executor calls in progress finish first (they may emit events).
        idle_.wait(lock, [&] { return busy_ == 0; });
        engines = engines_;
        if (estimator_.warm()) estimate = estimate_bps_locked();
    }
    for (auto& e : engines)
        if (e) e->shutdown();
    // The next session on this host starts on the variant this estimate fits.
    if (estimate && opts_.abr.persist_estimate) save_estimate(store_, url_, *estimate);
}

}  // namespace kithara::hls::detail
