#include <kithara/net/client.hpp>

#include "detail/http_util.hpp"

#include <kithara/detail/log.hpp>
#include <kithara/net/url.hpp>

#include <curl/curl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <cassert>
#include <mutex>
#include <random>
#include <unordered_map>

namespace kithara::net {
namespace detail {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr long buffer_size = 64 * 1024;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct failure {
    kithara::error err;
    bool retryable = false;
    std::optional<milliseconds> retry_after;
};

failure map_curl(CURLcode rc, const char* detail) {
    std::string msg = detail && *detail ? detail : curl_easy_strerror(rc);
    auto f = [&](errc e, bool retry) { return failure{kithara::error(e, msg), retry, {}}; };
    switch (rc) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            return f(errc::invalid_url, false);
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return f(errc::dns, true);
        case CURLE_COULDNT_CONNECT:
            return f(errc::connect, true);
        case CURLE_OPERATION_TIMEDOUT:
            return f(errc::timeout_connect, true);
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
            return f(errc::tls, false);
        case CURLE_TOO_MANY_REDIRECTS:
            return f(errc::too_many_redirects, false);
        case CURLE_FILESIZE_EXCEEDED:
            return f(errc::body_too_large, false);
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return f(errc::connection_lost, true);
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_BAD_CONTENT_ENCODING:
            return f(errc::protocol, false);
        default:
            break;
    }
    return failure{kithara::error(errc::transfer_failed,
                                  "curl " + std::to_string(static_cast<int>(rc)) + ": " + msg),
                   false,
                   {}};
}

}  // namespace

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

// ------------------------------------------------------------------------------------------
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

// ------------------------------------------------------------------------------------------
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
    void release_easy();
    std::string what() const {
        return std::string(req_.verb == method::head ? "HEAD " : "GET ") + url_;
    }
    failure http_failure(int status, std::optional<milliseconds> retry_after) const {
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
    clock::time_point attempt_start_{};
    clock::time_point last_bytes_{};
    std::uint64_t attempt_delivered_ = 0;
};

// ------------------------------------------------------------------------------------------
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
    self->timer_.expires_after(milliseconds(timeout_ms));
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

// ------------------------------------------------------------------------------------------
void transfer::begin() {
    start_attempt();
}

void transfer::release_easy() {
    if (easy_) {
        curl_easy_cleanup(easy_);
        easy_ = nullptr;
    }
    if (slist_) {
        curl_slist_free_all(slist_);
        slist_ = nullptr;
    }
}

void transfer::start_attempt() {
    ++attempts_;
    status_ = 0;
    headers_.clear();
    head_done_ = false;
    got_first_byte_ = false;
    range_complete_ = false;
    abort_.reset();
    in_pos_ = 0;
    attempt_delivered_ = 0;
    errbuf_[0] = '\0';

    easy_ = curl_easy_init();
    if (!easy_) {
        complete(fail(errc::transfer_failed, what() + ": curl_easy_init failed"));
        return;
    }
    const auto& o = req_.options;
    CURL* e = easy_;
    curl_easy_setopt(e, CURLOPT_URL, req_.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, this);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, buffer_size);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &transfer::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &transfer::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &client_impl::on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, owner_.get());
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &client_impl::on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, owner_.get());
    curl_easy_setopt(e, CURLOPT_USERAGENT, owner_->options().user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.timeout.connect.count()));
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
    if (!o.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, o.ca_file.c_str());
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, o.max_redirects > 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(o.max_redirects));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!o.reuse_connection) {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    if (req_.verb == method::head) curl_easy_setopt(e, CURLOPT_NOBODY, 1L);

    for (const auto& h : req_.headers) {
        std::string line = h.name + ": " + h.value;
        slist_ = curl_slist_append(slist_, line.c_str());
    }
    if (req_.verb == method::get && (next_ > 0 || end_)) {
        std::string range = std::to_string(next_) + "-";
        if (end_) range += std::to_string(*end_ - 1);
        curl_easy_setopt(e, CURLOPT_RANGE, range.c_str());  // curl copies the string
        // Validate a resumed range against the entity we already hold.
        std::string validator = !etag_.empty() && !is_weak_etag(etag_) ? etag_ : last_modified_;
        if (!head_sent_) validator = req_.if_range;
        if (!validator.empty())
            slist_ = curl_slist_append(slist_, ("If-Range: " + validator).c_str());
    }
    if (slist_) curl_easy_setopt(e, CURLOPT_HTTPHEADER, slist_);

    attempt_start_ = clock::now();
    arm_deadline();
    owner_->attach(*this);
}

