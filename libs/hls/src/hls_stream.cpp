// hls_stream: runs of segments decoded in sequential mode (one decoder per run: a new one at each
// discontinuity, EXT-X-MAP change and gap), gaps as silence, sample-accurate seeks, and failed
// segments as gaps (failed_segment_as_gap: the run is decoded again up to the failed segment,
// dropping the frames already returned, so the PCM before the gap is exactly the same).
#include <kithara/hls/hls_stream.hpp>

#include "detail/abr_rules.hpp"
#include "detail/engine.hpp"
#include "detail/session.hpp"

#include <kithara/decode/decoder.hpp>
#include <kithara/decode/error.hpp>
#include <kithara/detail/log.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/stream/concat_source.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <stop_token>

namespace kithara::hls {

namespace detail {

namespace {

// A growing run keeps the last two parts it appended (a demuxer may read back a little) and lets
// go of those before: their sources, memory and cache handles. Called when the reader has passed
// every part appended so far.
constexpr std::size_t kept_parts = 2;

void release_played_parts(stream::concat_source& c) {
    if (const auto parts = c.part_count(); parts > kept_parts)
        c.release_parts_before(parts - kept_parts);
}

// The first segment a run still holds once segment `n` joined it.
constexpr std::size_t first_kept(std::size_t n) {
    return n >= kept_parts ? n - kept_parts : 0;
}

}  // namespace

// The decoding side; owned by hls_stream, used by one thread at a time.
struct player {
    std::shared_ptr<engine> e;  // the engine of the current run's variant
    // A live master: the player plays one track (a variant, or its audio rendition) and switches
    // to another at a segment boundary by media sequence number (select_audio, and adaptation
    // when `adapt`): the new track's engine loads its playlist, its timeline is rebased so that
    // the switch segment starts where the old track's did, its decoder is primed on the segment
    // before, and the old engine shuts down.
    struct live_tracks {
        master_playlist master;
        std::string url;
        assets::asset_store* store = nullptr;
        net::client* client = nullptr;
        stream_options options;  // as opened; audio: the preferences in effect
        bool adapt = false;
        std::size_t segments_since_switch = 0;
        std::size_t failed_loads = 0;  // switches whose playlist did not load, in a row
    };
    // The variant adaptation (or lock_variant) picked at a segment boundary; its playlist loads
    // in next() once the run ended (not in the decoder's read).
    std::optional<std::size_t> pending_variant;
    std::optional<live_tracks> tracks;
    // lock_variant() and set_max_bandwidth() of a live master (any thread).
    static constexpr std::size_t unlocked = static_cast<std::size_t>(-1);
    std::atomic<std::size_t> live_lock{unlocked};
    std::atomic<std::uint64_t> live_cap{0};
    std::shared_ptr<engine> switch_to;  // the track taking over when the current run ends
    event_kind switch_kind = event_kind::variant_switched;
    mutable std::mutex e_mutex;  // guards swaps of e against current() on other threads
    stream_stats stats_base;     // the additive counters of the live tracks played before
    bool keep_format = false;    // after a live switch: the first track's rate and channels stay
    std::shared_ptr<engine> current() const {
        std::lock_guard lock(e_mutex);
        return e;
    }
    // Sets the track taking over (null: none); e_mutex, so that interrupt() finds it.
    void set_switch_to(std::shared_ptr<engine> b) {
        std::lock_guard lock(e_mutex);
        switch_to = std::move(b);
    }
    // hls_stream::interrupt(): the current track and one being switched to stop waiting.
    void interrupt_tracks() {
        std::shared_ptr<engine> a, b;
        {
            std::lock_guard lock(e_mutex);
            a = e;
            b = switch_to;
        }
        if (a) a->interrupt();
        if (b) b->interrupt();
    }
    // Adaptive bitrate (null: one variant, runs built at once as before).
    std::shared_ptr<session> abr;
    std::size_t run_variant = 0;
    std::size_t run_next = 0;  // the next segment a lazily built run may append
    bool announce = false;     // the next chunk is the first of a switched-to variant
    session::clock::time_point decided_at{};
    std::size_t played_variant = 0;
    bool after_seek = false;  // the next run starts at `position` (a seek)
    bool playing = false;     // a chunk was returned
    // The crossfade at a switch: the last 5 ms of output are always held back (hold_back); when
    // a run ends at a switch, the new (primed) run starts where they start, and its first frames
    // are blended with them, old fading out, so the first chunk of the new variant begins
    // exactly at the switch point with no step (a differently encoded variant never clicks).
    std::vector<float> held;      // interleaved; at most a crossfade's frames (bounded)
    std::vector<float> held_tmp;  // hold_back's scratch (same bound)
    std::chrono::nanoseconds held_start{0};
    std::size_t xfade_total = 0;  // frames of the crossfade in progress (0: none)
    std::size_t xfade_done = 0;
    std::optional<decode::pcm_chunk> pending;  // returned by the next call
    bool pending_announces = false;
    std::optional<std::size_t> abr_failed_seg;  // a failed segment of the run, rendered next
    std::unique_ptr<decode::decoder> dec;
    std::size_t next_seg = 0;  // first segment of the next run
    std::size_t run_first = 0;
    // The run's init section (a live run outlives the table's blocks of its first segments).
    std::uint32_t run_map = no_index;
    std::size_t run_end = 0;
    // VOD: the segment grow_vod could not add to the run (the next run starts there and reports
    // why); kept for open_run when it happened while the decoder opened.
    std::optional<std::size_t> cut_at;
    double skip_seconds = 0;  // a seek inside the current run: becomes skip_frames at its 1st chunk
    std::uint64_t skip_frames =
        0;  // to drop at the start of the current run (a seek, a run decoded again)
    std::uint64_t run_frames = 0;  // frames the current run's decoder produced (dropped included)
    bool first_run = true;
    std::uint32_t rate = 0;
    std::uint32_t channels = 0;
    std::uint64_t silence_frames = 0;  // a gap still to render
    std::chrono::nanoseconds silence_at{0};
    double position = 0;    // end of the last chunk returned (or the seek target), seconds
    std::stop_source stop;  // hls_stream::interrupt(): every wait of next() ends, for good
    static result<std::optional<decode::pcm_chunk>> interrupted() {
        return kithara::fail(decode::errc::cancelled, "hls: next() interrupted");
    }
    double meta_from = -1;       // timed metadata from this time on is still to announce
    double announced_time = -1;  // the newest item announced since the last seek

