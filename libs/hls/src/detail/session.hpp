// session: adaptive bitrate over a master's variants. It owns one engine per variant (each with
// its media playlist and segment table, all in the master's asset), the plan — the sequence of
// slots (variant, segment) the player decodes — and the prefetch window across variants. Each
// slot is decided when the window reaches it (at the download frontier) by the built-in rules or
// the application's policy, from the link estimate (net::link_meter + net::bandwidth_estimator fed
// by the media segment requests' throughput samples only), the buffer and the cap. A switch
// starts at the old variant's segment boundary T: its slot is the new variant's segment holding T
// (switch_in), which the player decodes after priming the decoder with the segment before it. A
// download that cannot finish before the buffer runs out is abandoned for a lower variant while
// its slot is not yet consumed by the player (emergency abort; the bytes stay cached).
//
// Alternate audio: the session plays tracks, a track being a variant or one rendition of its
// AUDIO group (tracks_); slot.variant, the per-track measurements and the engines are indexed by
// track. The rules, the policy, lock_variant and events speak of the master's variants: active_
// maps each variant to its track under the current audio choice. select_audio() changes the
// choice at run time: the plan after the slots the player took is decided again, so the switch to
// the new rendition happens at the end of the segment being played, primed and crossfaded like a
// variant switch.
//
// Threads: take_slot*/seek/set_position from the decoding thread; on_sample/on_item_done on the
// executor; pump/on_demand from both; lock_variant/set_max_bandwidth/stats/info from any thread.
// Locks: mutex_ guards the plan, the estimator, the downloads' progress and the counters; lock
// order session -> engine (engines never call the session holding their own lock); never held
// across I/O (request starts, cancels), waits or event callbacks.
// Buffers: none beyond the plan (bounded by the segments of the window) and the estimator.
#pragma once

#include "engine.hpp"

#include <kithara/net/bandwidth.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace kithara::hls::detail {

class session : public std::enable_shared_from_this<session> {
public:
    using clock = std::chrono::steady_clock;

    struct slot {
        std::size_t variant = 0;
        std::size_t seg = 0;
        double from = 0;         // output starts here: the segment's start, or a switch point
        bool switch_in = false;  // the first slot of a variant after another's (or after a seek)
        bool consumed = false;   // the player took it: it can no longer change
        clock::time_point decided_at{};
    };

    struct opened {
        std::shared_ptr<engine> single;  // ABR does not apply: one engine, as before
        std::shared_ptr<session> abr;
        // A live master (single is its chosen track): what the player switches tracks with
        // (select_audio, live adaptation when `adapt`: two distinct audio choices or more).
        std::optional<master_playlist> live_master;
        bool adapt = false;
    };
    // Opens url; an ABR session when it is a master with >= 2 variants and neither a variant
    // nor a BANDWIDTH was asked for and abr.mode is automatic.
    static result<opened> open(std::string url, assets::asset_store& store, net::client& client,
                               stream_options options);

    session(std::string url, assets::asset_store& store, stream_options options);
    ~session();

    [[nodiscard]] const stream_options& options() const noexcept { return opts_; }
    // Track t's engine (null until its playlist loaded) and master variant. Tracks never change
    // after open (no lock needed for these).
    [[nodiscard]] std::shared_ptr<engine> engine_of(std::size_t t) const;
    [[nodiscard]] std::size_t variant_of(std::size_t t) const { return tracks_[t].variant; }
    // The track the player starts with (decided at open).
    [[nodiscard]] std::size_t first_track() const;
    // "English (en)" for events; "" without a rendition.
    [[nodiscard]] std::string rendition_label(std::size_t t) const;
    // Plays the rendition `p` picks from now on (the end of the segment being played). Loads the
    // playlists it needs on the calling thread (blocking I/O; not on the executor).
    result<> select_audio(const audio_preferences& p);
    [[nodiscard]] double duration() const;

    // Decoding thread: the next slot of the plan (decided now if the window did not reach it),
    // marked consumed; nullopt at the end of the stream.
    std::optional<slot> take_slot();
    // Consumes the next slot only when it continues a run: (v, seg) and not a switch.
    bool take_slot_if(std::size_t v, std::size_t seg);
    // The player's position (the end of the last chunk returned), and the variant it played.
    void set_position(double seconds, std::size_t variant);
    // A seek: the plan restarts at t in the current variant.
    void seek(double t);

    // Emergency abort of a slot the player took already: its run must stop at `at` (seconds);
    // cut_done() once it did (the abandoned download is cancelled then: until the run stopped,
    // the decoder may still need its first bytes).
    [[nodiscard]] std::optional<double> cut_for(std::size_t variant) const;
    void cut_done();

