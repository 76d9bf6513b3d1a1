#include <kithara/net/error.hpp>
#include <kithara/net/url.hpp>

#include <gtest/gtest.h>

namespace kithara::net {
namespace {

TEST(redact_url, replaces_userinfo) {
    EXPECT_EQ(redact_url("https://bob:hunter2@cdn.example/a.mp3"), "https://***@cdn.example/a.mp3");
    EXPECT_EQ(redact_url("http://bob@h:8080/x"), "http://***@h:8080/x");
}

TEST(redact_url, replaces_secret_query_values_and_keeps_others) {
    EXPECT_EQ(redact_url("https://h/a.m3u8?token=abc&v=2&X-Amz-Signature=ff&api_key=k"),
              "https://h/a.m3u8?token=***&v=2&X-Amz-Signature=***&api_key=***");
}

TEST(redact_url, replaces_long_opaque_values) {
    EXPECT_EQ(redact_url("https://h/s?u=0123456789abcdef0123456789&n=1"), "https://h/s?u=***&n=1");
}

TEST(redact_url, drops_fragment_and_keeps_plain_urls) {
    EXPECT_EQ(redact_url("https://h/a?x=1#secret"), "https://h/a?x=1");
    EXPECT_EQ(redact_url("http://127.0.0.1:80/p/q.ts"), "http://127.0.0.1:80/p/q.ts");
    EXPECT_EQ(redact_url(""), "");
    EXPECT_EQ(redact_url("bob:pw@host/x?token=t"), "***@host/x?token=***");
    EXPECT_EQ(redact_url(" https://bob:pw@h/x"), " https://***@h/x");
    EXPECT_EQ(redact_url("my_app://bob:pw@h/?sig=s"), "my_app://***@h/?sig=***");
    EXPECT_EQ(redact_url("//bob:pw@host/x"), "//***@host/x");
}

TEST(redact_url, ignores_at_sign_in_path_or_query) {
    EXPECT_EQ(redact_url("https://h/users/@me?mail=a@b"), "https://h/users/@me?mail=a@b");
}

TEST(net_error, category_and_http_status_accessor) {
    kithara::error e(errc::http_status, "GET http://h/x: HTTP 404");
    EXPECT_STREQ(category().name(), "net");
    EXPECT_EQ(http_status_of(e), 404);
    EXPECT_EQ(http_status_of(kithara::error(errc::retries_exhausted, "last: net: x (HTTP 503)")),
              503);
    EXPECT_EQ(http_status_of(kithara::error(errc::stalled, "HTTP 503")), 0);
    EXPECT_EQ(e.message(), "net: HTTP error status (GET http://h/x: HTTP 404)");
}

}  // namespace
}  // namespace kithara::net
