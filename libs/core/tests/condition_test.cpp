#include <kithara/core/condition.hpp>
#include <kithara/core/error.hpp>
#include <kithara/core/result.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace kithara {
namespace {

// A layer-like category that maps one code to a condition, as each layer's category does.
enum class probe_errc { ok_ = 0, stopped = 1, odd = 2 };

class probe_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "probe"; }
    std::string message(int) const override { return "probe"; }
    std::error_condition default_error_condition(int value) const noexcept override {
        if (value == static_cast<int>(probe_errc::stopped)) return condition::cancelled;
        return {value, *this};
    }
};

const probe_category& probe() {
    static const probe_category c;
    return c;
}

std::error_code make_error_code(probe_errc e) {
    return {static_cast<int>(e), probe()};
}

}  // namespace
}  // namespace kithara

template <>
struct std::is_error_code_enum<kithara::probe_errc> : std::true_type {};

namespace kithara {
namespace {

TEST(condition, a_layer_code_matches_the_condition_its_category_maps_it_to) {
    const error e{probe_errc::stopped, "receive"};
    EXPECT_EQ(e, condition::cancelled);
    EXPECT_EQ(e.code(), condition::cancelled);
    EXPECT_NE(e, condition::timed_out);
    EXPECT_EQ(e, probe_errc::stopped);  // the precise code is kept
    const error other{probe_errc::odd};
    for (int c = 1; c <= static_cast<int>(condition::content_changed); ++c) {
        EXPECT_NE(other, static_cast<condition>(c)) << c;
    }
}

TEST(condition, generic_and_system_codes_match_their_posix_counterparts) {
    EXPECT_EQ(error(std::errc::operation_canceled), condition::cancelled);
    EXPECT_EQ(error(std::error_code(ECANCELED, std::system_category())), condition::cancelled);
    EXPECT_EQ(error(std::errc::timed_out), condition::timed_out);
    EXPECT_EQ(error(std::errc::no_such_file_or_directory), condition::not_found);
    EXPECT_EQ(error(std::errc::invalid_argument), condition::invalid_argument);
    EXPECT_NE(error(std::errc::io_error), condition::not_found);
    EXPECT_NE(error(std::errc::io_error), condition::cancelled);
}

TEST(condition, no_error_matches_no_condition) {
    const error none;
    for (int c = 1; c <= static_cast<int>(condition::content_changed); ++c) {
        EXPECT_NE(none, static_cast<condition>(c)) << c;
    }
}

TEST(condition, a_std_errc_error_still_compares_by_exact_code) {
    const error e{std::error_code(ENOENT, std::system_category())};
    EXPECT_NE(e, std::errc::no_such_file_or_directory);  // a code compare, as before
    EXPECT_EQ(e, condition::not_found);                  // a condition compare
}

TEST(condition, names_and_messages_are_readable) {
    EXPECT_STREQ(condition_category().name(), "kithara");
    EXPECT_EQ(make_error_condition(condition::timed_out).message(), "timed out");
    EXPECT_EQ(make_error_condition(condition::unavailable).message(), "not available");
    EXPECT_EQ(make_error_condition(condition::invalid_url).message(), "invalid URL");
}

TEST(condition, a_result_failure_is_tested_by_condition) {
    const result<int> r = fail(probe_errc::stopped, "pull");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), condition::cancelled);
    EXPECT_EQ(r.error().message(), "probe: probe (pull)");
}

}  // namespace
}  // namespace kithara
