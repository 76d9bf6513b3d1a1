// Test helpers: a fresh temporary store directory, log capture, byte helpers.
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/core/log.hpp>

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace kithara::assets::test {

// in_memory: under /dev/shm when available (logic tests with many fsyncs stay fast).
inline std::filesystem::path fresh_dir(std::string_view name, bool in_memory = false) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::error_code ec;
    const auto base = in_memory && std::filesystem::is_directory("/dev/shm", ec)
                          ? std::filesystem::path("/dev/shm")
                          : std::filesystem::temp_directory_path();
    auto dir = base / ("kithara-assets-" + std::to_string(::getpid()) + "-" + std::string(name) +
                       "-" + (info ? std::string(info->name()) : std::string("x")));
    std::filesystem::remove_all(dir);
    return dir;
}

struct temp_dir {
    explicit temp_dir(std::string_view name = "t", bool in_memory = false)
        : path(fresh_dir(name, in_memory)) {}
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path path;
};

// Captures warnings logged by Kithara while alive.
struct log_capture {
    log_capture() {
        kithara::set_log_handler([this](kithara::log_level, std::string_view line) {
            std::lock_guard lk(mu);
            lines.emplace_back(line);
        });
    }
    ~log_capture() { kithara::set_log_handler({}); }
    bool contains(std::string_view needle) {
        std::lock_guard lk(mu);
        for (const auto& l : lines) {
            if (l.find(needle) != std::string::npos) return true;
        }
        return false;
    }
    std::mutex mu;
    std::vector<std::string> lines;
};

inline store_options budget(std::uint64_t max_bytes, std::size_t max_assets = 10'000,
                            pin_accounting pins = pin_accounting::excluded) {
    store_options o;
    o.max_bytes = max_bytes;
    o.max_assets = max_assets;
    o.pins = pins;
    return o;
}

inline std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = static_cast<std::byte>(rng());
    return v;
}

inline std::vector<std::byte> bytes_of(std::string_view s) {
    std::vector<std::byte> v(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) v[i] = static_cast<std::byte>(s[i]);
    return v;
}

inline std::vector<std::byte> from_hex(std::string_view hex) {
    std::vector<std::byte> v;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        v.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    }
    return v;
}

inline std::vector<std::uint8_t> u8_from_hex(std::string_view hex) {
    std::vector<std::uint8_t> v;
    for (auto b : from_hex(hex)) v.push_back(static_cast<std::uint8_t>(b));
    return v;
}

}  // namespace kithara::assets::test
