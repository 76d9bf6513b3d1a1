// The persisted bandwidth estimate (abr_options::persist_estimate): the last estimate for an
// origin, kept in the asset store so that the next session starts from it (a seed of
// net::bandwidth_estimator) instead of the lowest variant.
//
//   if (auto bps = load_estimate(store, master_url, std::chrono::hours(1))) est.seed(*bps / 8);
//   save_estimate(store, master_url, est.estimate().value_or(0) * 8);
//
// Keyed by the URL's origin (scheme://host:port, the default port spelled out; no credentials,
// no path, no query): one asset per origin, "kithara-hls://bandwidth/<origin>", holding one
// atomic resource with the text "bits_per_second <v>\nsaved_at <unix seconds>\n". It is a few
// dozen bytes and an ordinary asset: the store's LRU may evict it like any other (then the next
// session starts without a prior). Anything unreadable, a rate that is not finite and positive
// (or above 1 Tbit/s), a saved_at in the future or older than max_age: nullopt, never an error.
//
// Threads: any (the asset store is thread-safe); no locks of its own. Blocking: a small file
// read or atomic replace (fsync), so not on a latency-critical path. Buffers: none kept.
#pragma once

#include <kithara/assets/asset_store.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kithara::hls::detail {

// "scheme://host:port" of an absolute URL (lowercased; default port 80/443 added for
// http/https), or nullopt when it has no scheme or host.
[[nodiscard]] std::optional<std::string> estimate_origin(std::string_view url);
// The asset that holds url's estimate: "kithara-hls://bandwidth/" + estimate_origin(url), and
// its one resource (that + "/estimate").
[[nodiscard]] std::optional<std::string> estimate_asset_url(std::string_view url);
[[nodiscard]] std::optional<std::string> estimate_resource_url(std::string_view url);

// Bits/s saved for url's origin at most max_age before now, else nullopt.
[[nodiscard]] std::optional<double> load_estimate(
    assets::asset_store& store, const std::string& url, std::chrono::seconds max_age,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());
// Saves bits_per_second (finite, > 0; else nothing is written) for url's origin, stamped now.
// A failure is logged, not reported: the estimate is an optimisation.
void save_estimate(assets::asset_store& store, const std::string& url, double bits_per_second,
                   std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace kithara::hls::detail
