// Test helpers for kithara::storage: a scratch directory, deterministic content, and the two
// resource backings as typed-test parameters.
#pragma once

#include <kithara/storage/memory_resource.hpp>
#include <kithara/storage/streaming_resource.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace kithara::storage::test {

// A fresh directory under the system temp dir, removed with everything in it.
class scratch_dir {
public:
    scratch_dir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "kithara-storage-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
        path_ = tmpl;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const {
        return path_ / name;
    }

private:
    std::filesystem::path path_;
};

// The byte every test writes at `offset` for a given seed: position-dependent, so misplaced or
// stale bytes are caught.
inline std::byte pattern_byte(std::uint64_t offset, std::uint32_t seed = 0) {
    std::uint64_t x = offset * 0x9E3779B97F4A7C15ull + seed;
    x ^= x >> 29;
    return static_cast<std::byte>(x & 0xFF);
}

inline std::vector<std::byte> pattern(std::uint64_t offset, std::size_t length,
                                      std::uint32_t seed = 0) {
    std::vector<std::byte> out(length);
    for (std::size_t i = 0; i < length; ++i) out[i] = pattern_byte(offset + i, seed);
    return out;
}

inline std::vector<std::byte> bytes_of(std::string_view s) {
    std::vector<std::byte> out(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
    return out;
}

// Typed-test parameters: each makes a fresh resource of its backing.
struct streaming_backing {
    static constexpr const char* name = "streaming";
    scratch_dir dir;
    std::unique_ptr<resource> make(growth_callback on_growth = {}) {
        streaming_options o;
        o.on_growth = std::move(on_growth);
        auto r = streaming_resource::open(dir / ("res-" + std::to_string(count_++)), std::move(o));
        if (!r) ADD_FAILURE() << r.error().message();
        return r ? std::move(*r) : nullptr;
    }

private:
    int count_ = 0;
};

struct memory_backing {
    static constexpr const char* name = "memory";
    std::unique_ptr<resource> make(growth_callback on_growth = {}) {
        memory_options o;
        o.max_size = 64 * 1024 * 1024;
        o.on_growth = std::move(on_growth);
        return memory_resource::create(std::move(o));
    }
};

using backings = ::testing::Types<streaming_backing, memory_backing>;

struct backing_names {
    template <class T>
    static std::string GetName(int) {
        return T::name;
    }
};

}  // namespace kithara::storage::test
