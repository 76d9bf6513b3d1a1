// The test server's connections: one per accepted socket, reading requests and answering them
// from a fault, a route or the content, paced per connection and by the shared link.
#include "test_server_impl.hpp"

#include <asio/buffer.hpp>
#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <sstream>

namespace kithara::test::detail {

using asio::ip::tcp;
using clock = std::chrono::steady_clock;

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
        // CONNECT (a client using this server as its HTTPS proxy): the socket becomes a tunnel
        // to the origin named; this connection ends here.
        if (method == "CONNECT") {
            std::string early(asio::buffers_begin(buf_.data()), asio::buffers_end(buf_.data()));
            buf_.consume(buf_.size());
            return start_tunnel(
                srv_, std::move(sock_),
                {target, std::move(early), {hdr_.begin(), hdr_.end()}, clock::now(), id_});
        }
        // An absolute-form target (a client using this server as its HTTP proxy) is served from
        // its path, and its origin logged.
        proxied_origin_.clear();
        if (const auto scheme = target.find("://");
            scheme != std::string::npos && target.compare(0, 4, "http") == 0) {
            const auto slash = target.find('/', scheme + 3);
            proxied_origin_ = target.substr(0, slash);
            target = slash == std::string::npos ? std::string("/") : target.substr(slash);
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
            const auto total = ++srv_.requests_total;
            f_ = fault{};
            for (const auto& r : srv_.periodic_rules)
                if (total % static_cast<std::uint64_t>(r.every) == 0) f_ = r.f;
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
                            {hdr_.begin(), hdr_.end()},
                            proxied_origin_});
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
    std::string proxied_origin_;      // of an absolute-form target, "" otherwise
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

void start_connection(http_server::impl& srv, tcp::socket s, std::uint64_t id) {
    std::make_shared<connection>(srv, std::move(s), id)->read();
}

}  // namespace kithara::test::detail
