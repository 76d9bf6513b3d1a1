#include "storage_support.hpp"

#include <kithara/storage/atomic_resource.hpp>
#include <kithara/storage/error.hpp>

namespace kithara::storage::test {
namespace {

class atomic : public ::testing::Test {
protected:
    scratch_dir dir_;
    atomic_resource res_{dir_ / "playlist.m3u8"};
};

TEST_F(atomic, nothing_stored_reads_as_not_found) {
    EXPECT_FALSE(res_.exists());
    EXPECT_EQ(res_.read().error(), errc::not_found);
    EXPECT_EQ(res_.size().error(), errc::not_found);
}

TEST_F(atomic, read_returns_the_content_replaced) {
    ASSERT_TRUE(res_.replace(bytes_of("#EXTM3U\n")));
    auto buf = res_.read();
    ASSERT_TRUE(buf) << buf.error().message();
    EXPECT_EQ(std::vector<std::byte>(buf->begin(), buf->end()), bytes_of("#EXTM3U\n"));
    EXPECT_EQ(res_.size().value(), 8u);
}

TEST_F(atomic, replace_swaps_the_whole_content) {
    ASSERT_TRUE(res_.replace(bytes_of("a much longer first version")));
    ASSERT_TRUE(res_.replace(bytes_of("v2")));
    std::vector<std::byte> out(64);
    auto n = res_.read_into(out);
    ASSERT_TRUE(n);
    out.resize(*n);
    EXPECT_EQ(out, bytes_of("v2"));
}

TEST_F(atomic, read_into_a_small_buffer_is_an_error_with_the_size) {
    ASSERT_TRUE(res_.replace(bytes_of("0123456789")));
    std::vector<std::byte> out(4);
    auto n = res_.read_into(out);
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error(), errc::buffer_too_small);
    EXPECT_NE(n.error().message().find("10 bytes"), std::string::npos) << n.error().message();
}

TEST_F(atomic, empty_content_is_stored_and_read_back) {
    ASSERT_TRUE(res_.replace({}));
    EXPECT_TRUE(res_.exists());
    EXPECT_EQ(res_.read().value().size(), 0u);
}

TEST_F(atomic, replace_leaves_no_temp_files) {
    ASSERT_TRUE(res_.replace(bytes_of("x")));
    ASSERT_TRUE(res_.replace(bytes_of("y")));
    int files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_.path())) ++files;
    EXPECT_EQ(files, 1);
}

TEST_F(atomic, remove_deletes_the_content) {
    ASSERT_TRUE(res_.replace(bytes_of("x")));
    ASSERT_TRUE(res_.remove());
    EXPECT_FALSE(res_.exists());
    EXPECT_TRUE(res_.remove());
}

TEST(atomic_resource, a_missing_directory_is_a_clear_error) {
    atomic_resource res("/nonexistent-kithara-dir/key.bin");
    auto r = res.replace(bytes_of("k"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_such_file_or_directory);
    EXPECT_NE(r.error().message().find("/nonexistent-kithara-dir"), std::string::npos);
}

}  // namespace
}  // namespace kithara::storage::test