    // An executor call (pump, a sample, a completion) enters unless the session is shut down
    // (false: return at once) and leaves at its end; shutdown() waits for the calls in progress.
    bool enter();
    void leave();

    void pump();
    void on_demand(std::size_t variant, std::size_t seg);
    void on_sample(std::size_t variant, std::size_t seg, const net::throughput_sample& s);
    void on_item_done(std::size_t variant, std::size_t item, bool ok);

    void lock_variant(std::optional<std::size_t> v);
    void set_max_bandwidth(std::uint64_t bps);
    [[nodiscard]] stream_stats stats(double position) const;
    [[nodiscard]] stream_info info() const;
    void note_switch();
    void
    note_playing();  // the first chunk was returned: later waits are stalls  // the player returned the first chunk of a switched-to variant
    void emit(event e) const;
    // Waits for every engine's complete requests to report (see engine).
    void await_complete_requests();
    void shutdown();

private:
    struct track {
        std::size_t variant = 0;
        std::optional<std::size_t> rendition;  // index into master_.renditions
        std::string uri;                       // its media playlist
    };
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    // Per variant, its track under audio choice `p` (none: the same audio as a cheaper variant's
    // when `dedupe`). `lead`: the variant whose group chooses first (the others follow its NAME).
    [[nodiscard]] std::vector<std::size_t> choose_tracks(const audio_preferences& p,
                                                         std::size_t lead, bool dedupe) const;
    [[nodiscard]] bool usable_locked(std::size_t v) const;
    struct cut {
        std::size_t variant = 0;
        std::size_t seg = 0;
        double at = 0;
    };
    struct download {
        clock::time_point started{};
        std::uint64_t bytes = 0;
        double rate = 0;          // bytes/s of the latest interval sample
        std::size_t samples = 0;  // interval samples so far
    };
    void add_variants(const master_playlist& m);
    [[nodiscard]] double slot_end(const slot& s) const;
    [[nodiscard]] bool slot_complete_locked(const slot& s) const;
    // Seconds of complete slots ahead of `position` (the contiguous run from its slot).
    [[nodiscard]] double buffer_locked(double position) const;
    [[nodiscard]] abr_status status_locked(std::size_t current) const;
    [[nodiscard]] std::uint64_t bandwidth_locked(std::size_t v) const;
    [[nodiscard]] std::optional<double> estimate_bps_locked() const;
    // Appends the next slot of the plan; false at the end of the stream.
    bool extend_locked(std::vector<event>& events);
    void trim_locked();
    // Emergency abort: the requests to cancel (engine, item).
    void check_abort_locked(std::vector<std::pair<std::shared_ptr<engine>, std::size_t>>& cancel,
                            std::vector<event>& events);

    std::string url_;
    assets::asset_store& store_;
    net::client* client_ = nullptr;
    stream_options opts_;
    master_playlist master_;
    std::vector<track> tracks_;   // fixed at open
    bool adapt_ = false;          // automatic ABR over the variants (else one variant plays)
    bool audio_pending_ = false;  // select_audio() is loading: the plan is not extended

    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<engine>> engines_;  // per track; null until its playlist loaded
    std::vector<std::size_t> active_;               // per variant: its track (or none)
    std::deque<slot> plan_;
    std::size_t next_take_ = 0;  // index in plan_ of the player's next slot
    double position_ = 0;
    std::size_t played_variant_ = 0;
    std::optional<std::size_t> locked_;
    std::uint64_t cap_ = 0;
    net::link_meter meter_;
    net::bandwidth_estimator estimator_;
    std::map<std::pair<std::size_t, std::size_t>, download> downloads_;  // (variant, segment)
    std::vector<std::uint64_t> measured_bytes_;  // per variant: completed segments' bytes ...
    std::vector<double> measured_seconds_;       // ... and their durations
    std::vector<std::size_t> measured_count_;
    double last_up_at_ = -1e300;  // media time of the last switch up decided
    double last_fill_ = 1e300;    // the last segment's media seconds per wall second / speed
    std::uint64_t switches_ = 0;
    std::uint64_t aborts_ = 0;
    std::pair<std::size_t, std::size_t> last_demand_{static_cast<std::size_t>(-1), 0};
    std::optional<cut> cut_;
    bool playing_ = false;  // the player returned a chunk
    // Calls in progress from the executor (pump, samples, completions): shutdown() waits for
    // them, so no event reaches the application after it returned.
    std::size_t busy_ = 0;
    std::condition_variable idle_;

    bool shut_down_ = false;
};

}  // namespace kithara::hls::detail