    // Announces the timed metadata that starts before `end` (options.on_metadata).
    void announce_metadata(double end) {
        const auto& cb = e->options().on_metadata;
        if (!cb) return;
        // In-band items the segment reads found. One found after its time was passed (the
        // decoder had read past it before the tag was whole) comes now, unless a newer item
        // was announced already.
        if (auto late = e->merge_inband(meta_from); late && late->time > announced_time) {
            announced_time = late->time;
            cb(*late);
        }
        const auto& m = e->metadata();
        auto it = std::lower_bound(m.begin(), m.end(), meta_from,
                                   [](const timed_metadata& x, double t) { return x.time < t; });
        for (; it != m.end() && it->time < end; ++it) {
            announced_time = std::max(announced_time, it->time);
            cb(*it);
        }
        meta_from = std::max(meta_from, end);
    }

    // After a seek to t (or the live start): the item in effect at t comes with the next chunk.
    void metadata_at(double t) {
        meta_from = t;
        announced_time = -1;
        (void)e->merge_inband(t);
        const auto& m = e->metadata();
        auto it = std::upper_bound(m.begin(), m.end(), t,
                                   [](double v, const timed_metadata& x) { return v < x.time; });
        if (it == m.begin()) return;
        --it;
        if (!it->duration || it->time + *it->duration > t) meta_from = it->time;
    }

    // Remembers where the chunk about to be returned ends (for stats().buffered_seconds).
    decode::pcm_chunk make_chunk(std::size_t frames, std::chrono::nanoseconds start) {
        auto& pool =
            e->options().decode.pool ? *e->options().decode.pool : bufpool::default_sample_pool();
        decode::pcm_chunk c;
        c.samples = pool.get(frames * channels);
        c.sample_rate = rate;
        c.channels = channels;
        c.source_rate = rate;
        c.source_channels = channels;
        c.start = start;
        return c;
    }

    [[nodiscard]] std::size_t held_frames() const { return channels ? held.size() / channels : 0; }

