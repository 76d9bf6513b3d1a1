#include "test_server.hpp"

#include "test_server_link.hpp"

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace kithara::test {

using asio::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

struct content {
    std::shared_ptr<const std::string> body;
    std::string etag;
    std::string last_modified;
};

struct rule {
    std::string path;
    int first = 1;
    int count = 1;
    fault f;
};

std::string http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 64> buf{};
    std::size_t n = std::strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf.data(), n);
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
    std::uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

const char* reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 206:
            return "Partial Content";
        case 302:
            return "Found";
        case 304:
            return "Not Modified";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 408:
            return "Request Timeout";
        case 416:
            return "Range Not Satisfiable";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Status";
    }
}

content make_content(std::string body, int version) {
    std::uint64_t h = 1469598103934665603ull;
    for (char c : body) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    std::ostringstream etag;
    etag << "\"v" << version << '-' << std::hex << h << '"';
    return {std::make_shared<const std::string>(std::move(body)), etag.str(),
            http_date(1'700'000'000 + version)};
}

}  // namespace

struct http_server::impl {
    asio::io_context io;
    detail::shared_link link{io};  // after io: waiting responses hold connections
    tcp::acceptor acceptor{io};
    std::thread thread;
    std::filesystem::path root;
    std::uint16_t port = 0;

    mutable std::mutex mutex;  // guards everything below
    std::condition_variable log_changed;
    std::map<std::string, content, std::less<>> contents;
    std::map<std::string, content, std::less<>> file_cache;
    std::map<std::string, int, std::less<>> counters;
    std::vector<rule> rules;
    std::map<std::string, route_handler, std::less<>> routes;  // by path prefix
    std::uint64_t rate = 0;
    std::vector<log_entry> log;
    std::uint64_t log_generation = 0;  // bumped by clear_log: stale indices are ignored
    std::uint64_t connections = 0;
    std::uint64_t responding = 0;       // responses whose head went out and body is not done
    std::uint64_t peak_responding = 0;  // high-water mark of `responding` since clear_log
    int version = 0;

    void accept();
    std::optional<content> find_content(const std::string& path);  // mutex held
    route_handler find_route(std::string_view path) const;         // mutex held
};

namespace {

class connection : public std::enable_shared_from_this<connection> {
public:
    connection(http_server::impl& srv, tcp::socket s, std::uint64_t id)
        : srv_(srv), sock_(std::move(s)), timer_(sock_.get_executor()), id_(id) {}

    void read() {
        auto self = shared_from_this();
        asio::async_read_until(sock_, buf_, "\r\n\r\n",
                               [self](const std::error_code& ec, std::size_t n) {
                                   if (ec) return self->close();
                                   self->handle(n);
                               });
    }

private:
    // Overlap accounting: a response counts from its head until its body ends or the connection
    // closes.
    void begin_response() {
        std::lock_guard lock(srv_.mutex);
        responding_ = true;
        ++responses_;
        srv_.peak_responding = std::max(srv_.peak_responding, ++srv_.responding);
    }
    void end_response(bool complete = false) {
        std::lock_guard lock(srv_.mutex);
        if (responding_) --srv_.responding;
        if (responding_ && log_generation_ == srv_.log_generation) {
            auto& e = srv_.log[log_index_];
            e.end = clock::now();
            e.complete = complete;
            srv_.log_changed.notify_all();
        }
        responding_ = false;
    }

    // While a body is sent, a client (no pipelining) sends nothing: the socket turning readable
    // means it closed or reset. Noticing at once keeps the overlap accounting exact for cancelled
    // requests, instead of waiting for the next (throttled) write to fail.
    void watch_peer() {
        auto self = shared_from_this();
        const auto response = responses_;
        sock_.async_wait(tcp::socket::wait_read, [self, response](const std::error_code& ec) {
            if (ec || !self->responding_ || response != self->responses_) return;
            char c = 0;
            std::error_code rec;
            const auto n = self->sock_.receive(asio::buffer(&c, 1), tcp::socket::message_peek, rec);
            if (rec || n == 0) self->close();
        });
    }

    void close() {
        if (waiting_link_) srv_.link.cancel(id_);
        waiting_link_ = false;
        end_response();
        std::error_code ec;
        sock_.shutdown(tcp::socket::shutdown_both, ec);
        sock_.close(ec);
        timer_.cancel();
    }

    void handle(std::size_t n) {
        std::string text(asio::buffers_begin(buf_.data()),
                         asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
        buf_.consume(n);
        std::istringstream in(text);
        std::string line, method, target, version;
        std::getline(in, line);
        std::istringstream rl(line);
        rl >> method >> target >> version;
        hdr_.clear();
        while (std::getline(in, line)) {
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            hdr_[lower(trim(std::string_view(line).substr(0, colon)))] =
                std::string(trim(std::string_view(line).substr(colon + 1)));
        }
        const auto query = target.find('?');
        method_ = method;
        path_ = target.substr(0, query);
        received_ = clock::now();
        head_only_ = method == "HEAD";
        keep_alive_ = version == "HTTP/1.1" && lower(hdr_["connection"]) != "close";

        route_handler handler;
        {
            std::lock_guard lock(srv_.mutex);
            number_ = ++srv_.counters[path_];
            f_ = fault{};
            for (const auto& r : srv_.rules)
                if (r.path == path_ && number_ >= r.first &&
                    (r.count == 0 || number_ < r.first + r.count))
                    f_ = r.f;
            rate_ = f_.rate;
            if (f_.redirect_to.empty() && f_.status == 0) handler = srv_.find_route(path_);
            if (!handler) prepare(nullptr);
        }
        if (!handler) return send();
        route_request req{method,
                          path_,
                          query == std::string::npos ? std::string() : target.substr(query + 1),
                          {hdr_.begin(), hdr_.end()},
                          received_};
        auto self = shared_from_this();
        handler(req, sock_.get_executor(), [self](route_response r) {
            auto ex = self->sock_.get_executor();
            asio::post(ex, [self, r = std::move(r)] {
                {
                    std::lock_guard lock(self->srv_.mutex);
                    self->prepare(&r);
                }
                self->send();
            });
        });
    }

    // Mutex held: the status, headers and body of the response to the current request, from the
    // fault, the route's answer or the content; appends the log entry.
    void prepare(const route_response* routed) {
        const std::string range = hdr_["range"];
        const std::string if_range = hdr_["if-range"];
        status_ = 200;
        extra_.clear();
        no_length_ = false;
        content_type_ = "application/octet-stream";
        std::optional<content> c;
        if (routed) {
            if (!routed->content_type.empty()) content_type_ = routed->content_type;
            for (const auto& h : routed->headers) extra_.push_back(h);
            if (routed->status == 200 && routed->body) {
                c = content{routed->body, routed->etag, routed->last_modified};
            } else {
                status_ = routed->status;
                if (!routed->etag.empty()) extra_.push_back("ETag: " + routed->etag);
                if (!routed->last_modified.empty())
                    extra_.push_back("Last-Modified: " + routed->last_modified);
            }
        } else if (f_.redirect_to.empty() && f_.status == 0) {
            c = srv_.find_content(path_);
        }
        body_.reset();
        pos_ = end_ = 0;
        int& status = status_;
        auto& extra = extra_;
        if (!f_.redirect_to.empty()) {
            status = 302;
            extra.push_back("Location: " + f_.redirect_to);
        } else if (f_.status != 0) {
            status = f_.status;
            if (!f_.retry_after.empty()) extra.push_back("Retry-After: " + f_.retry_after);
        } else if (routed && !c) {
            if (routed->body) body_ = routed->body;
        } else if (!c) {
            status = 404;
        } else {
            body_ = c->body;
            end_ = body_->size();
            if (!f_.no_etag && !c->etag.empty()) extra.push_back("ETag: " + c->etag);
            if (!f_.no_last_modified && !c->last_modified.empty())
                extra.push_back("Last-Modified: " + c->last_modified);
            extra.push_back("Accept-Ranges: bytes");
            bool range_ok =
                !range.empty() && !f_.ignore_range &&
                (if_range.empty() || if_range == c->etag || if_range == c->last_modified);
            if (range_ok && range.rfind("bytes=", 0) == 0 && range.find(',') == std::string::npos) {
                std::string_view spec = std::string_view(range).substr(6);
                auto dash = spec.find('-');
                std::optional<std::uint64_t> a, b;
                if (dash != std::string_view::npos) {
                    a = to_u64(spec.substr(0, dash));
                    b = to_u64(spec.substr(dash + 1));
                }
                const std::uint64_t size = body_->size();
                if (dash != std::string_view::npos && !a && b) {  // suffix range
                    status = 206;
                    pos_ = *b >= size ? 0 : size - *b;
                    end_ = size;
                } else if (a && (!b || *b >= *a) && dash == spec.find('-')) {
                    if (*a >= size) {
                        status = 416;
                        extra.push_back("Content-Range: bytes */" + std::to_string(size));
                    } else {
                        status = 206;
                        pos_ = *a;
                        end_ = b ? std::min(*b + 1, size) : size;
                    }
                }
            }
            if (status == 206)
                extra.push_back("Content-Range: bytes " + std::to_string(pos_) + "-" +
                                std::to_string(end_ - 1) + "/" + std::to_string(body_->size()));
            if (f_.replace_after && !routed) {
                srv_.contents[path_] = make_content(*f_.replace_after, ++srv_.version);
            }
        }
        if (status == 304 || status == 204) {
            no_length_ = true;
            body_.reset();
            pos_ = end_ = 0;
        } else if (status != 200 && status != 206) {
            if (!body_)
                body_ =
                    std::make_shared<const std::string>("status " + std::to_string(status) + "\n");
            pos_ = 0;
            end_ = body_->size();
        }
        log_index_ = srv_.log.size();
        log_generation_ = srv_.log_generation;
        srv_.log.push_back({method_,
                            path_,
                            range,
                            if_range,
                            status,
                            0,
                            received_,
                            {},
                            false,
                            id_,
                            number_,
                            {hdr_.begin(), hdr_.end()}});
        srv_.log_changed.notify_all();
    }

    void send() {
        const int status = status_;
        std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
        for (const auto& e : extra_) head += e + "\r\n";
        if (!no_length_) head += "Content-Type: " + content_type_ + "\r\n";
        const std::uint64_t len = end_ - pos_;
        if (no_length_) {
        } else if (f_.chunked) {
            head += "Transfer-Encoding: chunked\r\n";
        } else {
            auto advertised = static_cast<std::int64_t>(len) + f_.length_lie;
            head +=
                "Content-Length: " + std::to_string(std::max<std::int64_t>(advertised, 0)) + "\r\n";
            if (f_.length_lie != 0) keep_alive_ = false;
        }
        if (!keep_alive_) head += "Connection: close\r\n";
        head += "\r\n";
        head_ = std::move(head);
        if (head_only_ || no_length_) end_ = pos_;
        sent_ = 0;
        stalled_ = false;
        link_dropped_ = false;

        auto self = shared_from_this();
        auto send_head = [self] {
            asio::async_write(self->sock_, asio::buffer(self->head_),
                              [self](const std::error_code& ec, std::size_t) {
                                  if (ec) return self->close();
                                  self->watch_peer();
                                  self->anchor_time_ = clock::now();
                                  self->anchor_sent_ = 0;
                                  self->anchor_rate_ = self->current_rate();
                                  self->send_body();
                              });
        };
        begin_response();
        if (f_.first_byte_delay.count() > 0) {
            timer_.expires_after(f_.first_byte_delay);
            timer_.async_wait([self, send_head](const std::error_code& ec) {
                if (ec) return self->close();
                send_head();
            });
        } else {
            send_head();
        }
    }

    std::uint64_t current_rate() {
        if (rate_) return rate_;
        std::lock_guard lock(srv_.mutex);
        return srv_.rate;
    }

    void add_sent(std::uint64_t n) {
        std::lock_guard lock(srv_.mutex);
        if (log_generation_ == srv_.log_generation) srv_.log[log_index_].bytes_sent += n;
    }

    void send_body() {
        auto self = shared_from_this();
        if (f_.drop_after && sent_ >= *f_.drop_after) return close();
        if (f_.stall_after && !stalled_ && sent_ >= *f_.stall_after) {
            stalled_ = true;
            timer_.expires_after(f_.stall_for);
            timer_.async_wait([self](const std::error_code& ec) {
                if (ec) return self->close();
                self->send_body();
            });
            return;
        }
        if (f_.link_drop_after && !link_dropped_ && sent_ >= *f_.link_drop_after) {
            link_dropped_ = true;
            if (f_.link_drop_factor > 0) srv_.link.scale(1.0 / f_.link_drop_factor);
        }
        if (pos_ >= end_) return finish();
        const bool linked = srv_.link.enabled();
        // On the shared link the link's grants cut the slices; leave it room at high rates.
        std::uint64_t slice =
            std::min<std::uint64_t>(end_ - pos_, linked ? 1024 * 1024 : 64 * 1024);
        if (f_.drop_after) slice = std::min(slice, *f_.drop_after - sent_);
        if (f_.stall_after && !stalled_) slice = std::min(slice, *f_.stall_after - sent_);
        if (f_.link_drop_after && !link_dropped_)
            slice = std::min(slice, *f_.link_drop_after - sent_);
        const std::uint64_t rate = current_rate();
        if (rate != anchor_rate_) {  // re-anchor pacing when the rate changes
            anchor_rate_ = rate;
            anchor_time_ = clock::now();
            anchor_sent_ = sent_;
        }
        if (rate > 0) {
            slice = std::min(slice, std::max<std::uint64_t>(rate / 50, 1));
            auto due = anchor_time_ + std::chrono::microseconds(static_cast<std::int64_t>(
                                          (sent_ - anchor_sent_) * 1'000'000 / rate));
            if (due > clock::now() + std::chrono::milliseconds(1)) {
                timer_.expires_at(due);
                timer_.async_wait([self](const std::error_code& ec) {
                    if (ec) return self->close();
                    self->send_body();
                });
                return;
            }
        }
        if (linked) {
            waiting_link_ = true;
            srv_.link.request(id_, slice, [self](std::uint64_t granted) {
                self->waiting_link_ = false;
                self->write_slice(granted);
            });
            return;
        }
        write_slice(slice);
    }

    void write_slice(std::uint64_t slice) {
        auto self = shared_from_this();
        add_sent(slice);
        const char* data = body_->data() + pos_;
        auto done = [self, slice](const std::error_code& ec, std::size_t) {
            if (ec) return self->close();
            self->pos_ += slice;
            self->sent_ += slice;
            self->send_body();
        };
        if (f_.chunked) {
            std::ostringstream h;
            h << std::hex << slice << "\r\n";
            chunk_head_ = h.str();
            std::array<asio::const_buffer, 3> bufs{
                asio::buffer(chunk_head_), asio::buffer(data, static_cast<std::size_t>(slice)),
                asio::buffer("\r\n", 2)};
            asio::async_write(sock_, bufs, done);
        } else {
            asio::async_write(sock_, asio::buffer(data, static_cast<std::size_t>(slice)), done);
        }
    }

    void finish() {
        end_response(true);
        auto self = shared_from_this();
        auto next = [self](const std::error_code& ec, std::size_t) {
            if (ec || !self->keep_alive_ || self->f_.length_lie != 0) return self->close();
            self->read();
        };
        if (f_.chunked && !head_only_ && !no_length_) {
            asio::async_write(sock_, asio::buffer("0\r\n\r\n", 5), next);
        } else {
            next({}, 0);
        }
    }

    http_server::impl& srv_;
    bool responding_ = false;
    std::uint64_t responses_ = 0;  // responses begun on this connection
    tcp::socket sock_;
    asio::steady_timer timer_;
    asio::streambuf buf_{64 * 1024};
    std::uint64_t id_;
    fault f_;
    std::uint64_t rate_ = 0;
    std::shared_ptr<const std::string> body_;
    std::map<std::string, std::string> hdr_;  // the current request's headers, names lower-case
    std::string method_, path_, content_type_;
    std::vector<std::string> extra_;  // response header lines
    clock::time_point received_{};
    int number_ = 0, status_ = 200;
    bool no_length_ = false;
    std::string head_, chunk_head_;
    std::uint64_t pos_ = 0, end_ = 0, sent_ = 0;
    std::size_t log_index_ = 0;
    std::uint64_t log_generation_ = 0;
    bool keep_alive_ = true, head_only_ = false, stalled_ = false;
    bool link_dropped_ = false, waiting_link_ = false;
    clock::time_point anchor_time_{};
    std::uint64_t anchor_sent_ = 0, anchor_rate_ = 0;
};

}  // namespace

std::optional<content> http_server::impl::find_content(const std::string& path) {
    if (auto it = contents.find(path); it != contents.end()) return it->second;
    if (root.empty() || path.find("..") != std::string::npos) return std::nullopt;
    std::filesystem::path file = root / std::filesystem::path(path).relative_path();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
    auto mtime = std::filesystem::last_write_time(file, ec);
    auto size = std::filesystem::file_size(file, ec);
    std::string key =
        path + "@" + std::to_string(mtime.time_since_epoch().count()) + "@" + std::to_string(size);
    if (auto it = file_cache.find(key); it != file_cache.end()) return it->second;
    std::ifstream in(file, std::ios::binary);
    std::string body(static_cast<std::size_t>(size), '\0');
    in.read(body.data(), static_cast<std::streamsize>(size));
    auto c = make_content(std::move(body), ++version);
    file_cache[key] = c;
    return c;
}

route_handler http_server::impl::find_route(std::string_view path) const {
    const route_handler* best = nullptr;
    std::size_t best_len = 0;
    for (const auto& [prefix, h] : routes)
        if (path.substr(0, prefix.size()) == prefix && (!best || prefix.size() > best_len)) {
            best = &h;
            best_len = prefix.size();
        }
    return best ? *best : route_handler{};
}

void http_server::impl::accept() {
    acceptor.async_accept([this](const std::error_code& ec, tcp::socket s) {
        if (ec) return;
        std::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        std::uint64_t id;
        {
            std::lock_guard lock(mutex);
            id = ++connections;
        }
        std::make_shared<connection>(*this, std::move(s), id)->read();
        accept();
    });
}

http_server::http_server() : http_server(std::filesystem::path{}) {}

http_server::http_server(std::filesystem::path root) : impl_(std::make_shared<impl>()) {
    impl_->root = std::move(root);
    tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
    impl_->acceptor.open(ep.protocol());
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    impl_->acceptor.bind(ep);
    impl_->acceptor.listen();
    impl_->port = impl_->acceptor.local_endpoint().port();
    impl_->accept();
    impl_->thread = std::thread([i = impl_.get()] { i->io.run(); });
}

http_server::~http_server() {
    impl_->io.stop();
    impl_->thread.join();
}

std::uint16_t http_server::port() const {
    return impl_->port;
}

std::string http_server::url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(impl_->port) + std::string(path);
}

void http_server::put(std::string path, std::string body) {
    std::lock_guard lock(impl_->mutex);
    impl_->contents[std::move(path)] = make_content(std::move(body), ++impl_->version);
}

void http_server::add_fault(std::string path, fault f, int first, int count) {
    std::lock_guard lock(impl_->mutex);
    impl_->rules.push_back({std::move(path), first, count, std::move(f)});
}

void http_server::set_rate(std::uint64_t bytes_per_second) {
    std::lock_guard lock(impl_->mutex);
    impl_->rate = bytes_per_second;
}

void http_server::set_link(link_options options) {
    impl_->link.configure(std::move(options));
}

void http_server::set_link_rate(std::uint64_t bytes_per_second) {
    link_options o;
    if (bytes_per_second > 0) o.schedule.push_back({0, bytes_per_second});
    impl_->link.configure(std::move(o));
}

void http_server::scale_link(double factor) {
    impl_->link.scale(factor);
}

std::uint64_t http_server::link_rate_at(double link_seconds) const {
    return impl_->link.rate_at(link_seconds);
}

void http_server::route(std::string prefix, route_handler handler) {
    std::lock_guard lock(impl_->mutex);
    impl_->routes[std::move(prefix)] = std::move(handler);
}

void http_server::unroute(std::string_view prefix) {
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->routes.find(prefix); it != impl_->routes.end()) impl_->routes.erase(it);
}

