// Every layer's category maps its codes onto the shared kithara::condition values: one table,
// every code of every layer, so a new enumerator without a decision shows up here.
#include <kithara/assets/error.hpp>
#include <kithara/core/condition.hpp>
#include <kithara/core/error.hpp>
#include <kithara/decode/error.hpp>
#include <kithara/file/error.hpp>
#include <kithara/hls/error.hpp>
#include <kithara/kithara/error.hpp>
#include <kithara/net/error.hpp>
#include <kithara/storage/error.hpp>
#include <kithara/stream/error.hpp>
#include <kithara/worker/error.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace kithara {
namespace {

struct row {
    std::error_code code;
    std::optional<condition> expected;  // nullopt: the code is the layer's own, no shared meaning
};

constexpr int last_condition = static_cast<int>(condition::content_changed);

void check(const std::vector<row>& rows, int enumerators) {
    ASSERT_EQ(static_cast<int>(rows.size()), enumerators) << "a code without a row";
    for (const auto& r : rows) {
        const error e{r.code, "ctx"};
        for (int c = 1; c <= last_condition; ++c) {
            const auto cond = static_cast<condition>(c);
            EXPECT_EQ(e == cond, r.expected == cond)
                << r.code.category().name() << " " << r.code.message() << " vs "
                << make_error_condition(cond).message();
        }
    }
}

TEST(condition_map, storage) {
    using storage::errc;
    check({{errc::invalid_range, condition::invalid_argument},
           {errc::not_available, condition::unavailable},
           {errc::past_final_length, std::nullopt},
           {errc::length_conflict, std::nullopt},
           {errc::too_large, std::nullopt},
           {errc::closed, condition::closed},
           {errc::corrupt_range_map, std::nullopt},
           {errc::buffer_too_small, std::nullopt},
           {errc::not_found, condition::not_found}},
          static_cast<int>(errc::not_found));
}

TEST(condition_map, net) {
    using net::errc;
    check({{errc::invalid_url, condition::invalid_url},
           {errc::dns, std::nullopt},
           {errc::connect, std::nullopt},
           {errc::tls, std::nullopt},
           {errc::http_status, std::nullopt},
           {errc::timeout_connect, condition::timed_out},
           {errc::timeout_first_byte, condition::timed_out},
           {errc::stalled, condition::timed_out},
           {errc::connection_lost, std::nullopt},
           {errc::cancelled, condition::cancelled},
           {errc::body_too_large, std::nullopt},
           {errc::range_not_satisfiable, std::nullopt},
           {errc::content_changed, condition::content_changed},
           {errc::too_many_redirects, std::nullopt},
           {errc::retries_exhausted, std::nullopt},
           {errc::protocol, std::nullopt},
           {errc::transfer_failed, std::nullopt},
           {errc::shut_down, condition::closed}},
          static_cast<int>(errc::shut_down));
}

TEST(condition_map, assets) {
    using assets::errc;
    check({{errc::invalid_url, condition::invalid_url},
           {errc::invalid_argument, condition::invalid_argument},
           {errc::store_locked, std::nullopt},
           {errc::io_error, std::nullopt},
           {errc::not_found, condition::not_found},
           {errc::incomplete, condition::unavailable},
           {errc::bad_key, std::nullopt},
           {errc::decrypt_failed, std::nullopt},
           {errc::transform_failed, std::nullopt},
           {errc::closed, condition::closed},
           {errc::removal_pending, std::nullopt}},
          static_cast<int>(errc::removal_pending));
}

TEST(condition_map, worker) {
    using worker::errc;
    check({{errc::closed, condition::closed},
           {errc::timed_out, condition::timed_out},
           {errc::cancelled, condition::cancelled},
           {errc::full, std::nullopt},
           {errc::empty, std::nullopt},
           {errc::stopped, condition::closed},
           {errc::stale, std::nullopt}},
          static_cast<int>(errc::stale));
}

TEST(condition_map, stream) {
    using stream::errc;
    check({{errc::not_available, condition::unavailable},
           {errc::cancelled, condition::cancelled},
           {errc::timed_out, condition::timed_out},
           {errc::invalid_seek, condition::invalid_argument},
           {errc::source_failed, std::nullopt}},
          static_cast<int>(errc::source_failed));
}

TEST(condition_map, decode) {
    using decode::errc;
    check({{errc::no_audio_stream, std::nullopt},
           {errc::unsupported_codec, std::nullopt},
           {errc::open_failed, std::nullopt},
           {errc::decode_failed, std::nullopt},
           {errc::truncated, std::nullopt},
           {errc::resample_failed, std::nullopt},
           {errc::invalid_argument, condition::invalid_argument},
           {errc::cancelled, condition::cancelled},
           {errc::timed_out, condition::timed_out},
           {errc::closed, condition::closed}},
          static_cast<int>(errc::closed));
}

TEST(condition_map, file) {
    using file::errc;
    check({{errc::invalid_url, condition::invalid_url},
           {errc::offline_miss, condition::unavailable},
           {errc::content_changed, condition::content_changed},
           {errc::bad_response, std::nullopt},
           {errc::closed, condition::closed}},
          static_cast<int>(errc::closed));
}

TEST(condition_map, hls) {
    using hls::errc;
    check({{errc::missing_header, std::nullopt},
           {errc::missing_extinf, std::nullopt},
           {errc::missing_uri, std::nullopt},
           {errc::invalid_value, std::nullopt},
           {errc::invalid_attribute_list, std::nullopt},
           {errc::missing_attribute, std::nullopt},
           {errc::byterange_without_offset, std::nullopt},
           {errc::undefined_variable, std::nullopt},
           {errc::duplicate_tag, std::nullopt},
           {errc::duplicate_variable, std::nullopt},
           {errc::mixed_playlist, std::nullopt},
           {errc::misplaced_tag, std::nullopt},
           {errc::limit_exceeded, std::nullopt},
           {errc::bad_response, std::nullopt},
           {errc::bad_key, std::nullopt},
           {errc::decrypt_failed, std::nullopt},
           {errc::not_supported, std::nullopt},
           {errc::segment_failed, std::nullopt},
           {errc::offline_miss, condition::unavailable},
           {errc::content_changed, condition::content_changed},
           {errc::bad_metadata, std::nullopt}},
          static_cast<int>(errc::bad_metadata));
}

TEST(condition_map, kithara) {
    using kithara::context_errc;
    check({{context_errc::not_supported, std::nullopt},
           {context_errc::unknown_content_kind, condition::unavailable},
           {context_errc::closed, condition::closed},
           {context_errc::interrupted, condition::cancelled},
           {context_errc::bad_cache_dir, condition::invalid_argument}},
          static_cast<int>(context_errc::bad_cache_dir));
}

TEST(condition_map, the_same_condition_spans_layers) {
    const error from_worker{worker::errc::cancelled};
    const error from_net{net::errc::cancelled};
    const error from_stream{stream::errc::cancelled};
    for (const auto* e : {&from_worker, &from_net, &from_stream}) {
        EXPECT_EQ(*e, condition::cancelled) << e->message();
    }
    EXPECT_NE(from_worker.code(), from_net.code());  // the precise codes still differ
}

}  // namespace
}  // namespace kithara
