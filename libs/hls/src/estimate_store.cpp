// estimate_store: the persisted bandwidth estimate, one tiny asset per origin.
#include "detail/estimate_store.hpp"

#include <kithara/core/url.hpp>
#include <kithara/detail/log.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <span>

namespace kithara::hls::detail {

namespace {

constexpr double max_bits_per_second = 1e12;  // beyond: garbage
constexpr std::size_t max_content = 256;      // the text is ~50 bytes

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// "bits_per_second <v>\nsaved_at <s>\n", nothing else.
struct saved {
    double bits_per_second = 0;
    std::int64_t saved_at = 0;
};

std::optional<saved> parse(std::string_view text) {
    constexpr std::string_view rate_key = "bits_per_second ";
    constexpr std::string_view time_key = "saved_at ";
    if (!text.starts_with(rate_key)) return std::nullopt;
    text.remove_prefix(rate_key.size());
    saved out;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out.bits_per_second);
    if (ec != std::errc{} || p == text.data()) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(p - text.data()));
    if (!text.starts_with('\n')) return std::nullopt;
    text.remove_prefix(1);
    if (!text.starts_with(time_key)) return std::nullopt;
    text.remove_prefix(time_key.size());
    auto [q, ec2] = std::from_chars(text.data(), text.data() + text.size(), out.saved_at);
    if (ec2 != std::errc{} || q == text.data()) return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(q - text.data()));
    if (text != "\n") return std::nullopt;
    if (!std::isfinite(out.bits_per_second) || !(out.bits_per_second > 0) ||
        out.bits_per_second > max_bits_per_second)
        return std::nullopt;
    return out;
}

}  // namespace

std::optional<std::string> estimate_origin(std::string_view url) {
    const auto parts = split_url(url);
    if (!parts.scheme || parts.scheme->empty() || !parts.authority) return std::nullopt;
    const auto auth = split_authority(*parts.authority);  // the userinfo is left out
    if (auth.host.empty()) return std::nullopt;
    const auto scheme = lower(*parts.scheme);
    std::string port(auth.port.value_or(""));
    if (port.empty()) {
        if (scheme == "http") port = "80";
        if (scheme == "https") port = "443";
    }
    auto origin = scheme + "://" + lower(auth.host);
    if (!port.empty()) origin += ":" + port;
    return origin;
}

std::optional<std::string> estimate_asset_url(std::string_view url) {
    auto origin = estimate_origin(url);
    if (!origin) return std::nullopt;
    return "kithara-hls://bandwidth/" + *origin;
}

std::optional<std::string> estimate_resource_url(std::string_view url) {
    auto asset = estimate_asset_url(url);
    if (!asset) return std::nullopt;
    return *asset + "/estimate";
}

std::optional<double> load_estimate(assets::asset_store& store, const std::string& url,
                                    std::chrono::seconds max_age,
                                    std::chrono::system_clock::time_point now) {
    const auto name = estimate_asset_url(url);
    if (!name) return std::nullopt;
    auto asset = store.find_asset(*name);  // creates nothing
    if (!asset) return std::nullopt;
    auto h = asset->open_atomic(*name + "/estimate");
    if (!h || !h->exists()) return std::nullopt;
    auto bytes = h->read();
    if (!bytes || bytes->size() > max_content) return std::nullopt;
    const auto s =
        parse(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
    if (!s) return std::nullopt;
    const auto at = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
    const auto age = at.count() - s->saved_at;
    if (age < 0 || age > max_age.count()) return std::nullopt;
    return s->bits_per_second;
}

void save_estimate(assets::asset_store& store, const std::string& url, double bits_per_second,
                   std::chrono::system_clock::time_point now) {
    if (!std::isfinite(bits_per_second) || !(bits_per_second > 0) ||
        bits_per_second > max_bits_per_second)
        return;
    const auto name = estimate_asset_url(url);
    if (!name) return;
    const auto at = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
    char rate[32];
    auto [end, ec] = std::to_chars(rate, rate + sizeof rate, bits_per_second);
    if (ec != std::errc{}) return;
    const std::string text = "bits_per_second " + std::string(rate, end) + "\nsaved_at " +
                             std::to_string(at.count()) + "\n";
    auto asset = store.open_asset(*name);
    if (!asset) {
        KITHARA_LOG_WARN("hls: storing the bandwidth estimate failed: {}", asset.error().message());
        return;
    }
    auto h = asset->open_atomic(*name + "/estimate");
    if (!h) {
        KITHARA_LOG_WARN("hls: storing the bandwidth estimate failed: {}", h.error().message());
        return;
    }
    if (auto r =
            h->replace(std::span(reinterpret_cast<const std::byte*>(text.data()), text.size()));
        !r)
        KITHARA_LOG_WARN("hls: storing the bandwidth estimate failed: {}", r.error().message());
}

}  // namespace kithara::hls::detail
