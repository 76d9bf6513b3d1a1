// The libcurl that kithara::net links has what Kithara uses and, in bundled mode, nothing more:
// HTTP and HTTPS only, HTTP/2 over nghttp2, TLS over OpenSSL with Debian's CA bundle and path,
// zlib, IPv6 and the threaded resolver; no LDAP, RTMP, SSH, GSSAPI, PSL or IDN; its symbols are
// not re-exported by a shared libkithara_net; none of the shared objects Debian's libcurl4 pulls in
// is loaded by a program linking kithara::net.
#include <kithara/net/error.hpp>

#include <curl/curl.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

namespace {

const curl_version_info_data& info() {
    return *curl_version_info(CURLVERSION_NOW);
}

std::set<std::string> protocols() {
    std::set<std::string> out;
    for (auto p = info().protocols; *p; ++p) out.insert(*p);
    return out;
}

TEST(curl_build, has_what_kithara_uses) {
    const auto& v = info();
    EXPECT_TRUE(v.features & CURL_VERSION_SSL);
    EXPECT_TRUE(v.features & CURL_VERSION_HTTP2);
    EXPECT_TRUE(v.features & CURL_VERSION_IPV6);
    EXPECT_TRUE(v.features & CURL_VERSION_ASYNCHDNS) << "the threaded resolver";
    EXPECT_TRUE(v.features & CURL_VERSION_LIBZ);
    EXPECT_TRUE(v.features & CURL_VERSION_THREADSAFE);
    ASSERT_NE(v.ssl_version, nullptr);
    EXPECT_EQ(std::string(v.ssl_version).rfind("OpenSSL/", 0), 0u) << v.ssl_version;
    EXPECT_NE(v.nghttp2_version, nullptr);
    const auto p = protocols();
    EXPECT_TRUE(p.count("http"));
    EXPECT_TRUE(p.count("https"));
}

TEST(curl_build, verifies_tls_against_the_debian_ca_bundle_and_path) {
    // The compiled-in defaults a request without `ca_file` uses, as in Debian's libcurl4.
    const auto& v = info();
    ASSERT_NE(v.cainfo, nullptr);
    EXPECT_STREQ(v.cainfo, "/etc/ssl/certs/ca-certificates.crt");
    ASSERT_NE(v.capath, nullptr);
    EXPECT_STREQ(v.capath, "/etc/ssl/certs");
}

#ifdef KITHARA_CURL_BUNDLED
TEST(curl_build, bundled_build_has_only_http_and_https) {
    EXPECT_EQ(protocols(), (std::set<std::string>{"http", "https"}));
    const auto& v = info();
    EXPECT_EQ(v.libssh_version, nullptr);
    EXPECT_EQ(v.libidn, nullptr);
    EXPECT_EQ(v.brotli_version, nullptr);
    EXPECT_EQ(v.zstd_version, nullptr);
    EXPECT_FALSE(v.features & (CURL_VERSION_IDN | CURL_VERSION_PSL | CURL_VERSION_GSSAPI |
                               CURL_VERSION_KERBEROS5 | CURL_VERSION_SPNEGO | CURL_VERSION_BROTLI |
                               CURL_VERSION_ZSTD | CURL_VERSION_HTTP3));
}

TEST(curl_build, a_program_linking_net_loads_none_of_debians_libcurl_dependencies) {
    // This test links kithara::net (and the bundled libcurl) like an application would.
    EXPECT_STREQ(kithara::net::category().name(), "net");
    std::ifstream maps("/proc/self/maps");
    ASSERT_TRUE(maps);
    std::string line, loaded;
    while (std::getline(maps, line))
        for (const char* lib : {"libcurl", "libldap", "liblber", "librtmp", "libgnutls", "libssh",
                                "libgssapi", "libkrb5", "libsasl2", "libpsl", "libidn2",
                                "libbrotli", "libzstd", "libp11-kit", "libnettle", "libhogweed"})
            if (line.find(std::string("/") + lib) != std::string::npos) loaded += line + "\n";
    EXPECT_EQ(loaded, "");
}

#ifdef KITHARA_NET_SHARED_LIBRARY
TEST(curl_build, a_shared_kithara_net_does_not_export_curl) {
    void* net = dlopen(KITHARA_NET_SHARED_LIBRARY, RTLD_LAZY | RTLD_LOCAL);
    ASSERT_NE(net, nullptr) << dlerror();
    // dlsym on a handle searches the library and its dependencies: the bundled libcurl is linked
    // into libkithara_net, hidden, so no curl_* symbol is there (nghttp2, OpenSSL and zlib are
    // the shared system libraries).
    for (const char* sym :
         {"curl_easy_init", "curl_multi_perform", "curl_global_init", "Curl_open"})
        EXPECT_EQ(dlsym(net, sym), nullptr) << sym;
    // Kithara's own API is.
    EXPECT_NE(dlsym(net, "_ZN7kithara3net8categoryEv"), nullptr)
        << "kithara::net::category() is exported";
    dlclose(net);
}
#endif
#endif

}  // namespace
