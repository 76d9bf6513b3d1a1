#include <kithara/assets/asset_store.hpp>
#include <kithara/assets/error.hpp>
#include <kithara/assets/key.hpp>

#include "assets_support.hpp"

#include <gtest/gtest.h>

#include <set>

namespace kithara::assets {
namespace {

std::string canon(std::string_view url, key_policy p = {}) {
    auto c = canonicalize_url(url, p);
    EXPECT_TRUE(c) << url << ": " << (c ? "" : c.error().message());
    return c ? *c : std::string();
}

TEST(canonicalize, lowercases_scheme_and_host_drops_default_port_and_fragment) {
    EXPECT_EQ(canon("HTTP://Example.COM:80/A/b.ts#frag"), "http://example.com/A/b.ts");
    EXPECT_EQ(canon("https://example.com:443"), "https://example.com/");
    EXPECT_EQ(canon("https://example.com:8443/x"), "https://example.com:8443/x");
    EXPECT_EQ(canon("http://example.com:0080/x"), "http://example.com/x");
    EXPECT_EQ(canon("http://example.com:/x"), "http://example.com/x");
    EXPECT_EQ(canon("http://[2001:DB8::1]:80/x"), "http://[2001:db8::1]/x");
}

TEST(canonicalize, drops_credentials) {
    EXPECT_EQ(canon("http://user:secret@example.com/x"), "http://example.com/x");
}

TEST(canonicalize, normalizes_percent_encoding_where_safe) {
    EXPECT_EQ(canon("http://h/%7euser/%41b%2fc%2Fd"), "http://h/~user/Ab%2Fc%2Fd");
    EXPECT_EQ(canon("http://h/a b/\"q\"/%zz"), "http://h/a%20b/%22q%22/%25zz");
    EXPECT_EQ(canon("http://h/x?a=%7e&b=c d"), "http://h/x?a=~&b=c%20d");
}

TEST(canonicalize, removes_dot_segments) {
    EXPECT_EQ(canon("http://h/a/./b/../c"), "http://h/a/c");
    EXPECT_EQ(canon("http://h/../../etc/passwd"), "http://h/etc/passwd");
    EXPECT_EQ(canon("http://h/a/%2e%2E/b"), "http://h/b");
    EXPECT_EQ(canon("http://h/a/b/.."), "http://h/a/");
}

TEST(canonicalize, query_kept_dropped_or_filtered_by_policy) {
    EXPECT_EQ(canon("http://h/x?b=2&a=1"), "http://h/x?b=2&a=1");
    EXPECT_EQ(canon("http://h/x?"), "http://h/x");
    EXPECT_EQ(canon("http://h/x?b=2&a=1", key_policy{query_policy::drop, {}}), "http://h/x");
    key_policy p{query_policy::keep, {"token", "exp"}};
    EXPECT_EQ(canon("http://h/x?token=abc&q=1&exp=9", p), "http://h/x?q=1");
    EXPECT_EQ(canon("http://h/x?token=abc", p), "http://h/x");
}

TEST(canonicalize, rejects_relative_and_malformed_urls) {
    for (std::string_view bad :
         {"", "/etc/passwd", "../x", "seg.ts", "C:\\x", "http:/x", "http://", "http://h:99999/x",
          "http://h:8a/x", "http://[::1/x", "http://[::1]x/y", "1http://h/x"}) {
        auto c = canonicalize_url(bad, {});
        ASSERT_FALSE(c) << bad;
        EXPECT_EQ(c.error(), errc::invalid_url) << bad;
    }
}

TEST(keys, are_fixed_length_lowercase_hex_and_domain_separated) {
    const auto c = canon("http://h/a.ts");
    const key a = asset_key(c), r = resource_key(c), p = processed_key(c, "x");
    EXPECT_EQ(a.hex().size(), 32u);
    EXPECT_NE(a, r);
    EXPECT_NE(r, p);
    key back;
    ASSERT_TRUE(key::from_hex(r.hex(), back));
    EXPECT_EQ(back, r);
    EXPECT_FALSE(key::from_hex("../../etc/passwd", back));
    EXPECT_FALSE(key::from_hex(std::string(32, 'G'), back));
}

// The original collided on same-named segments of different variants.
TEST(keys, hls_variants_with_same_segment_names_never_share_a_file) {
    std::set<std::string> names;
    std::size_t count = 0;
    for (const char* variant : {"low", "mid", "high", "audio/en", "audio/de"}) {
        for (int seg = 0; seg < 200; ++seg) {
            const std::string url = std::string("https://cdn.example/show/") + variant + "/seg-" +
                                    std::to_string(seg) + ".ts";
            names.insert(resource_key(canon(url)).hex());
            ++count;
        }
        names.insert(
            resource_key(canon(std::string("https://cdn.example/show/") + variant + "/init.mp4"))
                .hex());
        ++count;
    }
    EXPECT_EQ(names.size(), count);
}

TEST(keys, hls_variant_segments_land_in_distinct_files_of_one_asset) {
    test::temp_dir dir("keys");
    auto store = asset_store::open(dir.path, {});
    ASSERT_TRUE(store);
    auto asset = store->open_asset("https://cdn.example/show/master.m3u8");
    ASSERT_TRUE(asset);
    auto lo = asset->open_streaming("https://cdn.example/show/low/seg-1.ts");
    auto hi = asset->open_streaming("https://cdn.example/show/high/seg-1.ts");
    ASSERT_TRUE(lo && hi);
    ASSERT_TRUE(lo->resource().write_at(0, test::bytes_of("LOW")));
    ASSERT_TRUE(hi->resource().write_at(0, test::bytes_of("HIGH")));
    EXPECT_NE(lo->resource().path(), hi->resource().path());
    std::array<std::byte, 8> buf{};
    auto n = lo->resource().read_at(0, buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 3u);
    EXPECT_EQ(buf[0], std::byte{'L'});
}

TEST(keys, traversal_attempts_never_leave_the_store_directory) {
    test::temp_dir dir("trav");
    auto store = asset_store::open(dir.path / "store", {});
    ASSERT_TRUE(store);
    auto asset = store->open_asset("http://h/../../../../etc/master.m3u8");
    ASSERT_TRUE(asset);
    EXPECT_EQ(asset->directory().parent_path(), dir.path / "store");
    for (std::string_view evil : {"http://h/../../../../tmp/evil", "http://h/%2e%2e/%2e%2e/x",
                                  "http://h/a/..%2f..%2fb", "http://h/\x01\xff/.."}) {
        auto res = asset->open_atomic(evil);
        ASSERT_TRUE(res) << evil;
        EXPECT_EQ(res->path().parent_path(), asset->directory());
        EXPECT_EQ(res->path().filename().string().size(), 32u);
        ASSERT_TRUE(res->replace(test::bytes_of("x")));
    }
    for (std::string_view evil : {"/etc/passwd", "../../x", "file"}) {
        auto res = asset->open_atomic(evil);
        ASSERT_FALSE(res);
        EXPECT_EQ(res.error(), errc::invalid_url);
    }
    // Nothing but the store directory was created next to it.
    std::size_t siblings = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
        (void)e;
        ++siblings;
    }
    EXPECT_EQ(siblings, 1u);
}

}  // namespace
}  // namespace kithara::assets