    std::chrono::nanoseconds frames_to_ns(std::size_t frames) const {
        return std::chrono::nanoseconds(
            static_cast<std::int64_t>(frames * 1'000'000'000ull / (rate ? rate : 1)));
    }

    // ABR keeps the last 5 ms of output held back (a delay line, in place: no allocation), so
    // that when a run ends at a switch they can be crossfaded into the new variant. Returns the
    // chunk shifted by the held frames; nullopt when all of it went into the held frames.
    std::optional<decode::pcm_chunk> hold_back(decode::pcm_chunk ch) {
        const std::size_t n = std::max<std::size_t>(1, ch.sample_rate / 200);  // 5 ms
        const std::size_t len = ch.frames();
        const std::size_t have = held_frames();
        if (held.empty()) held_start = ch.start;
        held.reserve(n * ch.channels);
        if (have + len <= n) {
            held.insert(held.end(), ch.samples.begin(), ch.samples.end());
            return std::nullopt;
        }
        const std::size_t keep = n;  // frames held after this chunk
        const std::size_t out_frames = have + len - keep;
        // The last `keep` frames of (held + ch) become held; the first out_frames are returned
        // in ch's buffer (out_frames <= len + have; ch grows only when it was shorter than the
        // held frames, which cannot happen once n frames are held: then out_frames == len).
        held_tmp.assign(
            ch.samples.end() - static_cast<std::ptrdiff_t>(std::min(len, keep) * channels),
            ch.samples.end());
        if (len < keep) {  // the rest comes from the held frames' tail
            held_tmp.insert(held_tmp.begin(),
                            held.end() - static_cast<std::ptrdiff_t>((keep - len) * channels),
                            held.end());
        }
        const std::size_t from_ch = out_frames > have ? out_frames - have : 0;
        const std::size_t from_held = out_frames - from_ch;
        if (from_held > 0) {
            std::memmove(ch.samples.data() + from_held * channels, ch.samples.data(),
                         from_ch * channels * sizeof(float));
            std::copy_n(held.begin(), from_held * channels, ch.samples.begin());
        }
        ch.samples.resize(out_frames * channels);
        ch.start = held_start;
        held.swap(held_tmp);
        held_start = held_start + frames_to_ns(out_frames);
        return ch;
    }

    // The held frames as a chunk of their own (no crossfade possible).
    void flush_held() {
        if (held.empty()) return;
        auto c = make_chunk(held_frames(), held_start);
        std::copy(held.begin(), held.end(), c.samples.begin());
        position = std::chrono::duration<double>(held_start).count() +
                   static_cast<double>(held_frames()) / (rate ? rate : 1);
        held.clear();
        xfade_total = xfade_done = 0;
        pending = std::move(c);
        pending_announces = false;
    }

    // The new run's first chunk(s) during a crossfade: the blended frames are returned (still
    // the old variant's), the rest of the chunk next (the first of the new variant).
    decode::pcm_chunk crossfade(decode::pcm_chunk ch) {
        const std::size_t m = std::min(held_frames(), ch.frames());
        auto out = make_chunk(m, held_start);
        for (std::size_t i = 0; i < m; ++i) {
            const float w = static_cast<float>(static_cast<double>(xfade_done + i) + 0.5) /
                            static_cast<float>(xfade_total);
            for (std::size_t c = 0; c < channels; ++c) {
                const auto k = i * channels + c;
                out.samples[k] = held[k] * (1.0f - w) + ch.samples[k] * w;
            }
        }
        xfade_done += m;
        held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(m * channels));
        held_start = held_start + frames_to_ns(m);
        if (held.empty()) xfade_total = xfade_done = 0;
        if (m < ch.frames()) {
            const auto rest = ch.frames() - m;
            std::memmove(ch.samples.data(), ch.samples.data() + m * channels,
                         rest * channels * sizeof(float));
            ch.samples.resize(rest * channels);
            ch.start += frames_to_ns(m);
            if (auto r = hold_back(std::move(ch))) {
                pending = std::move(*r);
                pending_announces = true;
            }
        }
        return out;
    }

    result<std::optional<decode::pcm_chunk>> deliver(decode::pcm_chunk c,
                                                     bool may_announce = true) {
        if (!playing) {
            playing = true;
            if (abr)
                abr->note_playing();
            else
                e->note_playing();
        }
        if (c.sample_rate > 0) {
            position = std::chrono::duration<double>(c.start).count() +
                       static_cast<double>(c.frames()) / c.sample_rate;
            announce_metadata(position);
        }
        if (abr) {
            if (announce && may_announce) {
                announce = false;
                const auto ms =
                    std::chrono::duration<double, std::milli>(session::clock::now() - decided_at)
                        .count();
                char msg[96];
                std::snprintf(msg, sizeof msg, "decided %.0f ms before", ms);
                const auto before = played_variant;
                played_variant = run_variant;
                const double at = std::chrono::duration<double>(c.start).count();
                const auto v = abr->variant_of(run_variant);
                if (abr->variant_of(before) != v) {
                    abr->note_switch();
                    e->emit(make_event(event_kind::variant_switched, {}, 0, v, at, msg));
                }
                // Renditions of two groups (bit-rate tiers) are the same audio when their NAME
                // and LANGUAGE are.
                if (abr->rendition_label(before) != abr->rendition_label(run_variant))
                    e->emit(make_event(event_kind::rendition_switched, {}, 0, v, at,
                                       abr->rendition_label(run_variant)));
            }
            abr->set_position(position, played_variant);
        }
        return std::optional(std::move(c));
    }

    // ABR: a run that starts at slot `sl` and grows one segment at a time while the plan
    // continues in the same variant (the concat source asks at each segment's end).
    result<> open_abr_run(const session::slot& sl) {
        e = abr->engine_of(sl.variant);
        const auto& segs = e->segments();
        const auto& items = e->items();
        std::size_t first = sl.seg;
        if (sl.switch_in && e->options().abr.prime_decoder && sl.seg > 0 &&
            !segs[sl.seg].discontinuity && !segs[sl.seg - 1].gap &&
            segs[sl.seg - 1].map == segs[sl.seg].map && !e->failed_segment(sl.seg - 1, sl.seg))
            first = sl.seg - 1;  // primes the decoder: decoded, then dropped
        run_first = first;
        run_end = sl.seg + 1;
        run_next = sl.seg + 1;
        run_variant = sl.variant;
        run_frames = 0;
        (void)e->take_read_failure();
        const auto& s0 = segs[first];
        stream::media_hints h;
        h.container = container_of(s0.resolved_uri, s0.map != no_index);
        auto cat = stream::concat_source::create(h);
        if (auto m = e->map_item(first); m != no_index) {
            auto src = e->map_source(m, first);
            if (!src) return kithara::fail(src.error());
            if (auto r = cat->append(*src); !r) return r;
        }
        for (std::size_t k = first; k <= sl.seg; ++k) {
            auto src = e->segment_source(k);
            if (!src) return kithara::fail(src.error());
            if (auto r = cat->append(*src); !r) return r;
        }
        // The run grows while the plan stays in this variant, and lets go of what it played as
        // grow_vod does: the parts passed, and the engine's handles behind them.
        cat->on_demand([this, weak = std::weak_ptr<stream::concat_source>(cat)] {
            auto c = weak.lock();
            if (!c) return;
            release_played_parts(*c);
            const auto& sg = e->segments();
            const auto n = run_next;
            const bool continues = n < sg.size() && !sg[n].gap && !sg[n].discontinuity &&
                                   sg[n].map == sg[run_first].map && !e->failed_segment(n, n + 1);
            if (continues && abr->take_slot_if(run_variant, n)) {
                auto src = e->segment_source(n);
                if (src && c->append(*src)) {
                    run_next = n + 1;
                    run_end = n + 1;
                    if (!e->live()) e->release_behind(first_kept(n));
                    return;
                }
                // Not appendable (an unsupported key): the run ends; the segment fails next.
                abr_failed_seg = n;
            }
            c->finish();
        });
        if (sl.switch_in && !first_run && segs[sl.seg].discontinuity)
            e->emit(make_event(event_kind::discontinuity, segs[sl.seg].resolved_uri,
                               segs[sl.seg].media_sequence, abr->variant_of(sl.variant),
                               items[sl.seg].start, {}));
        if (!sl.switch_in && !first_run && s0.discontinuity)
            e->emit(make_event(event_kind::discontinuity, s0.resolved_uri, s0.media_sequence,
                               abr->variant_of(sl.variant), items[first].start, {}));
        first_run = false;
        if (!e->live()) e->reopen_from(first);  // this run's segments may be opened again
        auto opts = e->options().decode;
        opts.sequential = true;
        opts.reader.prefetch_bytes = 0;
        opts.reader.stop = stop.get_token();  // interrupt() ends a wait for segment bytes
        opts.start_offset = std::chrono::nanoseconds(
            static_cast<std::int64_t>(std::llround(items[first].start * 1e9)));
        // The output format never changes with the variant: without one asked for, the first
        // run's rate and channels stay (a 48 kHz variant after a 44.1 kHz one is resampled).
        if (opts.sample_rate == 0) opts.sample_rate = rate;
        if (opts.channels == 0) opts.channels = channels;
        auto d = decode::decoder::open(cat, opts);
        if (!d) {
            if (auto f = e->failure()) return kithara::fail(*f);
            auto err = d.error();
            err.add_context("segment " + items[first].label);
            return kithara::fail(std::move(err));
        }
        dec = std::move(*d);
        next_seg = sl.seg + 1;
        skip_frames = 0;
        skip_seconds = 0;
        // A switch (or a seek) continues exactly where the output is: drop what the new run
        // decodes before `position` (the priming segment, and a switch point inside a segment).
        if (!held.empty()) {
            // The crossfade needs the new run's output from where the held frames start.
            if (sl.switch_in && position >= items[first].start - 1e-9) {
                xfade_total = held_frames();
                xfade_done = 0;
            } else {
                flush_held();
            }
        }
        if (sl.switch_in || after_seek) skip_seconds = std::max(0.0, position - items[first].start);
        after_seek = false;
        // A switch announces itself with its first chunk; one that never returned a chunk (the
        // plan switched again before) is not announced.
        announce = sl.switch_in && sl.variant != played_variant;
        if (announce) decided_at = sl.decided_at;
        return {};
    }

    // ABR: the next run, gap or end. False: the end of the stream.
    result<bool> next_abr_run() {
        if (abr_failed_seg) {  // a segment of the last run failed (failed_segment_as_gap)
            session::slot sl;
            sl.variant = run_variant;
            sl.seg = *abr_failed_seg;
            abr_failed_seg.reset();
            abr_gap(sl);
            return true;
        }
        auto sl = abr->take_slot();
        if (!sl) {
            if (!held.empty()) {  // the held tail of the last run: returned, then the end
                flush_held();
                return true;
            }
            abr->await_complete_requests();
            return false;
        }
        e = abr->engine_of(sl->variant);
        const auto& seg = e->segments()[sl->seg];
        if (seg.gap || e->failed_segment(sl->seg, sl->seg + 1)) {
            abr_gap(*sl);
            return true;
        }
        if (auto r = open_abr_run(*sl); !r) {
            e->emit(make_event(event_kind::error, seg.resolved_uri, seg.media_sequence,
                               abr->variant_of(sl->variant), e->items()[sl->seg].start,
                               r.error().message()));
            return kithara::fail(r.error());
        }
        return true;
    }

    // A gap slot (EXT-X-GAP, or a failed segment with failed_segment_as_gap): silence from the
    // position to the segment's end (or nothing with gap_policy::skip).
    void abr_gap(const session::slot& sl) {
        flush_held();
        e = abr->engine_of(sl.variant);
        const auto& it = e->items()[sl.seg];
        const auto& seg = e->segments()[sl.seg];
        std::string why;
        if (!seg.gap) {
            const auto f = e->item_failure(sl.seg);
            why = "failed segment rendered as a gap: " + (f ? f->message() : "");
        }
        e->emit(make_event(event_kind::gap, seg.resolved_uri, seg.media_sequence,
                           abr->variant_of(sl.variant), it.start, why));
        if (e->options().gaps == gap_policy::silence) {
            if (rate == 0) {
                rate = e->options().decode.sample_rate ? e->options().decode.sample_rate : 44100;
                channels = e->options().decode.channels ? e->options().decode.channels : 2;
            }
            const double from = std::max(position, it.start);
            const auto r = static_cast<double>(rate);
            const auto n = std::llround((it.start + it.duration) * r) - std::llround(from * r);
            silence_at =
                std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(from * 1e9)));
            silence_frames = n > 0 ? static_cast<std::uint64_t>(n) : 0;
        }
        after_seek = false;
    }

