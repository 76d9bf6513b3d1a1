// The persisted bandwidth estimate (detail/estimate_store.hpp) in a real asset store.
#include "detail/estimate_store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

namespace kithara::hls::detail {
namespace {

using namespace std::chrono_literals;
using sys = std::chrono::system_clock;

const sys::time_point now = sys::time_point{} + 1'800'000'000s;  // 2027-01-15

class estimate_store : public ::testing::Test {
protected:
    void SetUp() override {
        std::filesystem::remove_all(root_);
        auto s = assets::asset_store::open(root_);
        ASSERT_TRUE(s) << s.error().message();
        store_.emplace(std::move(*s));
    }
    void TearDown() override {
        store_.reset();
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    // Writes `text` as url's estimate, through the same atomic resource the store uses.
    void write_raw(const std::string& url, std::string_view text) {
        auto asset = store_->open_asset(*estimate_asset_url(url));
        ASSERT_TRUE(asset) << asset.error().message();
        auto h = asset->open_atomic(*estimate_resource_url(url));
        ASSERT_TRUE(h) << h.error().message();
        ASSERT_TRUE(
            h->replace(std::span(reinterpret_cast<const std::byte*>(text.data()), text.size())));
    }
    std::optional<double> load(const std::string& url, std::chrono::seconds max_age = 3600s) {
        return load_estimate(*store_, url, max_age, now);
    }

    std::filesystem::path root_ = std::filesystem::temp_directory_path() /
                                  ("kithara-hls-estimate-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::optional<assets::asset_store> store_;
};

const std::string master = "https://cdn.example/show/master.m3u8";

TEST_F(estimate_store, saved_estimate_loads_back_exactly) {
    EXPECT_FALSE(load(master));
    save_estimate(*store_, master, 1'234'567.891, now);
    EXPECT_EQ(load(master), 1'234'567.891);
    save_estimate(*store_, master, 2e6, now + 10s);  // replaced
    EXPECT_EQ(load_estimate(*store_, master, 3600s, now + 20s), 2e6);
}

TEST_F(estimate_store, origins_are_kept_apart_and_paths_share_one) {
    save_estimate(*store_, "http://127.0.0.1:8001/a/master.m3u8", 1e6, now);
    save_estimate(*store_, "http://127.0.0.1:8002/a/master.m3u8", 2e6, now);
    EXPECT_EQ(load("http://127.0.0.1:8001/other/list.m3u8?x=1"), 1e6);
    EXPECT_EQ(load("http://127.0.0.1:8002/a/master.m3u8"), 2e6);
    EXPECT_FALSE(load("http://127.0.0.1:8003/a/master.m3u8"));
    EXPECT_FALSE(load("https://127.0.0.1:8001/a/master.m3u8"));  // another scheme
    // Case and the default port do not make another origin.
    save_estimate(*store_, "https://CDN.Example/x.m3u8", 3e6, now);
    EXPECT_EQ(load("https://cdn.example:443/y.m3u8"), 3e6);
}

TEST_F(estimate_store, old_and_future_estimates_are_ignored) {
    save_estimate(*store_, master, 1e6, now - 2h);
    EXPECT_FALSE(load(master, 1h));
    EXPECT_EQ(load(master, 3h), 1e6);
    save_estimate(*store_, master, 1e6, now + 1h);  // a clock that went back since
    EXPECT_FALSE(load(master, 24h));
    save_estimate(*store_, master, 1e6, now - 1h);
    EXPECT_EQ(load(master, 1h), 1e6);  // exactly max_age old
}

TEST_F(estimate_store, garbage_content_gives_no_estimate) {
    const std::string at = " " + std::to_string((now - 10s).time_since_epoch() / 1s);
    write_raw(master, "bits_per_second 1500000\nsaved_at" + at + "\n");
    ASSERT_EQ(load(master), 1.5e6);  // the form the garbage below departs from
    const std::string bad[] = {
        "",
        "hello",
        "bits_per_second abc\nsaved_at" + at + "\n",
        "bits_per_second 1500000\n",
        "bits_per_second 1500000\nsaved_at" + at,
        "bits_per_second 1500000\nsaved_at" + at + "\nmore\n",
        "bits_per_second 1500000 \nsaved_at" + at + "\n",
        "bits_per_second 1500000\nsaved_at 12x\n",
        "bits_per_second -5\nsaved_at" + at + "\n",
        "bits_per_second 0\nsaved_at" + at + "\n",
        "bits_per_second nan\nsaved_at" + at + "\n",
        "bits_per_second inf\nsaved_at" + at + "\n",
        "bits_per_second 1e300\nsaved_at" + at + "\n",
        "bits_per_second 1500000\nsaved_at 99999999999999999999999\n",
        "saved_at" + at + "\nbits_per_second 1500000\n",
        std::string(4096, '\xff'),
        std::string("bits_per_second 1500000\0\nsaved_at", 33) + at + "\n",
    };
    for (const auto& text : bad) {
        write_raw(master, text);
        EXPECT_FALSE(load(master)) << text;
    }
}

TEST_F(estimate_store, asset_name_holds_neither_credentials_nor_path) {
    const std::string url =
        "https://user:secret@Cdn.Example:8443/private/show/master.m3u8?token=t0k";
    EXPECT_EQ(estimate_origin(url), "https://cdn.example:8443");
    EXPECT_EQ(estimate_asset_url(url), "kithara-hls://bandwidth/https://cdn.example:8443");
    save_estimate(*store_, url, 1e6, now);
    EXPECT_EQ(load("https://cdn.example:8443/elsewhere.m3u8"), 1e6);
    EXPECT_TRUE(store_->contains("kithara-hls://bandwidth/https://cdn.example:8443"));
    ASSERT_TRUE(store_->flush());
    // Nothing the store wrote (index, journal, resource) carries the secret, the path or the query.
    int files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root_)) {
        if (!e.is_regular_file()) continue;
        ++files;
        std::ifstream in(e.path(), std::ios::binary);
        const std::string all((std::istreambuf_iterator<char>(in)), {});
        for (const char* word : {"secret", "user", "private", "master", "t0k"})
            EXPECT_EQ(all.find(word), std::string::npos) << word << " in " << e.path();
    }
    EXPECT_GE(files, 1);
}

TEST_F(estimate_store, invalid_rates_and_urls_write_nothing) {
    for (double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                       std::numeric_limits<double>::infinity()})
        save_estimate(*store_, master, bad, now);
    EXPECT_FALSE(load(master));
    for (const char* url : {"", "not a url", "/relative/master.m3u8", "https://", "file:///a"}) {
        EXPECT_FALSE(estimate_asset_url(url)) << url;
        save_estimate(*store_, url, 1e6, now);
        EXPECT_FALSE(load(url)) << url;
    }
    EXPECT_TRUE(store_->assets().empty());  // loads create nothing either
}

}  // namespace
}  // namespace kithara::hls::detail