asio::any_io_executor http_server::executor() const {
    return impl_->io.get_executor();
}

std::string route_request::header(std::string_view lower_case_name) const {
    for (const auto& [name, value] : headers)
        if (name == lower_case_name) return value;
    return {};
}

std::vector<log_entry> http_server::log() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->log;
}

bool http_server::wait_log(const std::function<bool(const std::vector<log_entry>&)>& pred,
                           std::chrono::milliseconds timeout) {
    std::unique_lock lock(impl_->mutex);
    return impl_->log_changed.wait_for(lock, timeout, [&] { return pred(impl_->log); });
}

std::vector<log_entry> http_server::log_for(std::string_view path) const {
    std::lock_guard lock(impl_->mutex);
    std::vector<log_entry> out;
    for (const auto& e : impl_->log)
        if (e.path == path) out.push_back(e);
    return out;
}

std::uint64_t http_server::connections_accepted() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->connections;
}

std::uint64_t http_server::peak_concurrent_responses() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->peak_responding;
}

void http_server::clear_log() {
    std::lock_guard lock(impl_->mutex);
    impl_->log.clear();
    ++impl_->log_generation;
    impl_->peak_responding = impl_->responding;
}

std::string make_body(std::size_t size, std::uint32_t seed) {
    std::string out(size, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : out) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x & 0xff);
    }
    return out;
}

}  // namespace kithara::test
