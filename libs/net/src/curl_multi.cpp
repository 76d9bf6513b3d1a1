// The curl-multi <-> Asio glue: client_impl's socket and timer callbacks, readiness re-checks,
// and the dispatch of finished transfers.
#include "detail/client_impl.hpp"

#include "detail/transfer.hpp"

#include <kithara/detail/log.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <asio/post.hpp>

#include <cassert>
#include <mutex>
#include <vector>

namespace kithara::net::detail {

namespace {

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

client_impl::client_impl(asio::any_io_executor ex, client_options opts)
    : ex_(std::move(ex)), opts_(std::move(opts)), timer_(ex_) {
    global_init();
    multi_ = curl_multi_init();
    assert(multi_);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &client_impl::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &client_impl::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, opts_.max_host_connections);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, opts_.max_cached_connections);
}

client_impl::~client_impl() {
    // Runs on the executor (the last handler let go) or after the executor stopped; either way
    // nothing else touches this object now. Transfers hold a reference to us, so none is left.
    assert(transfers_.empty());
    curl_multi_cleanup(multi_);  // closes cached connections through on_close_socket
    for (auto& [fd, st] : sockets_) {
        st->closed = true;
        st->sd.release();
    }
}

void client_impl::start(std::shared_ptr<transfer> t) {
    if (t->finished()) return;  // cancelled before it began: its sink already has the outcome
    if (shut_down_) {
        transfers_.emplace(t.get(), t);
        t->cancel(errc::shut_down);
        return;
    }
    transfers_.emplace(t.get(), t);
    t->set_stop_callback();
    t->begin();
}

void client_impl::shutdown() {
    shut_down_ = true;
    std::vector<std::shared_ptr<transfer>> all;
    for (auto& [p, t] : transfers_) all.push_back(t);
    for (auto& t : all) t->cancel(errc::shut_down);
    timer_.cancel();
}

void client_impl::attach(transfer& t) {
    CURLMcode mc = curl_multi_add_handle(multi_, t.easy());
    if (mc != CURLM_OK)
        KITHARA_LOG_ERROR("net: curl_multi_add_handle: {}", curl_multi_strerror(mc));
}

void client_impl::detach(CURL* easy) {
    curl_multi_remove_handle(multi_, easy);
}

int client_impl::on_socket(CURL*, curl_socket_t s, int what, void* userp, void*) {
    auto* self = static_cast<client_impl*>(userp);
    if (what == CURL_POLL_REMOVE) {
        self->drop_socket(s);
        return 0;
    }
    auto it = self->sockets_.find(s);
    if (it == self->sockets_.end()) {
        auto st = std::make_shared<socket_state>(self->ex_, s);
        std::error_code ec;
        st->sd.assign(s, ec);
        if (ec) {
            KITHARA_LOG_ERROR("net: cannot watch socket {}: {}", s, ec.message());
            return -1;
        }
        it = self->sockets_.emplace(s, std::move(st)).first;
    }
    it->second->want = what;
    self->arm(it->second);
    return 0;
}

void client_impl::drop_socket(curl_socket_t s) {
    auto it = sockets_.find(s);
    if (it == sockets_.end()) return;
    it->second->closed = true;
    it->second->want = 0;
    it->second->sd.release();  // curl owns the fd; pending waits end with operation_aborted
    sockets_.erase(it);
}

// Asio's epoll reactor is edge-triggered and async_wait never checks readiness up front, so
// readiness that arose before a wait was queued (bytes libcurl left in the socket, a send buffer
// that drained meanwhile) would produce no edge. After queueing a new wait we therefore probe
// the descriptor once with a zero-timeout poll() (a readiness check, never a loop or a block)
// and, if it is already ready, run libcurl for it through the executor. Any later readiness
// completes the queued wait.
void client_impl::arm(const std::shared_ptr<socket_state>& st) {
    auto self = shared_from_this();
    bool queued = false;
    if ((st->want & CURL_POLL_IN) && !st->read_pending) {
        st->read_pending = queued = true;
        st->sd.async_wait(asio::posix::stream_descriptor::wait_read,
                          [self, st](const std::error_code& ec) {
                              st->read_pending = false;
                              if (ec || st->closed || !(st->want & CURL_POLL_IN)) return;
                              self->socket_ready(st, CURL_CSELECT_IN);
                          });
    }
    if ((st->want & CURL_POLL_OUT) && !st->write_pending) {
        st->write_pending = queued = true;
        st->sd.async_wait(asio::posix::stream_descriptor::wait_write,
                          [self, st](const std::error_code& ec) {
                              st->write_pending = false;
                              if (ec || st->closed || !(st->want & CURL_POLL_OUT)) return;
                              self->socket_ready(st, CURL_CSELECT_OUT);
                          });
    }
    if (!queued || st->recheck_pending) return;
    pollfd p{st->fd, 0, 0};
    if (st->want & CURL_POLL_IN) p.events |= POLLIN;
    if (st->want & CURL_POLL_OUT) p.events |= POLLOUT;
    if (::poll(&p, 1, 0) <= 0) return;
    int flags = 0;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) flags |= CURL_CSELECT_IN;
    if (p.revents & (POLLOUT | POLLERR)) flags |= CURL_CSELECT_OUT;
    if (flags == 0) return;
    st->recheck_pending = true;
    asio::post(ex_, [self, st, flags] {
        st->recheck_pending = false;
        int f = flags & ((st->want & CURL_POLL_IN ? CURL_CSELECT_IN : 0) |
                         (st->want & CURL_POLL_OUT ? CURL_CSELECT_OUT : 0));
        if (!st->closed && f != 0) self->socket_ready(st, f);
    });
}

void client_impl::socket_ready(const std::shared_ptr<socket_state>& st, int flags) {
    int running = 0;
    curl_multi_socket_action(multi_, st->fd, flags, &running);
    check_done();
    if (!st->closed) arm(st);
}

int client_impl::on_timer(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<client_impl*>(userp);
    self->timer_.cancel();
    if (timeout_ms < 0) return 0;
    self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
    std::weak_ptr<client_impl> weak = self->weak_from_this();
    self->timer_.async_wait([weak](const std::error_code& ec) {
        if (ec) return;
        if (auto s = weak.lock()) s->timer_fired();
    });
    return 0;
}

void client_impl::timer_fired() {
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done();
}

curl_socket_t client_impl::on_open_socket(void*, curlsocktype, curl_sockaddr* addr) {
    return ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

int client_impl::on_close_socket(void* userp, curl_socket_t s) {
    static_cast<client_impl*>(userp)->drop_socket(s);  // deregister before the fd number is reused
    return ::close(s);
}

void client_impl::check_done() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        transfer* t = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
        CURLcode rc = msg->data.result;
        auto it = transfers_.find(t);
        if (it == transfers_.end()) continue;
        auto keep = it->second;
        keep->on_done(rc);
    }
}

}  // namespace kithara::net::detail
