// engine: the download side of an hls_stream. It holds the chosen media playlist, the table of
// fetchable items (segments, then init sections), the prefetch window, keys, counters, and builds
// the sources the decoder reads (segment parts over the asset's streaming resources, wrapped for
// AES-128 and packed audio).
//
// Threads: demand()/set_position()/sources from the decoding thread, fetch completions on the
// client's executor. Locks: mutex_ guards items_' states, the window, keys_, counters and the
// first failure; it is never held across I/O (resource opens, request starts), waits or events.
// Buffers: segment bytes live in the asset's streaming resources; keys in keys_ (16 bytes each).
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <kithara/hls/playlist.hpp>
#include <kithara/net/client.hpp>
#include <kithara/stream/source.hpp>

#include <array>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls::detail {

struct item {
    enum class state { idle, fetching, done, failed };
    std::string url;                  // resolved URI (the resource's name in the asset)
    std::optional<byte_range> range;  // EXT-X-BYTERANGE / the map's BYTERANGE
    double start = 0;                 // presentation time (segments), seconds
    double duration = 0;
    std::uint64_t media_sequence = 0;
    std::string label;  // "<uri> (media sequence N)" for errors and events
    state st = state::idle;
    bool cache_counted = false;  // its cached bytes were counted in stats (once per stream)
    std::shared_ptr<assets::streaming_handle> res;
    net::request_handle request;
};

// FFmpeg demuxer name for a segment URI ("mov" with an EXT-X-MAP), "" when unknown.
std::string container_of(const std::string& uri, bool has_map);
// Packed audio (an elementary stream with a leading ID3 tag).
bool is_packed(const std::string& container);

class engine : public std::enable_shared_from_this<engine> {
public:
    static result<std::shared_ptr<engine>> create(std::string url, assets::asset_store& store,
                                                  net::client& client, stream_options options);
    engine(net::client& client, stream_options options);
    ~engine();

    [[nodiscard]] const media_playlist& media() const noexcept { return media_; }
    [[nodiscard]] const stream_options& options() const noexcept { return opts_; }
    [[nodiscard]] const std::vector<item>& items() const noexcept { return items_; }
    [[nodiscard]] stream_info info() const { return info_; }
    // Counters, and buffered_seconds ahead of `position` (the player's position, seconds).
    [[nodiscard]] stream_stats stats(double position) const;
    // The init section item of segment `seg`, or no_index.
    [[nodiscard]] std::uint32_t map_item(std::size_t seg) const noexcept;

    // The clear media bytes of segment `seg` (or of init item `i`, read before segment `seg`):
    // parts over the cache, wrapped for AES-128 and packed audio. Errors: not_supported for
    // SAMPLE-AES / other KEYFORMATs.
    result<std::shared_ptr<stream::source>> segment_source(std::size_t seg);
    result<std::shared_ptr<stream::source>> map_source(std::uint32_t item_index, std::size_t seg);

    // The decoder reads segment `seg`: the window moves there (never backwards) and fills.
    void demand(std::size_t seg);
    // A seek: the window restarts at `seg`.
    void set_position(std::size_t seg);
    // The first failure of a needed item (segment_failed / offline_miss), if any.
    [[nodiscard]] std::optional<error> failure() const;
    void emit(event e) const;
    // Cancels running requests and waits until their sinks completed.
    void shutdown();

    // Called by the fetch sinks on the executor.
    void on_bytes(std::uint64_t n);
    void on_fetch_done(std::size_t i, result<net::transfer_stats> outcome);

    result<std::shared_ptr<assets::streaming_handle>> resource_for(std::size_t i);

private:
    result<std::string> load_playlist_text(const std::string& url, std::string& final_url);
    result<std::array<std::uint8_t, 16>> key_for(const key& k, const std::string& what);
    void pump();
    void start_item(std::size_t i);
    void fail_item(std::size_t i, const error& e);

    net::client& client_;
    stream_options opts_;
    assets::asset_handle asset_;
    media_playlist media_;
    stream_info info_;
    std::vector<item> items_;  // segments, then one per EXT-X-MAP

    mutable std::mutex mutex_;
    std::condition_variable idle_;  // in-flight requests reached 0
    std::size_t read_seg_ = 0;
    bool started_ = false;
    bool shut_down_ = false;
    std::size_t in_flight_ = 0;
    std::map<std::string, std::array<std::uint8_t, 16>> keys_;
    std::optional<error> failure_;
    stream_stats stats_;
};

}  // namespace kithara::hls::detail
