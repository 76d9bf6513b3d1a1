#include "test_server.hpp"

#include "test_server_impl.hpp"

#include <asio/post.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace kithara::test {

using asio::ip::tcp;

namespace detail {

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

}  // namespace detail

using detail::content;
using detail::make_content;

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
        detail::start_connection(*this, std::move(s), id);
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

void http_server::add_fault_every(int every, fault f) {
    if (every <= 0) return;
    std::lock_guard lock(impl_->mutex);
    impl_->periodic_rules.push_back({every, std::move(f)});
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