// Whole-resource transforms for processed resources: a cached resource read through a
// deterministic function (e.g. decryption) whose output is computed once and cached beside it.
//
//   kithara::assets::transform t{"upper/1", [](std::span<const std::byte> in) {
//       return kithara::result<std::vector<std::byte>>(to_upper(in)); }};
//   auto out = handle.read_processed(url, t);  // computed on the first call, then read from disk
//
// Any thread: a transform's apply() may be called from any thread, concurrently for different
// resources, and must be thread-safe. The caller owns input and output buffers. A transform's
// name must never carry secrets (a key): use a hash (kithara::assets::processed_key).
// AES-128 decryption for HLS, the main user, lives in kithara::hls (kithara/hls/aes.hpp).
#pragma once

#include <kithara/assets/export.hpp>
#include <kithara/core/result.hpp>

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace kithara::assets {

// A deterministic function of a whole resource. name identifies the output on disk: two transforms
// with the same name must produce the same output for the same input.
struct transform {
    std::string name;
    std::function<result<std::vector<std::byte>>(std::span<const std::byte> input)> apply;
};

}  // namespace kithara::assets
