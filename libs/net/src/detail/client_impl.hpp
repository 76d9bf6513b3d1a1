// Internal: the client's shared state on the executor: one libcurl multi handle driven by Asio.
// libcurl's socket callback (CURLMOPT_SOCKETFUNCTION) maps each socket onto an
// asio::posix::stream_descriptor wait, its timer callback onto one steady_timer; both feed
// curl_multi_socket_action, and finished easy handles go back to their transfer. Sockets are
// opened and closed through libcurl's open/close callbacks so a descriptor leaves the reactor
// before its number can be reused. Executor only (one handler at a time); no locks.
#pragma once

#include <kithara/net/client.hpp>

#include <curl/curl.h>
#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <memory>
#include <random>
#include <unordered_map>

namespace kithara::net::detail {

class transfer;

struct socket_state {
    explicit socket_state(const asio::any_io_executor& ex, curl_socket_t s) : sd(ex), fd(s) {}
    asio::posix::stream_descriptor sd;
    curl_socket_t fd;
    int want = 0;  // CURL_POLL_IN / OUT / INOUT
    bool read_pending = false;
    bool write_pending = false;
    bool recheck_pending = false;  // a readiness re-check is posted (see arm())
    bool closed = false;
};

class client_impl : public std::enable_shared_from_this<client_impl> {
public:
    client_impl(asio::any_io_executor ex, client_options opts);
    ~client_impl();

    void start(std::shared_ptr<transfer> t);
    void shutdown();
    void attach(transfer& t);  // curl_multi_add_handle
    void detach(CURL* easy);   // curl_multi_remove_handle
    void forget(transfer* t) { transfers_.erase(t); }

    const asio::any_io_executor& executor() const noexcept { return ex_; }
    const client_options& options() const noexcept { return opts_; }
    bool shutting_down() const noexcept { return shut_down_; }
    std::minstd_rand& rng() noexcept { return rng_; }

private:
    static int on_socket(CURL* e, curl_socket_t s, int what, void* userp, void* socketp);
    static int on_timer(CURLM* m, long timeout_ms, void* userp);
    static curl_socket_t on_open_socket(void* userp, curlsocktype purpose, curl_sockaddr* addr);
    static int on_close_socket(void* userp, curl_socket_t s);

    void arm(const std::shared_ptr<socket_state>& st);
    void socket_ready(const std::shared_ptr<socket_state>& st, int flags);
    void drop_socket(curl_socket_t s);
    void timer_fired();
    void check_done();

    asio::any_io_executor ex_;
    client_options opts_;
    CURLM* multi_ = nullptr;
    asio::steady_timer timer_;
    std::unordered_map<curl_socket_t, std::shared_ptr<socket_state>> sockets_;
    std::unordered_map<transfer*, std::shared_ptr<transfer>> transfers_;
    std::minstd_rand rng_{std::random_device{}()};
    bool shut_down_ = false;
    friend class transfer;
};

}  // namespace kithara::net::detail
