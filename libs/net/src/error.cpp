#include <kithara/net/error.hpp>

#include <kithara/core/condition.hpp>

#include <cctype>
#include <string>

namespace kithara::net {
namespace {

class net_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "net"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok_:
                return "no error";
            case errc::invalid_url:
                return "bad or unsupported URL";
            case errc::dns:
                return "host name did not resolve";
            case errc::connect:
                return "could not connect";
            case errc::tls:
                return "TLS handshake or certificate verification failed";
            case errc::http_status:
                return "HTTP error status";
            case errc::timeout_connect:
                return "connect timed out";
            case errc::timeout_first_byte:
                return "no response within the first-byte timeout";
            case errc::stalled:
                return "transfer stalled";
            case errc::connection_lost:
                return "connection lost";
            case errc::cancelled:
                return "cancelled";
            case errc::body_too_large:
                return "body larger than allowed";
            case errc::range_not_satisfiable:
                return "range not satisfiable";
            case errc::content_changed:
                return "content changed during transfer";
            case errc::too_many_redirects:
                return "too many redirects";
            case errc::retries_exhausted:
                return "retries exhausted";
            case errc::protocol:
                return "malformed or inconsistent response";
            case errc::transfer_failed:
                return "transfer failed";
            case errc::shut_down:
                return "client shut down";
        }
        return "unknown net error";
    }
    // The shared conditions (kithara/core/condition.hpp) this layer's codes mean.
    std::error_condition default_error_condition(int value) const noexcept override {
        switch (static_cast<errc>(value)) {
            case errc::invalid_url:
                return condition::invalid_url;
            case errc::cancelled:
                return condition::cancelled;
            case errc::timeout_connect:
            case errc::timeout_first_byte:
            case errc::stalled:
                return condition::timed_out;
            case errc::content_changed:
                return condition::content_changed;
            case errc::shut_down:
                return condition::closed;
            default:
                return {value, *this};
        }
    }
};

}  // namespace

const std::error_category& category() noexcept {
    static const net_category instance;
    return instance;
}

int http_status_of(const kithara::error& e) noexcept {
    if (e.code() != errc::http_status && e.code() != errc::retries_exhausted) return 0;
    const std::string& c = e.context();
    // The context carries "HTTP <code>"; take the last occurrence (the final answer).
    for (std::size_t pos = c.rfind("HTTP "); pos != std::string::npos;
         pos = pos == 0 ? std::string::npos : c.rfind("HTTP ", pos - 1)) {
        if (pos + 8 > c.size()) continue;
        int v = 0;
        bool ok = true;
        for (std::size_t i = pos + 5; i < pos + 8; ++i) {
            if (!std::isdigit(static_cast<unsigned char>(c[i]))) {
                ok = false;
                break;
            }
            v = v * 10 + (c[i] - '0');
        }
        if (ok && (pos + 8 == c.size() || !std::isdigit(static_cast<unsigned char>(c[pos + 8]))))
            return v;
    }
    return 0;
}

}  // namespace kithara::net
