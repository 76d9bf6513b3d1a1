#include "detail/failure.hpp"

#include <string>

namespace kithara::net::detail {

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

}  // namespace kithara::net::detail
