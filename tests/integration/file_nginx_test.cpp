// kithara::file end to end against a real nginx (tests/support/nginx.sh fixture): PCM identical
// to decoding the local file, moov-at-end and seeks served by Range requests, offline replay.
#include "file_support.hpp"

#include <algorithm>
#include <fstream>

namespace kithara::test {
namespace {

const std::string nginx_dir = KITHARA_NGINX_DIR;

class nginx_file : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        std::ifstream in(nginx_dir + "/port");
        ASSERT_TRUE(in >> port_) << "nginx fixture not running";
        const std::string name = GetParam();
        std::filesystem::copy_file(media_path(name), nginx_dir + "/root/file_" + name,
                                   std::filesystem::copy_options::overwrite_existing);
        url_ = "http://127.0.0.1:" + std::to_string(port_) + "/file_" + name;
    }
    int port_ = 0;
    std::string url_;
};

TEST_P(nginx_file, pcm_identical_to_local_decode) {
    file_env env;
    auto store = env.open_store();
    auto src = file::open(url_, store, *env.client, file_env::quick_options());
    ASSERT_TRUE(src) << src.error().message();
    EXPECT_TRUE(plays_as_local(*src, GetParam()));
    EXPECT_TRUE((*src)->complete());
}

TEST_P(nginx_file, seek_matches_local_seek_and_replays_offline) {
    using namespace std::chrono_literals;
    file_env env;
    auto store = env.open_store();
    {
        auto src = file::open(url_, store, *env.client, file_env::quick_options());
        ASSERT_TRUE(src) << src.error().message();
        EXPECT_TRUE(plays_as_local(*src, GetParam(), 12s));
    }
    auto o = file_env::quick_options();
    o.offline = true;  // whatever was fetched is on disk; the rest must be too after a full play
    {
        auto src = file::open(url_, store, *env.client, file_env::quick_options());
        ASSERT_TRUE(src);
        ASSERT_TRUE(decode_all(*src));
    }
    auto src = file::open(url_, store, *env.client, o);
    ASSERT_TRUE(src) << src.error().message();
    EXPECT_TRUE(plays_as_local(*src, GetParam()));
    EXPECT_EQ((*src)->stats().requests, 0u);
}

INSTANTIATE_TEST_SUITE_P(progressive, nginx_file,
                         ::testing::Values("long.mp3", "long.m4a", "long.flac", "long.opus"),
                         [](const auto& param_info) {
                             std::string s = param_info.param;
                             std::replace(s.begin(), s.end(), '.', '_');
                             return s;
                         });

}  // namespace
}  // namespace kithara::test