    // Live master with adaptation: at each segment boundary, the variant the measured network
    // throughput fits (abr_options' safeties, cap and speed; two segments at least between
    // switches). A switch loads the other variant's playlist (keeping the rendition's name and
    // language) and takes over when the current run ends.
    void consider_live_adaptation() {
        if (!tracks || switch_to || pending_variant) return;
        ++tracks->segments_since_switch;
        // After a playlist that did not load: four segments before the next attempt.
        if (tracks->failed_loads > 0 && tracks->segments_since_switch < 4) return;
        const auto locked = live_lock.load();
        const auto& o = tracks->options.abr;
        if (locked != unlocked) {
            if (locked < tracks->master.variants.size() && locked != e->variant())
                pending_variant = locked;
            return;
        }
        if (!tracks->adapt || tracks->segments_since_switch < 2) return;
        const double bps = e->measured_bps();
        if (bps <= 0) return;
        abr_status st;
        for (const auto& v : tracks->master.variants)
            st.bandwidths.push_back(v.average_bandwidth && *v.average_bandwidth > 0
                                        ? *v.average_bandwidth
                                        : v.bandwidth);
        st.available.assign(st.bandwidths.size(), true);
        st.current = e->variant();
        st.estimate = bps;
        st.playback_speed = o.playback_speed > 0 ? o.playback_speed : 1.0;
        st.max_bandwidth = live_cap.load() ? live_cap.load() : o.max_bandwidth;
        const auto cur = st.current;
        auto v = best_fit(st, bps, o.up_safety);
        // Down only when the current variant no longer fits down_safety (or exceeds the cap).
        if (v < cur &&
            static_cast<double>(st.bandwidths[cur]) * st.playback_speed <= bps * o.down_safety &&
            (st.max_bandwidth == 0 || st.bandwidths[cur] <= st.max_bandwidth))
            v = cur;
        if (v != cur) pending_variant = v;
    }

    // Loads variant v's playlist (the rendition of the same name and language) to take over
    // when the current run ends.
    void begin_variant_switch(std::size_t v) {
        const auto r = e->rendition();
        const rendition* like = r ? &tracks->master.renditions[*r] : nullptr;
        auto b = engine::create_variant(tracks->url, *tracks->store, *tracks->client,
                                        tracks->options, tracks->master, v, like);
        if (!b) {
            KITHARA_LOG_WARN("hls: live variant {} not switched to: {}", v, b.error().message());
            tracks->segments_since_switch = 0;  // not again at once
            ++tracks->failed_loads;
            return;
        }
        tracks->failed_loads = 0;
        switch_kind = event_kind::variant_switched;
        set_switch_to(std::move(*b));
    }

