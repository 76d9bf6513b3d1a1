// kithara/core/url.hpp: RFC 3986's own examples (5.4.1 normal, 5.4.2 abnormal) and splitting.
#include <kithara/core/url.hpp>

#include <gtest/gtest.h>

#include <utility>

namespace kithara {
namespace {

TEST(url, resolves_every_example_of_rfc3986_section_5_4) {
    const std::string_view base = "http://a/b/c/d;p?q";
    const std::pair<const char*, const char*> cases[] = {
        // 5.4.1 normal examples
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        // 5.4.2 abnormal examples
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"http:g", "http:g"},  // strict parsers
    };
    for (const auto& [ref, want] : cases) EXPECT_EQ(resolve_url(base, ref), want) << ref;
}

TEST(url, resolves_hls_style_references) {
    const std::string_view playlist = "https://cdn.example/show/v1/index.m3u8?token=abc";
    EXPECT_EQ(resolve_url(playlist, "seg-7.ts"), "https://cdn.example/show/v1/seg-7.ts");
    EXPECT_EQ(resolve_url(playlist, "../v2/index.m3u8"), "https://cdn.example/show/v2/index.m3u8");
    EXPECT_EQ(resolve_url(playlist, "https://other.example/k.bin"), "https://other.example/k.bin");
    EXPECT_EQ(resolve_url("https://h", "a.ts"), "https://h/a.ts");  // empty base path
}

TEST(url, splits_components_and_tells_absent_from_empty) {
    auto p = split_url("https://bob:pw@cdn.example:8443/a/b.mp3?x=1&y=#frag");
    EXPECT_EQ(p.scheme, "https");
    EXPECT_EQ(p.authority, "bob:pw@cdn.example:8443");
    EXPECT_EQ(p.path, "/a/b.mp3");
    EXPECT_EQ(p.query, "x=1&y=");
    EXPECT_EQ(p.fragment, "frag");
    auto a = split_authority(*p.authority);
    EXPECT_EQ(a.userinfo, "bob:pw");
    EXPECT_EQ(a.host, "cdn.example");
    EXPECT_EQ(a.port, "8443");

    auto e = split_url("a:?");
    EXPECT_EQ(e.scheme, "a");
    EXPECT_FALSE(e.authority);
    EXPECT_EQ(e.query, "");
    EXPECT_FALSE(e.fragment);

    auto rel = split_url("seg:1.ts");  // a colon in the first segment makes a scheme
    EXPECT_EQ(rel.scheme, "seg");
    auto rel2 = split_url("./seg:1.ts");
    EXPECT_FALSE(rel2.scheme);
    EXPECT_EQ(rel2.path, "./seg:1.ts");
}

TEST(url, splits_ipv6_and_portless_authorities) {
    auto v6 = split_authority("[::1]:8080");
    EXPECT_EQ(v6.host, "[::1]");
    EXPECT_EQ(v6.port, "8080");
    auto bare = split_authority("[fe80::1]");
    EXPECT_EQ(bare.host, "[fe80::1]");
    EXPECT_FALSE(bare.port);
    auto plain = split_authority("host");
    EXPECT_EQ(plain.host, "host");
    EXPECT_FALSE(plain.port);
    EXPECT_FALSE(plain.userinfo);
    auto empty_port = split_authority("host:");
    EXPECT_EQ(empty_port.port, "");
}

TEST(url, removes_dot_segments_as_rfc3986_5_2_4) {
    EXPECT_EQ(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
    EXPECT_EQ(remove_dot_segments("mid/content=5/../6"), "mid/6");
    EXPECT_EQ(remove_dot_segments("/.."), "/");
    EXPECT_EQ(remove_dot_segments("/a/."), "/a/");
    EXPECT_EQ(remove_dot_segments(""), "");
}

TEST(url, join_inverts_split) {
    for (const char* s : {"https://h:1/p?q#f", "a:?", "//h", "/p", "p?", "#", "mailto:x@y"})
        EXPECT_EQ(join_url(split_url(s)), s);
}

}  // namespace
}  // namespace kithara
