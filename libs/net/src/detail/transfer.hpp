// Internal: one request on the executor: its attempts (one libcurl easy handle each), the
// response head and body bookkeeping, resume with Range/If-Range after a failure, retries with
// backoff, the first-byte/stall deadline, and the sink's calls. Executor only; no locks. The
// transfer owns its easy handle and header list; body bytes stay in libcurl's buffer.
#pragma once

#include <kithara/net/client.hpp>
#include <kithara/net/url.hpp>

#include "detail/client_impl.hpp"
#include "detail/failure.hpp"

#include <curl/curl.h>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::net::detail {

// One request: its attempts, resume state, timers and the sink. Lives on the executor.
class transfer : public std::enable_shared_from_this<transfer> {
public:
    transfer(std::shared_ptr<client_impl> owner, request req, std::shared_ptr<sink> s)
        : owner_(std::move(owner)),
          req_(std::move(req)),
          sink_(std::move(s)),
          url_(redact_url(req_.url)),
          deadline_(owner_->executor()),
          backoff_(owner_->executor()) {
        start_ = req_.range ? req_.range->offset : 0;
        if (req_.range && req_.range->length) end_ = start_ + *req_.range->length;
        next_ = start_;
    }
    ~transfer() { release_easy(); }

    void begin();
    void cancel(errc why);
    void on_done(CURLcode rc);  // CURLMSG_DONE for our easy handle
    CURL* easy() const noexcept { return easy_; }
    // Completed (or cancelled before it began: a cancel posted from another thread may run
    // before the start posted from the io thread, as asio orders posts per thread only).
    bool finished() const noexcept { return done_; }
    const asio::any_io_executor& executor() const noexcept { return owner_->executor(); }
    void set_stop_callback() {
        if (!req_.stop.stop_possible()) return;
        std::weak_ptr<transfer> weak = weak_from_this();
        asio::any_io_executor ex = owner_->executor();
        stop_cb_.emplace(req_.stop, [weak, ex] {
            asio::post(ex, [weak] {
                if (auto t = weak.lock()) t->cancel(errc::cancelled);
            });
        });
    }

private:
    static size_t on_header(char* data, size_t size, size_t n, void* userp);
    static size_t on_write(char* data, size_t size, size_t n, void* userp);

    void start_attempt();
    bool header_line(std::string_view line);
    bool finalize_head();
    bool body(std::span<const std::byte> bytes);
    void abort_attempt(failure f);
    void finish_attempt(std::optional<failure> f);
    void arm_deadline();
    void deadline_fired();
    void complete(result<transfer_stats> r);
    void body_arrived(std::size_t n);  // throughput bookkeeping for n body bytes off the wire
    void emit_sample(bool final, bool complete);
    void release_easy();
    std::string what() const {
        return std::string(req_.verb == method::head ? "HEAD " : "GET ") + url_;
    }
    failure http_failure(int status, std::optional<std::chrono::milliseconds> retry_after) const {
        bool retry = status == 408 || status == 429 || status >= 500;
        return failure{
            kithara::error(errc::http_status, what() + ": HTTP " + std::to_string(status)), retry,
            retry_after};
    }

    std::shared_ptr<client_impl> owner_;
    request req_;
    std::shared_ptr<sink> sink_;
    std::string url_;              // redacted, for contexts
    asio::steady_timer deadline_;  // first byte, then stall
    asio::steady_timer backoff_;
    std::optional<std::stop_callback<std::function<void()>>> stop_cb_;

    // Request state.
    std::uint64_t start_ = 0;           // first resource offset wanted
    std::optional<std::uint64_t> end_;  // one past the last offset wanted
    std::uint64_t next_ = 0;            // next resource offset the sink expects
    std::string etag_, last_modified_;  // validators of the entity being delivered
    std::optional<std::uint64_t> entity_size_;
    bool head_sent_ = false;
    bool done_ = false;
    int attempts_ = 0;
    transfer_stats stats_;

    // Attempt state.
    CURL* easy_ = nullptr;
    curl_slist* slist_ = nullptr;
    char errbuf_[CURL_ERROR_SIZE] = {};
    int status_ = 0;
    std::vector<header> headers_;
    bool head_done_ = false;
    bool got_first_byte_ = false;
    bool range_complete_ = false;
    std::uint64_t in_pos_ = 0;  // resource offset of the next byte arriving on the wire
    std::optional<failure> abort_;
    std::chrono::steady_clock::time_point attempt_start_{};
    std::chrono::steady_clock::time_point last_bytes_{};
    std::uint64_t attempt_delivered_ = 0;

    // Throughput samples of the attempt (throughput_sample): the clock starts at the final
    // response's status line.
    std::chrono::steady_clock::time_point first_byte_at_{};
    std::chrono::steady_clock::time_point last_body_at_{};
    std::chrono::steady_clock::time_point last_sample_at_{};
    std::uint64_t attempt_received_ = 0;  // body bytes off the wire (skipped prefixes too)
    std::uint64_t last_sample_bytes_ = 0;
};

}  // namespace kithara::net::detail
