#include <kithara/core/log.hpp>
#include <kithara/core/result.hpp>

#include <kithara/detail/log.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kithara {
namespace {

result<int> parse_positive(int v) {
    if (v <= 0) return fail(std::errc::invalid_argument, "value " + std::to_string(v));
    return v * 2;
}

result<> check(bool ok) {
    if (!ok) return fail(std::errc::io_error, "check");
    return {};
}

TEST(result, carries_value_or_error_with_context) {
    auto good = parse_positive(21);
    ASSERT_TRUE(good);
    EXPECT_EQ(*good, 42);
    auto bad = parse_positive(-1);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), std::errc::invalid_argument);
    EXPECT_EQ(bad.error().context(), "value -1");
    EXPECT_TRUE(check(true).has_value());
    EXPECT_FALSE(check(false).has_value());
}

TEST(error, formats_as_one_readable_line) {
    error e(std::make_error_code(std::errc::no_such_file_or_directory), "open /tmp/x");
    e.add_context("asset 3f2a");
    EXPECT_EQ(e.message(), "generic: No such file or directory (asset 3f2a: open /tmp/x)");
    EXPECT_EQ(e.message().find('\n'), std::string::npos);
}

TEST(log, handler_receives_lines_at_or_above_the_level_and_can_be_silenced) {
    std::vector<std::pair<log_level, std::string>> lines;
    set_log_handler([&](log_level l, std::string_view s) { lines.emplace_back(l, s); });
    const auto old = get_log_level();
    set_log_level(log_level::info);
    KITHARA_LOG_DEBUG("hidden {}", 1);
    KITHARA_LOG_INFO("shown {}", 2);
    KITHARA_LOG_WARN("warned {}", 3);
    set_log_level(log_level::off);
    KITHARA_LOG_ERROR("silenced");
    set_log_handler({});
    set_log_level(old);
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_EQ(lines[0].first, log_level::info);
    EXPECT_EQ(lines[0].second, "shown 2");
    EXPECT_EQ(lines[1].first, log_level::warn);
    EXPECT_EQ(lines[1].second, "warned 3");
}

TEST(log, default_level_is_warn) {
    EXPECT_EQ(get_log_level(), log_level::warn);
}

}  // namespace
}  // namespace kithara