    // Live master: the track switch_to takes over from the first segment not played yet (the
    // current run ended there). Waits until that track lists the segment.
    result<> live_switch() {
        auto b = switch_to;  // stays switch_to (interrupt() finds it) until the swap
        (void)e->refresh(false);
        const auto& items = e->items();
        std::uint64_t msn = 0;
        double at = 0;
        if (next_seg < items.size()) {
            msn = items[next_seg].media_sequence;
            at = items[next_seg].start;
        } else {
            msn = items.back().media_sequence + 1;
            at = items.back().start + items.back().duration;
        }
        // Two target durations at most (the new track a little behind the old one, or the
        // segment still being built there); then this track plays on.
        const double scale = e->options().live.time_scale > 0 ? e->options().live.time_scale : 1;
        const auto deadline = std::chrono::steady_clock::now() +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(2 * target_of(b->media()) / scale));
        for (;;) {
            if (stop.stop_requested()) {
                set_switch_to(nullptr);
                b->shutdown();
                return kithara::fail(decode::errc::cancelled, "hls: next() interrupted");
            }
            (void)b->refresh(false);
            if (b->segment_of_msn(msn) || b->ended() || b->failure()) break;
            if (!b->items().empty() && b->items().back().media_sequence > msn) break;
            // LL-HLS: the segment the new track is building, read from its parts.
            if (b->extend_by_parts() && b->segment_of_msn(msn)) break;
            if (std::chrono::steady_clock::now() >= deadline) break;
            if (!b->refresh(true)) break;
        }
        const auto k = b->segment_of_msn(msn);
        if (!k || !b->rebase_live(msn, at)) {
            // Not aligned by media sequence (or gone): keep playing this track.
            KITHARA_LOG_WARN(
                "hls: live track switch abandoned: the other track does not list "
                "media sequence {}",
                msn);
            set_switch_to(nullptr);
            b->shutdown();
            return {};
        }
        auto old = e;
        {
            std::lock_guard lock(e_mutex);
            e = b;
            switch_to.reset();
        }
        if (stop.stop_requested()) b->interrupt();
        add_counters(stats_base, old->stats(position));
        ++stats_base.switches;
        old->shutdown();
        keep_format = true;
        tracks->segments_since_switch = 0;
        // Primed: the new decoder starts one segment early and drops it, so the first frames of
        // the switch segment decode with their predecessor's overlap, as they would in one run.
        const auto& sg = b->segments();
        next_seg = *k;
        skip_seconds = 0;
        if (*k > sg.first() && !sg[*k].discontinuity && !sg[*k - 1].gap &&
            sg[*k - 1].map == sg[*k].map && !b->failed_segment(*k - 1, *k)) {
            next_seg = *k - 1;
            skip_seconds = b->items()[*k].start - b->items()[*k - 1].start;
        }
        b->set_position(next_seg);
        meta_from = position;
        const auto label =
            b->info().rendition ? b->info().renditions[*b->info().rendition].name : std::string();
        b->emit(make_event(switch_kind, {}, msn, b->variant(), at,
                           switch_kind == event_kind::rendition_switched
                               ? label
                               : "live: from media sequence " + std::to_string(msn)));
        return {};
    }

    // Live master (application thread): the rendition `prefs` picks plays from the end of the
    // segment being played.
    result<> select_live_audio(const audio_preferences& prefs) {
        if (!tracks)
            return kithara::fail(
                errc::not_supported,
                "no alternate audio to switch to (no AUDIO group with two renditions)");
        const auto v = e->variant();
        const auto& m = tracks->master;
        const auto& variant = m.variants[v];
        if (!variant.audio || audio_group(m, *variant.audio).size() < 2)
            return kithara::fail(
                errc::not_supported,
                "no alternate audio to switch to (no AUDIO group with two renditions)");
        const auto choice = audio_for(m, v, prefs);
        tracks->options.audio = prefs;
        if (choice.rendition == e->rendition()) {
            if (switch_to) switch_to->shutdown();
            set_switch_to(nullptr);
            return {};
        }
        auto b = engine::create_variant(tracks->url, *tracks->store, *tracks->client,
                                        tracks->options, m, v);
        if (!b) return kithara::fail(b.error());
        if (switch_to) switch_to->shutdown();
        switch_kind = event_kind::rendition_switched;
        set_switch_to(std::move(*b));
        return {};
    }

    // Live: may segment n follow the run (same decoder)? Refreshes the table when n is not
    // known yet, waiting for the next reload until it is, or the playlist ended.
    bool live_continues(std::size_t n) {
        consider_live_adaptation();
        for (;;) {
            if (switch_to || pending_variant) return false;  // the next track takes over
            const auto& sg = e->segments();
            if (n < sg.size()) {
                if (sg[n].gap || sg[n].discontinuity || sg[n].map != run_map ||
                    e->failed_segment(n, n + 1) || e->lost_segment(n, n + 1))
                    return false;
                // Out of the server's window and not cached: the run ends; the next one jumps.
                return n >= e->window_first() || e->state_of(n) == item::state::done;
            }
            if (e->ended() || e->failure()) return false;
            (void)e->refresh(false);
            if (n < e->segments().size()) continue;
            // LL-HLS: the segment the server is building, read part by part.
            if (e->extend_by_parts()) continue;
            if (!e->refresh(true)) return false;  // ended, or the reloads stopped
        }
    }

    // VOD: the run appends segment `next` of [.., end) when the decoder reaches the end of the
    // parts appended so far, and lets go of the parts passed (release_played_parts) and of the
    // engine's handles behind them: a stream holds a few open cache files, not one per segment
    // played.
    void grow_vod(const std::shared_ptr<stream::concat_source>& cat, std::size_t next,
                  std::size_t end) {
        // The callback may be copied before each call: the position lives outside it.
        auto at = std::make_shared<std::size_t>(next);
        cat->on_demand([this, at, end, weak = std::weak_ptr<stream::concat_source>(cat)] {
            auto c = weak.lock();
            if (!c) return;
            release_played_parts(*c);
            if (*at < end) {
                auto src = e->segment_source(*at);
                if (!src || !c->append(*src)) {
                    // The run ends before this segment, and the next run starts at it: its
                    // open_run reports the error (never a silently shorter stream).
                    run_end = *at;
                    next_seg = *at;
                    cut_at = *at;
                    c->finish();
                    return;
                }
                e->release_behind(first_kept(*at));
                if (++*at < end) return;
            }
            c->finish();
        });
    }

    // Live: the run appends each next segment when the decoder reaches the end of the last.
    void grow_live(const std::shared_ptr<stream::concat_source>& cat) {
        cat->on_demand([this, weak = std::weak_ptr<stream::concat_source>(cat)] {
            auto c = weak.lock();
            if (!c) return;
            const auto n = run_end;
            // The played segments' sources, memory and cache handles go, so that evict_behind
            // can remove their files.
            release_played_parts(*c);
            if (live_continues(n)) {
                if (auto src = e->segment_source(n); src && c->append(*src)) {
                    run_end = n + 1;
                    next_seg = n + 1;
                    // Segments before first_kept(n): the parts released above. The last two
                    // may still be read, so their files stay (a removal would be deferred
                    // behind their handles, and a reopen of one refused).
                    e->evict_behind(first_kept(n));
                    return;
                }
            }
            c->finish();
        });
    }

