// The common meaning (audio_event_kind) of each layer's events.
#include "detail/backend.hpp"

namespace kithara::detail {

audio_event_kind kind_of(const file::event& e) noexcept {
    switch (e.kind) {
        case file::event_kind::request_started:
            return audio_event_kind::request_started;
        case file::event_kind::progress:
            return audio_event_kind::progress;
        case file::event_kind::opened_cached:
        case file::event_kind::complete:
            return audio_event_kind::cached;
        case file::event_kind::error:
            return audio_event_kind::error;
        case file::event_kind::stale_served:
        case file::event_kind::invalidated:
            return audio_event_kind::other;
    }
    return audio_event_kind::other;
}

audio_event_kind kind_of(const hls::event& e) noexcept {
    using k = hls::event_kind;
    switch (e.kind) {
        case k::segment_requested:
            return audio_event_kind::request_started;
        case k::progress:
            return audio_event_kind::progress;
        case k::segment_complete:
            return audio_event_kind::cached;
        case k::stall:
            return audio_event_kind::stall;
        case k::resume:
            return audio_event_kind::resume;
        case k::variant_switched:
        case k::rendition_switched:
            return audio_event_kind::switched;
        case k::live_reloaded:
        case k::live_stuck:
        case k::live_recovered:
        case k::live_anomaly:
        case k::live_jump:
        case k::live_ended:
        case k::live_reload_failed:
            return audio_event_kind::live;
        case k::error:
            return audio_event_kind::error;
        case k::playlist_loaded:
        case k::variant_chosen:
        case k::discontinuity:
        case k::gap:
        case k::abr_decision:
            return audio_event_kind::other;
    }
    return audio_event_kind::other;
}

}  // namespace kithara::detail
