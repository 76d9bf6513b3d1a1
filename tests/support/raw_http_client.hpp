// kithara::test::raw_client: a minimal blocking HTTP/1.1 client over one keep-alive loopback
// connection (raw Asio), for checking the test server's own behaviour byte for byte.
//
//   raw_client c(srv.port());
//   response r = c.get("/a", "Range: bytes=0-9\r\n");  // extra header lines end in \r\n
//   EXPECT_EQ(r.status, 206);  EXPECT_EQ(r.headers["etag"], ...);
//
// Threads: one thread per client. Locks: none. Buffers: the response body is a string; a
// response without Content-Length (304, 204) has none.
#pragma once

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <cctype>
#include <map>
#include <string>

namespace kithara::test {

struct response {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    bool closed = false;  // the server closed the connection after this response
};

class raw_client {
    using tcp = asio::ip::tcp;

public:
    explicit raw_client(std::uint16_t port) : sock_(io_) {
        sock_.connect({asio::ip::make_address("127.0.0.1"), port});
    }

    response get(const std::string& path, const std::string& extra = {},
                 const std::string& method = "GET") {
        std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
        asio::write(sock_, asio::buffer(req));
        response r;
        std::error_code ec;
        std::size_t n = asio::read_until(sock_, buf_, "\r\n\r\n", ec);
        if (ec) {
            r.closed = true;
            return r;
        }
        std::string head(asio::buffers_begin(buf_.data()),
                         asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
        buf_.consume(n);
        r.status = std::stoi(head.substr(9, 3));
        std::size_t pos = head.find("\r\n") + 2;
        while (pos < head.size()) {
            auto end = head.find("\r\n", pos);
            auto line = head.substr(pos, end - pos);
            pos = end + 2;
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string name = line.substr(0, colon);
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[name] = line.substr(colon + 2);
        }
        if (method == "HEAD" || r.status == 304 || r.status == 204) return r;
        if (r.headers["transfer-encoding"] == "chunked") {
            for (;;) {
                n = asio::read_until(sock_, buf_, "\r\n");
                std::string size_line(
                    asio::buffers_begin(buf_.data()),
                    asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
                buf_.consume(n);
                std::size_t size = std::stoul(size_line, nullptr, 16);
                read_exact(size + 2);
                if (size == 0) break;
                r.body += take(size);
                buf_.consume(2);
            }
            buf_.consume(2);
        } else {
            std::size_t len = std::stoul(r.headers["content-length"]);
            read_exact(len, &ec);
            r.body = take(std::min(len, buf_.size()));
            r.closed = static_cast<bool>(ec);
        }
        return r;
    }

private:
    void read_exact(std::size_t n, std::error_code* ec = nullptr) {
        if (buf_.size() >= n) return;
        std::error_code e;
        asio::read(sock_, buf_, asio::transfer_exactly(n - buf_.size()), e);
        if (ec) *ec = e;
    }
    std::string take(std::size_t n) {
        std::string s(asio::buffers_begin(buf_.data()),
                      asio::buffers_begin(buf_.data()) + static_cast<std::ptrdiff_t>(n));
        buf_.consume(n);
        return s;
    }

    asio::io_context io_;
    tcp::socket sock_;
    asio::streambuf buf_;
};

}  // namespace kithara::test