    // Live: next_seg left the server's window while we were away (a long pause) and is not
    // cached: resume at the oldest segment still available, with an event.
    void live_catch_up() {
        const auto wf = e->window_first();
        if (next_seg >= wf || e->state_of(next_seg) == item::state::done) return;
        const auto& it = e->items()[wf];
        e->emit(make_event(event_kind::live_jump, it.url, it.media_sequence, e->info().variant,
                           it.start,
                           "behind the server's window: resuming at its oldest segment (" +
                               std::to_string(it.start - position) + " s later)"));
        next_seg = wf;
        skip_seconds = 0;
        position = it.start;
        metadata_at(position);
        e->set_position(wf);
    }

    // Live: segment k of the run is gone from the server (we were away too long): the run
    // ends, and playback resumes at the oldest segment the server still has, after k.
    bool live_skip_lost() {
        if (!e->live()) return false;
        const auto k = e->lost_segment(run_first, std::max(run_end, next_seg + 1));
        if (!k) return false;
        dec.reset();
        (void)e->refresh(false);
        const auto to = std::max(*k + 1, e->window_first());
        const auto& segs = e->segments();
        if (to >= segs.size()) {
            next_seg = segs.size();  // at the end of the table: wait for the next reload
            return true;
        }
        const auto& it = e->items()[to];
        e->emit(make_event(event_kind::live_jump, it.url, it.media_sequence, e->info().variant,
                           it.start,
                           "segment " + e->items()[*k].label +
                               " is gone from the server: resuming at its oldest segment"));
        next_seg = to;
        skip_seconds = 0;
        position = it.start;
        metadata_at(position);
        e->set_position(to);
        return true;
    }

    result<> open_run(std::size_t first, double skip, std::uint64_t skip_n = 0,
                      std::optional<std::size_t> stop_at = std::nullopt) {
        const auto& segs = e->segments();
        std::size_t end = first + 1;
        const std::size_t limit = stop_at ? *stop_at : segs.size();
        while (end < limit && !segs[end].gap && !segs[end].discontinuity &&
               segs[end].map == segs[first].map && !e->failed_segment(end, end + 1))
            ++end;
        run_first = first;
        run_map = segs[first].map;
        run_end = end;
        cut_at.reset();
        run_frames = 0;
        (void)e->take_read_failure();
        const auto& s = segs[first];
        stream::media_hints h;
        h.container = container_of(s.resolved_uri, s.map != no_index);
        auto cat = stream::concat_source::create(h);
        if (auto m = e->map_item(first); m != no_index) {
            auto src = e->map_source(m, first);
            if (!src) return kithara::fail(src.error());
            if (auto r = cat->append(*src); !r) return r;
        }
        // A VOD run holds two segments at a time: the rest join as the decoder reaches them
        // (grow_vod), so a long stream's played segments close their cache files.
        const std::size_t upfront = e->live() ? end : std::min(end, first + 2);
        for (std::size_t k = first; k < upfront; ++k) {
            auto src = e->segment_source(k);
            if (!src) return kithara::fail(src.error());
            if (auto r = cat->append(*src); !r) return r;
        }
        // A live run ends where the table ends now only when something else ends it; otherwise
        // it grows as reloads add segments.
        if (e->live() && !stop_at && end == segs.size())
            grow_live(cat);
        else if (upfront < end)
            grow_vod(cat, upfront, end);
        else
            cat->finish();
        if (!e->live()) e->reopen_from(first);  // this run's segments may be opened again
        if (e->live()) e->evict_behind(first);
        if (!first_run && s.discontinuity)
            e->emit(make_event(event_kind::discontinuity, s.resolved_uri, s.media_sequence,
                               e->info().variant, e->items()[first].start, {}));
        first_run = false;
        auto opts = e->options().decode;
        opts.sequential = true;
        // No background read-ahead: the bytes come from the cache, and a read-ahead thread would
        // move the prefetch window (it follows reads) up to 256 KiB ahead of what was decoded.
        opts.reader.prefetch_bytes = 0;
        opts.reader.stop = stop.get_token();  // interrupt() ends a wait for segment bytes
        opts.start_offset = std::chrono::nanoseconds(
            static_cast<std::int64_t>(std::llround(e->items()[first].start * 1e9)));
        if (keep_format) {  // another live track: the output format stays
            if (opts.sample_rate == 0) opts.sample_rate = rate;
            if (opts.channels == 0) opts.channels = channels;
        }
        auto d = decode::decoder::open(cat, opts);
        if (!d) {
            if (auto f = e->failure()) return kithara::fail(*f);
            auto err = d.error();
            err.add_context("segment " + e->items()[first].label);
            return kithara::fail(std::move(err));
        }
        dec = std::move(*d);
        next_seg = end;
        if (cut_at) next_seg = *cut_at;  // grow_vod could not add a segment during the open
        cut_at.reset();
        skip_seconds = skip;
        skip_frames = skip_n;
        run_frames = 0;
        return {};
    }

    // failed_segment_as_gap: a segment of the current run failed. Decode the run again up to it,
    // dropping what was already produced, then render it as a gap. False: no such segment.
    result<bool> cut_run_at_failure() {
        auto k = e->failed_segment(run_first, run_end);
        if (!k) return false;
        dec.reset();
        next_seg = *k;
        // A live run that let go of its first segments cannot be decoded again from its start:
        // it resumes at the failed segment (as when that one opened the run).
        if (run_first < e->segments().first()) return true;
        if (abr) {
            abr_failed_seg = *k;  // consumed from the plan with the run: a gap next
            if (*k == run_first) return true;
        }
        if (*k == run_first) return true;
        // Frames decoded so far plus those still to drop (a seek's, or a previous cut's).
        const auto done = run_frames + skip_frames;
        if (auto r = open_run(run_first, skip_seconds, done, *k); !r) {
            if (auto again = e->failed_segment(run_first, *k)) return cut_run_at_failure();
            return kithara::fail(r.error());
        }
        return true;
    }

