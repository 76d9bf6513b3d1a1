// The test server as an HTTPS proxy: a CONNECT request (RFC 9110 9.3.6) opens a TCP tunnel to a
// loopback origin and relays bytes both ways until either side closes. The request is logged
// (method "CONNECT", path the authority tunnelled to, status 200 or 502); the entry's end is set
// and `complete` turns true when the tunnel closes, and bytes_sent counts the origin's bytes.
#include "test_server_impl.hpp"

#include <asio/buffer.hpp>
#include <asio/connect.hpp>
#include <asio/write.hpp>

#include <array>

namespace kithara::test::detail {

using asio::ip::tcp;
using clock = std::chrono::steady_clock;

namespace {

class tunnel : public std::enable_shared_from_this<tunnel> {
public:
    tunnel(http_server::impl& srv, tcp::socket client)
        : srv_(srv), client_(std::move(client)), origin_(client_.get_executor()) {}

    void start(const tunnel_request& r) {
        request_ = r;
        const auto colon = r.authority.rfind(':');
        std::error_code ec;
        const auto host = r.authority.substr(0, colon == std::string::npos ? 0 : colon);
        const auto port =
            to_u64(colon == std::string::npos ? std::string_view{}
                                              : std::string_view(r.authority).substr(colon + 1));
        auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
        // Loopback only: the tests' machine has no other network.
        if (ec || !address.is_loopback() || !port || *port == 0 || *port > 65535) return refuse();
        auto self = shared_from_this();
        origin_.async_connect(tcp::endpoint(address, static_cast<std::uint16_t>(*port)),
                              [self](const std::error_code& e) {
                                  if (e) return self->refuse();
                                  self->established();
                              });
    }

private:
    void refuse() {
        log(502);
        auto self = shared_from_this();
        static constexpr std::string_view answer =
            "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        asio::async_write(client_, asio::buffer(answer),
                          [self](const std::error_code&, std::size_t) { self->close(); });
    }

    void established() {
        log(200);
        std::error_code ignored;
        origin_.set_option(tcp::no_delay(true), ignored);
        auto self = shared_from_this();
        static constexpr std::string_view answer = "HTTP/1.1 200 Connection established\r\n\r\n";
        asio::async_write(
            client_, asio::buffer(answer), [self](const std::error_code& ec, std::size_t) {
                if (ec) return self->close();
                // Bytes the client sent right behind its CONNECT head go first.
                asio::async_write(self->origin_, asio::buffer(self->request_.early),
                                  [self](const std::error_code& e, std::size_t) {
                                      if (e) return self->close();
                                      self->relay(self->client_, self->origin_, self->up_, false);
                                      self->relay(self->origin_, self->client_, self->down_, true);
                                  });
            });
    }

    // Reads from `from` and writes what came to `to`, until either fails or closes.
    void relay(tcp::socket& from, tcp::socket& to, std::array<char, 16 * 1024>& buf,
               bool from_origin) {
        auto self = shared_from_this();
        from.async_read_some(asio::buffer(buf), [self, &from, &to, &buf, from_origin](
                                                    const std::error_code& ec, std::size_t n) {
            if (ec) return self->close();
            if (from_origin) self->down_bytes_ += n;
            asio::async_write(
                to, asio::buffer(buf.data(), n),
                [self, &from, &to, &buf, from_origin](const std::error_code& e, std::size_t) {
                    if (e) return self->close();
                    self->relay(from, to, buf, from_origin);
                });
        });
    }

    void log(int status) {
        std::lock_guard lock(srv_.mutex);
        log_index_ = srv_.log.size();
        log_generation_ = srv_.log_generation;
        log_entry e;
        e.method = "CONNECT";
        e.path = request_.authority;
        e.status = status;
        e.start = request_.received;
        e.connection_id = request_.connection_id;
        e.request_number = ++srv_.counters[request_.authority];
        e.headers = request_.headers;
        srv_.log.push_back(std::move(e));
        logged_ = true;
        srv_.log_changed.notify_all();
    }

    void close() {
        if (closed_) return;
        closed_ = true;
        std::error_code ec;
        client_.shutdown(tcp::socket::shutdown_both, ec);
        client_.close(ec);
        origin_.shutdown(tcp::socket::shutdown_both, ec);
        origin_.close(ec);
        std::lock_guard lock(srv_.mutex);
        if (logged_ && log_generation_ == srv_.log_generation) {
            auto& e = srv_.log[log_index_];
            e.end = clock::now();
            e.complete = true;
            e.bytes_sent = down_bytes_;
            srv_.log_changed.notify_all();
        }
    }

    http_server::impl& srv_;
    tcp::socket client_;
    tcp::socket origin_;
    tunnel_request request_;
    std::array<char, 16 * 1024> up_{};    // client -> origin
    std::array<char, 16 * 1024> down_{};  // origin -> client
    std::uint64_t down_bytes_ = 0;
    std::size_t log_index_ = 0;
    std::uint64_t log_generation_ = 0;
    bool logged_ = false, closed_ = false;
};

}  // namespace

void start_tunnel(http_server::impl& srv, tcp::socket client, const tunnel_request& r) {
    std::make_shared<tunnel>(srv, std::move(client))->start(r);
}

}  // namespace kithara::test::detail
