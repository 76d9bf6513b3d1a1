// Internal: one file's download, on the net client's executor. The controller owns the asset
// lease, the metadata and the data resource of the current generation; fetchers (one per GET,
// net sinks) write into that resource. It starts the first request, fetches gaps on demand
// (splitting small ones across free request slots) and in order, resumes requests that made
// progress, invalidates a changed upstream file into a new generation, and hands flushes,
// metadata writes and old-generation deletions to the background pool.
// Threads: executor-only state has no lock (see the members); stats are atomics; meta_mutex_ and
// tasks_mutex_ are leaf locks never held across I/O or a wait.
#pragma once

#include <kithara/file/file_source.hpp>

#include "detail/meta.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kithara::file::detail {

inline constexpr std::uint64_t no_end = std::numeric_limits<std::uint64_t>::max();

struct data_state {
    assets::streaming_handle h;
    storage::streaming_resource& res() const { return h.resource(); }
};

class controller;

// One GET: a net::sink writing into the resource.
struct fetcher final : net::sink {
    std::weak_ptr<controller> owner;
    std::uint64_t start = 0;
    std::uint64_t pos = 0;       // next byte expected
    std::uint64_t end = no_end;  // requested end (exclusive)
    bool first = false;          // the open() request
    bool demand = false;
    bool caught_up = false;  // stopped on purpose: ran into cached bytes
    bool cancelled_by_us = false;
    net::request_handle handle;

    result<> on_response(const net::response_head& head) override;
    result<> on_data(std::uint64_t offset, std::span<const std::byte> bytes) override;
    result<> on_restart(const net::response_head& head) override;
    void on_complete(result<net::transfer_stats> outcome) override;
};

class controller : public std::enable_shared_from_this<controller> {
public:
    controller(std::string url, options o, net::client& client, assets::asset_handle asset,
               assets::atomic_handle meta_res, std::optional<meta> m)
        : url_(std::move(url)),
          opts_(std::move(o)),
          client_(client),
          asset_(std::move(asset)),
          meta_res_(std::move(meta_res)),
          meta_(m.value_or(meta{})),
          had_meta_(m.has_value()),
          pool_(opts_.background != nullptr ? *opts_.background : shared_background()) {
        if (opts_.max_requests == 0) opts_.max_requests = 1;
    }

    ~controller() { finish_background(); }

    // The pool for flushes and metadata writes when the application gives none: one thread for
    // every file of the process, never destroyed (so never joined from one of its own tasks).
    static worker::blocking_pool& shared_background();

    // Waits for this file's background tasks, then stores metadata a full queue left unwritten.
    // Not on the executor while tasks may run (they never wait on it, so this cannot deadlock).
    void finish_background();

    static std::string data_name(std::uint64_t gen);

    // The data resource of meta_.gen. Storage never flushes it from write_at (that would
    // fdatasync on the executor): the file layer flushes every flush_every_bytes itself.
    result<> open_data();

    [[nodiscard]] storage::streaming_resource& res() const { return data_->res(); }
    [[nodiscard]] const options& opts() const { return opts_; }
    [[nodiscard]] const meta& stored_meta() const { return meta_; }

    [[nodiscard]] bool fresh() const;

    void emit(event_kind k, std::uint64_t offset = 0, std::optional<kithara::error> e = {});

    // open(): the first request (on the executor); `done` gets its outcome once the head is in.
    void start_first(std::promise<result<>>* done);

    void start_fetch(std::uint64_t at, std::uint64_t end, bool demand, bool first);

    result<> on_response(fetcher& f, const net::response_head& head);

    result<> on_data(fetcher& f, std::uint64_t offset, std::span<const std::byte> bytes);

    result<> on_restart(fetcher& f, const net::response_head& head);

    void on_complete(fetcher& f, result<net::transfer_stats> outcome);

    // A read at `offset` found no byte there (decoder thread posts this to the executor).
    // advisory (will_need): only a free request slot is used, nothing is cancelled, and the read
    // position that orders later gaps stays where the decoder reads.
    void demand(std::uint64_t offset, bool advisory = false);

    void schedule_next();

    void check_complete();

    void fail_all(kithara::error e);

    void close();

    // Deletes generation gen - 1 in the background (also one a crash or a full queue left behind:
    // open() calls this too). A missing resource is not an error.
    void remove_old_generation();

    // Runs fn on the background pool; false when its queue is full. `this` outlives its tasks:
    // finish_background() waits for them.
    // The count of this file's tasks goes down when a task is destroyed: after it ran, or unrun
    // (a full queue, a pool shut down with shutdown_mode::cancel, a task that threw).
    class task_ticket {
    public:
        explicit task_ticket(controller* c) : c_(c) {
            std::lock_guard lock(c_->tasks_mutex_);
            ++c_->tasks_;
        }
        task_ticket(task_ticket&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
        task_ticket& operator=(task_ticket&&) = delete;
        ~task_ticket() {
            if (c_ == nullptr) return;
            std::lock_guard lock(c_->tasks_mutex_);
            if (--c_->tasks_ == 0) c_->tasks_done_.notify_all();
        }

    private:
        controller* c_;
    };

    template <class F>
    bool run_background(F fn) {
        return pool_
            .try_submit([ticket = task_ticket(this), fn = std::move(fn)]() mutable { fn(); })
            .has_value();
    }

    // The atomic replace fsyncs: in the background, never on the executor. Writes coalesce: at
    // most one is queued and it stores the latest metadata. With the queue full the metadata
    // stays pending and is written by the next save_meta() or when the source closes.
    void save_meta();

    void write_pending_meta();

    // With the queue full the flush is skipped: the next one (or close) covers these bytes.
    void schedule_flush();

    void signal_first(result<> r);

    std::string url_;
    options opts_;
    net::client& client_;
    assets::asset_handle asset_;
    assets::atomic_handle meta_res_;
    std::shared_ptr<data_state> data_;  // fixed once open() returned
    meta meta_;                         // executor only after open
    bool had_meta_ = false;
    std::atomic<bool> offline{false};  // source side: never demand
    std::uint64_t cached_at_open = 0;
    std::string hint_container;          // set before open() returns
    std::atomic<bool> exec_used{false};  // the executor ran something for this controller
    std::atomic<std::thread::id> exec_thread{};

    // Executor-only state.
    std::vector<std::shared_ptr<fetcher>> active_;
    std::promise<result<>>* first_done_ = nullptr;
    std::uint64_t last_demand_ = 0;
    std::uint64_t since_flush_ = 0;
    std::uint64_t since_progress_ = 0;
    bool closed_ = false;
    bool failed_ = false;
    bool complete_reported_ = false;

    // Stats (any thread).
    std::atomic<std::uint64_t> fetched_{0};
    std::atomic<std::uint64_t> requests_{0};
    std::atomic<std::uint64_t> demand_requests_{0};
    std::atomic<bool> flush_pending_{false};

    // Guards meta_pending_, meta_dirty_ and meta_queued_ (never held across I/O).
    std::mutex meta_mutex_;
    std::string meta_pending_;  // the latest serialized metadata not yet written
    std::uint64_t meta_pending_gen_ = 0;
    bool meta_dirty_ = false;   // meta_pending_ holds something not yet written
    bool meta_queued_ = false;  // a write task is queued and will store meta_pending_

    worker::blocking_pool& pool_;  // flushes and metadata writes
    std::mutex tasks_mutex_;       // guards tasks_
    std::condition_variable tasks_done_;
    int tasks_ = 0;  // this file's tasks queued or running on pool_
};

}  // namespace kithara::file::detail