    decode::pcm_chunk silence(std::uint64_t frames) {
        auto& pool =
            e->options().decode.pool ? *e->options().decode.pool : bufpool::default_sample_pool();
        decode::pcm_chunk c;
        c.samples = pool.get(static_cast<std::size_t>(frames) * channels);
        std::fill(c.samples.begin(), c.samples.end(), 0.0f);
        c.sample_rate = rate;
        c.channels = channels;
        c.source_rate = rate;
        c.source_channels = channels;
        c.start = silence_at;
        silence_at +=
            std::chrono::nanoseconds(static_cast<std::int64_t>(frames * 1'000'000'000ull / rate));
        return c;
    }

    result<std::optional<decode::pcm_chunk>> next() {
        const auto& segs = e->segments();
        for (;;) {
            if (stop.stop_requested()) return interrupted();
            if (pending) {
                auto c = std::move(*pending);
                pending.reset();
                return deliver(std::move(c), std::exchange(pending_announces, false));
            }
            if (silence_frames > 0) {
                const auto chunk = e->options().decode.chunk_frames;
                const auto n = std::min<std::uint64_t>(silence_frames, chunk ? chunk : 4096);
                silence_frames -= n;
                return deliver(silence(n));
            }
            if (dec) {
                auto c = dec->next();
                if (!c) {
                    if (stop.stop_requested()) return interrupted();
                    if (live_skip_lost()) continue;
                    if (auto f = e->failure()) return kithara::fail(*f);
                    auto cut = cut_run_at_failure();
                    if (!cut) return kithara::fail(cut.error());
                    if (*cut) continue;
                    return kithara::fail(c.error());
                }
                if (e->take_read_failure()) {
                    // Decoded after a read failed: possibly a packet cut short. Never returned.
                    if (live_skip_lost()) continue;
                    if (auto f = e->failure()) return kithara::fail(*f);
                    auto cut = cut_run_at_failure();
                    if (!cut) return kithara::fail(cut.error());
                    if (*cut) continue;
                    dec.reset();
                    return kithara::fail(
                        errc::segment_failed,
                        "a read of the run from segment " +
                            e->items()[std::max(run_first, e->items().first())].label + " failed");
                }
                if (!*c) {
                    dec.reset();
                    continue;
                }
                auto& ch = **c;
                rate = ch.sample_rate;
                channels = ch.channels;
                run_frames += ch.frames();
                if (skip_seconds > 0) {
                    // A seek inside the run: the first sample returned is sample
                    // llround(t * rate) of the stream, counted like the run's own frames from
                    // its first segment's start (rounding the difference t - start instead
                    // lands one sample off where the two fractions straddle a half).
                    const double from = e->items()[run_first].start;
                    const auto r = static_cast<double>(ch.sample_rate);
                    const auto n = std::llround((from + skip_seconds) * r) - std::llround(from * r);
                    skip_frames += n > 0 ? static_cast<std::uint64_t>(n) : 0;
                    skip_seconds = 0;
                }
                if (skip_frames > 0) {
                    const auto frames = ch.frames();
                    if (skip_frames >= frames) {
                        skip_frames -= frames;
                        continue;
                    }
                    const auto skip = static_cast<std::size_t>(skip_frames);
                    std::memmove(ch.samples.data(), ch.samples.data() + skip * ch.channels,
                                 (frames - skip) * ch.channels * sizeof(float));
                    ch.samples.resize((frames - skip) * ch.channels);
                    ch.start += std::chrono::nanoseconds(
                        static_cast<std::int64_t>(skip * 1'000'000'000ull / ch.sample_rate));
                    skip_frames = 0;
                }
                if (abr) {
                    // An emergency abort cut this run at a segment start: nothing after it.
                    if (auto at = abr->cut_for(run_variant)) {
                        const auto r = static_cast<double>(ch.sample_rate);
                        const auto from = std::chrono::duration<double>(ch.start).count();
                        const auto keep = std::llround(*at * r) - std::llround(from * r);
                        if (keep < static_cast<long long>(ch.frames())) {
                            const auto k = static_cast<std::size_t>(std::max(0LL, keep));
                            ch.samples.resize(k * ch.channels);
                            dec.reset();
                            abr->cut_done();
                            if (k == 0) continue;
                        }
                    }
                }
                if (abr && xfade_total > 0) return deliver(crossfade(std::move(ch)), false);
                if (abr) {
                    auto out = hold_back(std::move(ch));
                    if (!out) continue;
                    return deliver(std::move(*out));
                }
                return deliver(std::move(ch));
            }
            if (abr) {
                auto more = next_abr_run();
                if (!more) return kithara::fail(more.error());
                if (!*more) return std::optional<decode::pcm_chunk>{};
                continue;
            }
            if (pending_variant) {
                const auto v = *pending_variant;
                pending_variant.reset();
                begin_variant_switch(v);  // its playlist loads here, not in a decoder's read
            }
            if (switch_to) {
                if (auto r = live_switch(); !r) return kithara::fail(r.error());
                return next();  // on the new track's table
            }
            if (e->live()) {
                (void)e->refresh(false);
                if (next_seg >= segs.size() && !e->ended() && !e->failure()) {
                    if (e->extend_by_parts()) continue;  // LL-HLS: the segment being built
                    if (e->refresh(true)) continue;      // waited for the next reload
                    if (!e->ended())
                        return kithara::fail(errc::segment_failed,
                                             "live playlist " + e->media().url +
                                                 ": the reloads stopped before EXT-X-ENDLIST");
                }
                if (auto f = e->failure()) return kithara::fail(*f);
                if (next_seg < segs.size()) live_catch_up();
                if (next_seg < segs.size() && e->lost_segment(next_seg, next_seg + 1)) {
                    run_first = run_end = next_seg;
                    (void)live_skip_lost();
                    continue;
                }
            }
            if (next_seg >= segs.size()) {
                e->await_complete_requests();  // stats() at the end counts every segment
                return std::optional<decode::pcm_chunk>{};
            }
            const auto& s = segs[next_seg];
            const bool failed = !s.gap && e->failed_segment(next_seg, next_seg + 1);
            if (s.gap || failed) {
                const auto& it = e->items()[next_seg];
                std::string why;
                if (failed) {
                    const auto f = e->item_failure(next_seg);
                    why = "failed segment rendered as a gap: " + (f ? f->message() : "");
                }
                e->emit(make_event(event_kind::gap, s.resolved_uri, s.media_sequence,
                                   e->info().variant, it.start, why));
                if (e->options().gaps == gap_policy::silence) {
                    if (rate == 0) {
                        rate = e->options().decode.sample_rate ? e->options().decode.sample_rate
                                                               : 44100;
                        channels = e->options().decode.channels ? e->options().decode.channels : 2;
                    }
                    double d = it.duration - skip_seconds;
                    silence_at = std::chrono::nanoseconds(
                        static_cast<std::int64_t>(std::llround((it.start + skip_seconds) * 1e9)));
                    skip_seconds = 0;
                    silence_frames = static_cast<std::uint64_t>(
                        std::llround(std::max(0.0, d) * static_cast<double>(rate)));
                }
                ++next_seg;
                continue;
            }
            const double skip = skip_seconds;
            skip_seconds = 0;
            if (auto r = open_run(next_seg, skip); !r) {
                if (live_skip_lost()) continue;
                // A segment the decoder's probe ran into failed (failed_segment_as_gap).
                skip_seconds = skip;
                auto cut = cut_run_at_failure();
                if (cut && *cut) continue;
                e->emit(make_event(event_kind::error, s.resolved_uri, s.media_sequence,
                                   e->info().variant, e->items()[next_seg].start,
                                   r.error().message()));
                return kithara::fail(r.error());
            }
        }
    }

    result<> seek(double t) {
        if (abr) {
            t = std::clamp(t, 0.0, abr->duration());
            dec.reset();
            silence_frames = 0;
            skip_frames = 0;
            skip_seconds = 0;
            announce = false;
            abr_failed_seg.reset();
            held.clear();
            xfade_total = xfade_done = 0;
            pending.reset();
            position = t;
            after_seek = true;
            abr->seek(t);
            metadata_at(t);
            return {};
        }
        if (e->live()) (void)e->refresh(false);
        const auto& items = e->items();
        const auto n = e->segments().size();
        const auto info = e->info();
        t = e->live() ? std::clamp(t, info.window_start, info.window_end)
                      : std::clamp(t, 0.0, info.duration);
        std::size_t k = items.first();
        while (k + 1 < n && items[k + 1].start <= t) ++k;
        dec.reset();
        silence_frames = 0;
        skip_frames = 0;
        next_seg = k;
        skip_seconds = n ? t - items[k].start : 0;
        position = t;
        metadata_at(t);
        if (n) e->set_position(k);
        return {};
    }
};

}  // namespace detail

hls_stream::hls_stream(std::shared_ptr<detail::engine> e) : engine_(std::move(e)) {}

hls_stream::~hls_stream() {
    auto abr = player_->abr;
    auto current = player_->current();
    auto pending = std::move(player_->switch_to);
    player_.reset();  // the decoder stops reading before the downloads are cancelled
    if (abr) {
        abr->shutdown();
        return;
    }
    if (pending) pending->shutdown();
    current->shutdown();
    if (engine_ != current) engine_->shutdown();  // a live track switched from (idempotent)
}

result<std::optional<decode::pcm_chunk>> hls_stream::next() {
    return player_->next();
}

void hls_stream::interrupt() {
    player_->stop.request_stop();
    // ABR streams wait on the stop token only; a single or live track also in its reloads.
    if (!player_->abr) player_->interrupt_tracks();
}

result<> hls_stream::seek(double seconds) {
    return player_->seek(seconds);
}

stream_info hls_stream::info() const {
    if (player_->abr) return player_->abr->info();
    return player_->current()->info();
}

result<> hls_stream::seek_to_live_edge() {
    if (player_->abr || !player_->e->live())
        return kithara::fail(errc::not_supported, "not a live stream: no live edge to go to");
    const auto& e = player_->e;
    (void)e->refresh(false);
    return player_->seek(e->items()[e->live_edge()].start);
}

std::optional<std::chrono::system_clock::time_point> hls_stream::wall_clock(double seconds) const {
    if (player_->abr) return player_->abr->engine_of(player_->run_variant)->wall_clock_at(seconds);
    return player_->current()->wall_clock_at(seconds);
}

stream_stats hls_stream::stats() const {
    if (player_->abr) return player_->abr->stats(player_->position);
    auto s = player_->current()->stats(player_->position);
    detail::add_counters(s, player_->stats_base);  // live tracks played before a switch
    s.switches += player_->stats_base.switches;
    return s;
}

void hls_stream::lock_variant(std::optional<std::size_t> variant) {
    if (player_->abr)
        player_->abr->lock_variant(variant);
    else
        player_->live_lock.store(variant ? *variant : detail::player::unlocked);
}

void hls_stream::set_max_bandwidth(std::uint64_t bits_per_second) {
    if (player_->abr)
        player_->abr->set_max_bandwidth(bits_per_second);
    else
        player_->live_cap.store(bits_per_second);
}

result<> hls_stream::select_audio(const audio_preferences& preferences) {
    if (!player_->abr) return player_->select_live_audio(preferences);
    return player_->abr->select_audio(preferences);
}

result<std::unique_ptr<hls_stream>> open(std::string url, assets::asset_store& store,
                                         net::client& client, stream_options options) {
    const std::string url_copy = url;
    auto o = detail::session::open(std::move(url), store, client, std::move(options));
    if (!o) return kithara::fail(o.error());
    std::shared_ptr<detail::engine> first = o->single;
    if (o->abr) first = o->abr->engine_of(o->abr->first_track());
    std::unique_ptr<hls_stream> s(new hls_stream(o->single));
    s->player_ = std::make_unique<detail::player>();
    s->player_->e = first;
    s->player_->abr = o->abr;
    if (o->abr) s->player_->played_variant = o->abr->first_track();
    if (o->live_master) {
        detail::player::live_tracks t;
        t.master = std::move(*o->live_master);
        t.url = url_copy;
        t.store = &store;
        t.client = &client;
        t.options = first->options();
        t.adapt = o->adapt;
        s->player_->tracks = std::move(t);
    }
    if (!o->abr && first->live() && !first->items().empty()) {
        // The live edge (or EXT-X-START, or an EVENT's beginning): the first run starts there.
        auto& p = *s->player_;
        p.next_seg = first->start_segment();
        p.skip_seconds = first->start_skip();  // LL-HLS: the part PART-HOLD-BACK picked
        p.position = first->items()[p.next_seg].start + p.skip_seconds;
        p.metadata_at(p.position);
        first->set_position(p.next_seg);
    }
    return s;
}

}  // namespace kithara::hls
