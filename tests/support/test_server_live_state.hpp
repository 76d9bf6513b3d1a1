// Internal to the live HLS generator (test_server_live.hpp): the stream's state, shared by the
// handle (test_server_live.cpp: create, accessors, faults) and the request side
// (test_server_live_state.cpp: timeline, playlist writer, route handler).
//
//   auto s = std::make_shared<live_stream::state>();  ...  s->handle(request, reply);
//
// Threads: handle() and evaluate() run on the server's io thread; the rest from any thread with
// `mutex` held (the methods say so). Locks: `mutex` guards the timeline, faults, held requests'
// list and counters; never held across I/O or a reply. Buffers: shared immutable segment and
// part bodies; a playlist body per answer.
#pragma once

#include "test_server_live.hpp"

#include <asio/steady_timer.hpp>

#include <condition_variable>
#include <mutex>

namespace kithara::test {

namespace detail {

// A stretch of the timeline: from t on, media time is media + slope * (wall time since t).
struct live_piece {
    std::chrono::steady_clock::time_point t;
    std::int64_t media;  // microseconds of media time since create()
    double slope;        // time_scale, or 0 while frozen
};

}  // namespace detail

struct live_stream::state : std::enable_shared_from_this<live_stream::state> {
    using us = std::chrono::microseconds;
    using piece = detail::live_piece;

    // Fixed at create().
    live_stream_options o;
    asio::any_io_executor executor;
    std::string dir, stem, playlist_path, prefix;  // prefix = dir + stem + "_"
    std::vector<std::int64_t> dur;                 // per source segment, microseconds
    std::vector<std::int64_t> ends;                // end within a cycle
    std::int64_t cycle = 0;
    std::optional<std::uint64_t> total;  // segments in all
    std::uint64_t initial = 0;
    std::int64_t base = 0;  // media position of the first published segment's end
    int parts = 0;
    std::vector<std::vector<std::shared_ptr<const std::string>>> part_bodies;  // [source][part]
    std::int64_t part_target = 0;
    int target = 1;
    clock::duration block_timeout{}, grace{};
    clock::time_point t0;
    std::time_t lm_base = 0;
    std::chrono::system_clock::time_point pdt_epoch;

    struct held {
        explicit held(const asio::any_io_executor& ex) : timer(ex) {}
        asio::steady_timer timer;
        route_request req;
        route_reply reply;
        bool playlist = true;
        std::uint64_t k = 0;
        std::optional<int> part;
        clock::time_point deadline;
    };
    struct view {
        std::uint64_t complete = 0;  // segments published
        int parts = 0;               // parts of segment `complete` published
        bool ended = false;
    };

    mutable std::mutex mutex;  // guards everything below
    std::condition_variable changed;
    std::vector<piece> pieces;
    std::vector<std::weak_ptr<held>> holding;
    int fail_count = 0, fail_status = 503;
    std::uint64_t rewind = 0;
    std::uint64_t playlist_requests = 0, not_modified = 0, blocked = 0, bad = 0;
    bool detached = false;

    // Timeline (mutex held).
    std::int64_t seg_start(std::uint64_t k) const;
    std::int64_t seg_end(std::uint64_t k) const;
    std::int64_t part_end(std::uint64_t k, int j) const;
    std::uint64_t complete_at(std::int64_t pos) const;
    std::int64_t media_at(clock::time_point t) const;
    // The earliest time media time reaches x (microseconds since create()).
    std::optional<clock::time_point> time_of(std::int64_t x) const;
    view view_at(clock::time_point t) const;
    std::uint64_t first_of(std::uint64_t complete) const;
    std::optional<clock::time_point> seg_time(std::uint64_t k) const;
    std::optional<clock::time_point> part_time(std::uint64_t k, int j) const;
    // Playlist writer (mutex held).
    std::string uri(std::uint64_t k, std::optional<int> part = std::nullopt) const;
    void write_parts(std::string& out, std::uint64_t k, int count) const;
    std::string build(const view& v) const;
    route_response playlist_response(const route_request& req, clock::time_point now);
    route_response status(int code);
    // Segments and parts (mutex held): nullopt = not published yet.
    std::optional<route_response> media_response(std::uint64_t k, std::optional<int> part,
                                                 clock::time_point now);
    bool satisfied(const held& h, const view& v) const;
    std::optional<clock::time_point> due(const held& h) const;
    // io thread: answers a held request or waits again.
    void evaluate(const std::shared_ptr<held>& h);
    // Mutex held.
    void hold(std::shared_ptr<held> h);
    // After a fault changed the timeline: held requests look again; waiters wake.
    // Mutex held.
    void poke();
    void handle(const route_request& req, route_reply reply);
};

}  // namespace kithara::test