void transfer::arm_deadline() {
    const auto& t = req_.options.timeout;
    clock::time_point at = got_first_byte_ ? last_bytes_ + t.stall : attempt_start_ + t.first_byte;
    deadline_.expires_at(at);
    std::weak_ptr<transfer> weak = weak_from_this();
    deadline_.async_wait([weak](const std::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock()) self->deadline_fired();
    });
}

void transfer::deadline_fired() {
    if (!easy_ || done_) return;
    const auto& t = req_.options.timeout;
    auto now = clock::now();
    if (!got_first_byte_) {
        curl_off_t pretransfer = 0;
        curl_easy_getinfo(easy_, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
        if (pretransfer == 0) {
            abort_attempt({kithara::error(errc::timeout_connect,
                                          what() + ": not connected after " +
                                              std::to_string(t.first_byte.count()) + " ms"),
                           true,
                           {}});
        } else {
            abort_attempt({kithara::error(errc::timeout_first_byte,
                                          what() + ": no response after " +
                                              std::to_string(t.first_byte.count()) + " ms"),
                           true,
                           {}});
        }
        return;
    }
    if (now - last_bytes_ >= t.stall) {
        abort_attempt({kithara::error(errc::stalled, what() + ": no bytes for " +
                                                         std::to_string(t.stall.count()) +
                                                         " ms at offset " + std::to_string(next_)),
                       true,
                       {}});
        return;
    }
    arm_deadline();  // bytes arrived meanwhile: re-arm at last_bytes_ + stall
}

size_t transfer::on_header(char* data, size_t size, size_t n, void* userp) {
    auto* self = static_cast<transfer*>(userp);
    size_t len = size * n;
    self->last_bytes_ = clock::now();
    if (!self->got_first_byte_) {
        self->got_first_byte_ = true;
        self->arm_deadline();  // from now on the deadline watches for stalls
    }
    return self->header_line(std::string_view(data, len)) ? len : 0;
}

bool transfer::header_line(std::string_view line) {
    if (line.substr(0, 5) == "HTTP/") {
        status_ = parse_status_line(line);
        headers_.clear();
        head_done_ = false;
        return true;
    }
    std::string_view trimmed = trim(line);
    if (trimmed.empty()) {
        if (status_ >= 100 && status_ < 200) return true;  // interim response
        if (status_ >= 300 && status_ < 400 && req_.options.max_redirects > 0 &&
            !find_header(headers_, "location").empty())
            return true;  // curl follows it (or fails with too_many_redirects)
        return finalize_head();
    }
    if (auto colon = trimmed.find(':'); colon != std::string_view::npos) {
        headers_.push_back({std::string(trim(trimmed.substr(0, colon))),
                            std::string(trim(trimmed.substr(colon + 1)))});
    }
    return true;
}

bool transfer::finalize_head() {
    head_done_ = true;
    const int status = status_;
    if (status == 416) {
        // A resume at the very end (the server lied about the length, or the body was complete
        // but the connection broke right after): the entity size in "bytes */N" proves it.
        auto cr = find_header(headers_, "content-range");
        if (head_sent_ && cr.substr(0, 8) == "bytes */" && parse_u64(cr.substr(8)) == next_) {
            range_complete_ = true;
            return false;
        }
        abort_ = failure{kithara::error(errc::range_not_satisfiable,
                                        what() + ": HTTP 416 for offset " + std::to_string(next_)),
                         false,
                         {}};
        return false;
    }
    if (status < 200 || status >= 300) {
        std::optional<milliseconds> retry_after;
        if (auto ra = find_header(headers_, "retry-after"); !ra.empty())
            retry_after = parse_retry_after(ra, std::chrono::system_clock::now());
        abort_ = http_failure(status, retry_after);
        return false;
    }

    response_head head;
    head.status = status;
    head.etag = std::string(find_header(headers_, "etag"));
    head.last_modified = std::string(find_header(headers_, "last-modified"));
    head.content_type = std::string(find_header(headers_, "content-type"));
    head.headers = headers_;
    char* eff = nullptr;
    curl_easy_getinfo(easy_, CURLINFO_EFFECTIVE_URL, &eff);
    head.url = redact_url(eff ? eff : req_.url);
    std::optional<std::uint64_t> content_length;
    if (auto cl = find_header(headers_, "content-length"); !cl.empty())
        content_length = parse_u64(cl);
    if (find_header(headers_, "transfer-encoding").find("chunked") != std::string_view::npos)
        content_length.reset();

    bool restart = false;
    if (status == 206) {
        auto cr = parse_content_range(find_header(headers_, "content-range"));
        if (!cr || cr->first != next_) {
            abort_ =
                failure{kithara::error(errc::protocol,
                                       what() + ": Content-Range '" +
                                           std::string(find_header(headers_, "content-range")) +
                                           "' does not start at " + std::to_string(next_)),
                        false,
                        {}};
            return false;
        }
        in_pos_ = cr->first;
        head.entity_size = cr->size;
        if (head_sent_ && !etag_.empty() && !head.etag.empty() && head.etag != etag_) {
            // A server that ignored If-Range: these bytes belong to another entity.
            abort_ =
                failure{kithara::error(errc::content_changed, what() + ": ETag changed on resume"),
                        false,
                        {}};
            return false;
        }
    } else {
        // A whole entity (200 or another 2xx): it starts at resource offset 0.
        in_pos_ = 0;
        head.entity_size = content_length;
        if (req_.verb == method::get && head_sent_) {
            // A retry got the whole entity: Range ignored (same entity: skip the delivered
            // prefix), or If-Range did not match (changed: the sink restarts). Without any
            // validator, finish_attempt() already restarted at start_, so nothing can splice.
            bool same = etag_.empty() && last_modified_.empty();
            if (!etag_.empty() && !is_weak_etag(etag_))
                same = head.etag == etag_;
            else if (!last_modified_.empty())
                same = head.last_modified == last_modified_ && head.etag == etag_;
            if (!same) {
                restart = true;
                next_ = start_;
            } else if (next_ > 0) {
                head.range_ignored = true;
            }
        } else if (req_.verb == method::get && next_ > 0) {
            // First answer to a Range GET: skipping to the range is safe, unless the caller's
            // If-Range validator no longer matches (then deliver the new entity from 0).
            if (req_.if_range.empty() || req_.if_range == head.etag ||
                req_.if_range == head.last_modified) {
                head.range_ignored = true;
            } else {
                start_ = next_ = 0;
                end_.reset();
            }
        }
    }
    if (end_ && head.entity_size && *end_ > *head.entity_size) end_ = *head.entity_size;
    head.body_offset = next_;
    if (req_.verb == method::get) {
        std::optional<std::uint64_t> stop = end_ ? end_ : head.entity_size;
        if (stop && *stop >= next_)
            head.length = *stop - next_;
        else if (content_length && in_pos_ + *content_length >= next_)
            head.length = in_pos_ + *content_length - next_;
    } else {
        head.length = content_length;
    }

    const std::uint64_t max = req_.options.max_body_size;
    if (max > 0 && head.length && *head.length + (next_ - start_) > max) {
        abort_ = failure{kithara::error(errc::body_too_large,
                                        what() + ": " + std::to_string(*head.length) +
                                            " bytes over the limit of " + std::to_string(max)),
                         false,
                         {}};
        return false;
    }

    etag_ = head.etag;
    last_modified_ = head.last_modified;
    entity_size_ = head.entity_size;
    result<> r;
    if (!head_sent_) {
        head_sent_ = true;
        r = sink_->on_response(head);
    } else if (restart) {
        ++stats_.restarts;
        r = sink_->on_restart(head);
    }
    if (!r) {
        abort_ = failure{r.error(), false, {}};
        return false;
    }
    if (req_.verb == method::get && end_ && next_ >= *end_) range_complete_ = true;
    return true;
}

size_t transfer::on_write(char* data, size_t size, size_t n, void* userp) {
    auto* self = static_cast<transfer*>(userp);
    size_t len = size * n;
    self->last_bytes_ = clock::now();
    if (!self->head_done_ && !self->finalize_head()) return CURL_WRITEFUNC_ERROR;
    return self->body({reinterpret_cast<const std::byte*>(data), len}) ? len : CURL_WRITEFUNC_ERROR;
}

bool transfer::body(std::span<const std::byte> bytes) {
    if (range_complete_) return false;  // everything wanted arrived; stop this transfer
    // Drop what precedes next_ (a prefix already delivered, or a range the server ignored).
    if (in_pos_ < next_) {
        std::uint64_t skip = std::min<std::uint64_t>(next_ - in_pos_, bytes.size());
        bytes = bytes.subspan(static_cast<std::size_t>(skip));
        in_pos_ += skip;
    }
    if (end_ && in_pos_ + bytes.size() > *end_)
        bytes = bytes.first(static_cast<std::size_t>(*end_ > in_pos_ ? *end_ - in_pos_ : 0));
    if (bytes.empty()) return !(end_ && in_pos_ >= *end_ && (range_complete_ = true));
    const std::uint64_t max = req_.options.max_body_size;
    if (max > 0 && next_ - start_ + bytes.size() > max) {
        abort_ = failure{kithara::error(errc::body_too_large,
                                        what() + ": more than " + std::to_string(max) + " bytes"),
                         false,
                         {}};
        return false;
    }
    if (auto r = sink_->on_data(next_, bytes); !r) {
        abort_ = failure{r.error(), false, {}};
        return false;
    }
    next_ += bytes.size();
    in_pos_ += bytes.size();
    attempt_delivered_ += bytes.size();
    stats_.bytes_delivered += bytes.size();
    if (end_ && next_ >= *end_) range_complete_ = true;
    return true;
}

void transfer::abort_attempt(failure f) {
    abort_ = std::move(f);
    CURL* e = easy_;
    owner_->detach(e);
    on_done(CURLE_ABORTED_BY_CALLBACK);
}

void transfer::on_done(CURLcode rc) {
    if (!easy_) return;
    deadline_.cancel();
    // Measurements of this attempt, from curl's own clocks on the transfer.
    curl_off_t down = 0, total_us = 0, start_us = 0;
    long header_bytes = 0, connects = 0, redirects = 0;
    curl_easy_getinfo(easy_, CURLINFO_SIZE_DOWNLOAD_T, &down);
    curl_easy_getinfo(easy_, CURLINFO_HEADER_SIZE, &header_bytes);
    curl_easy_getinfo(easy_, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_easy_getinfo(easy_, CURLINFO_STARTTRANSFER_TIME_T, &start_us);
    curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(easy_, CURLINFO_REDIRECT_COUNT, &redirects);
    long version = 0;
    curl_easy_getinfo(easy_, CURLINFO_HTTP_VERSION, &version);
    switch (version) {
        case CURL_HTTP_VERSION_1_0:
            stats_.http_version = 10;
            break;
        case CURL_HTTP_VERSION_1_1:
            stats_.http_version = 11;
            break;
        case CURL_HTTP_VERSION_2_0:
            stats_.http_version = 20;
            break;
        case CURL_HTTP_VERSION_3:
            stats_.http_version = 30;
            break;
        default:
            stats_.http_version = 0;
            break;
    }
    if (rc != CURLE_OK)
        total_us = duration_cast<microseconds>(clock::now() - attempt_start_).count();
    const auto wire = static_cast<std::uint64_t>(std::max<curl_off_t>(down, 0)) +
                      static_cast<std::uint64_t>(std::max<long>(header_bytes, 0));
    stats_.bytes_on_wire += wire;
    stats_.attempts = attempts_;
    stats_.redirects = static_cast<int>(redirects);
    stats_.connection_reused = connects == 0;
    stats_.time_to_first_byte = microseconds(start_us);
    stats_.wire_duration = microseconds(total_us);
    stats_.throughput =
        total_us > 0 ? static_cast<double>(wire) * 1e6 / static_cast<double>(total_us) : 0.0;
    stats_.status = status_;
    const char* detail = errbuf_;
    std::optional<failure> f;
    if (range_complete_ || (rc == CURLE_OK && !abort_)) {
        f.reset();
    } else if (abort_) {
        f = std::move(abort_);
    } else {
        f = map_curl(rc, detail);
        f->err.add_context(what());
    }
    if (!f && rc == CURLE_OK && req_.verb == method::get && !head_done_) {
        f = failure{kithara::error(errc::protocol, what() + ": no response head"), false, {}};
    }
    if (rc == CURLE_OK && !f && req_.verb == method::get && !end_ && entity_size_ &&
        next_ < *entity_size_)
        end_ = entity_size_;
    if (rc == CURLE_OK && !f && req_.verb == method::get && end_ && next_ < *end_) {
        f = failure{kithara::error(errc::connection_lost, what() + ": body ended at " +
                                                              std::to_string(next_) + " before " +
                                                              std::to_string(*end_)),
                    true,
                    {}};
    }
    if (attempt_delivered_ > 0 && owner_->options().observer) {
        transfer_sample s{url_,
                          wire,
                          stats_.time_to_first_byte,
                          stats_.wire_duration,
                          stats_.throughput,
                          stats_.connection_reused};
        owner_->options().observer(s);
    }
    if (rc != CURLE_ABORTED_BY_CALLBACK) owner_->detach(easy_);
    release_easy();
    finish_attempt(std::move(f));
}

void transfer::finish_attempt(std::optional<failure> f) {
    if (!f) {
        complete(stats_);
        return;
    }
    if (done_) return;
    const auto& policy = req_.options.retry;
    if (!f->retryable || owner_->shutting_down() || policy.max_retries == 0) {
        complete(fail(std::move(f->err)));
        return;
    }
    if (attempts_ > policy.max_retries) {
        complete(fail(errc::retries_exhausted, "after " + std::to_string(attempts_) +
                                                   " attempts, last: " + f->err.message()));
        return;
    }
    milliseconds delay =
        backoff_delay(attempts_, policy.initial_backoff, policy.max_backoff, owner_->rng());
    if (f->retry_after) {
        if (*f->retry_after > policy.max_retry_after) {
            complete(fail(std::move(f->err.add_context("Retry-After too long"))));
            return;
        }
        delay = *f->retry_after;
    }
    // Resuming past start_ needs a validator; without one, restart from the beginning.
    if (next_ > start_ && etag_.empty() && last_modified_.empty()) {
        next_ = start_;
        ++stats_.restarts;
        response_head h;
        h.status = status_;
        h.body_offset = start_;
        h.url = url_;
        if (auto r = sink_->on_restart(h); !r) {
            complete(fail(r.error()));
            return;
        }
    }
    KITHARA_LOG_DEBUG("net: retry {} of {} in {} ms: {}", attempts_, url_, delay.count(),
                      f->err.message());
    backoff_.expires_after(delay);
    std::weak_ptr<transfer> weak = weak_from_this();
    backoff_.async_wait([weak](const std::error_code& ec) {
        if (ec) return;
        if (auto self = weak.lock(); self && !self->done_) self->start_attempt();
    });
}

void transfer::cancel(errc why) {
    if (done_) return;
    kithara::error e(why, what());
    if (easy_) {
        abort_attempt(failure{std::move(e), false, {}});
        return;
    }
    backoff_.cancel();
    complete(fail(std::move(e)));
}

void transfer::complete(result<transfer_stats> r) {
    if (done_) return;
    done_ = true;
    deadline_.cancel();
    backoff_.cancel();
    auto keep = shared_from_this();
    auto s = std::move(sink_);
    if (s) s->on_complete(std::move(r));
    stop_cb_.reset();
    owner_->forget(this);
}

}  // namespace detail

// ------------------------------------------------------------------------------------------
void request_handle::cancel() const {
    auto t = transfer_.lock();
    if (!t) return;
    asio::post(t->executor(), [t] { t->cancel(errc::cancelled); });
}

client::client(asio::any_io_executor executor, client_options options)
    : impl_(std::make_shared<detail::client_impl>(std::move(executor), std::move(options))) {}

client::~client() {
    asio::any_io_executor ex = impl_->executor();
    asio::post(ex, [impl = std::move(impl_)] { impl->shutdown(); });
}

request_handle client::start(request req, std::shared_ptr<sink> s) {
    assert(s);
    auto t = std::make_shared<detail::transfer>(impl_, std::move(req), std::move(s));
    request_handle h(t);
    asio::post(impl_->executor(), [impl = impl_, t] { impl->start(t); });
    return h;
}

const asio::any_io_executor& client::executor() const noexcept {
    return impl_->executor();
}

}  // namespace kithara::net
