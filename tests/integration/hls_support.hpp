// Helpers for the hls integration tests (a copy of hls_engine_test.cpp's minimal ones, plus an
// event recorder): an env (test server over the generated fixtures, io thread, client, asset
// store in a fresh directory), drain(), sha256 of PCM, and the fixture's reference.json.
//
//   env e("name");
//   auto s = kithara::hls::open(e.srv->url("/ts_aac/index.m3u8"), *e.store, *e.client).value();
//   auto got = drain(*s);  EXPECT_EQ(sha256(got.samples), reference("ts_aac", "index.m3u8")[...]);
//
// Threads: the test's thread; event_log::record is called on the io thread (events) and guarded
// by its mutex. Buffers: PCM is collected into vectors the test owns.
#pragma once

#include <test_server.hpp>

#include <kithara/hls/hls_stream.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls::test_support {

namespace fs = std::filesystem;
inline const fs::path fixtures = KITHARA_HLS_FIXTURES_DIR;

struct pcm {
    std::vector<float> samples;
    std::uint32_t rate = 0;
    std::uint32_t channels = 0;
    std::optional<error> failure;
    std::vector<double> starts;  // each chunk's start, seconds
    [[nodiscard]] std::size_t frames() const { return channels ? samples.size() / channels : 0; }
};

struct env {
    fs::path cache;
    std::optional<kithara::test::http_server> srv;
    worker::io_runtime io;
    std::optional<net::client> client;
    std::optional<assets::asset_store> store;
    explicit env(const std::string& name, assets::store_options so = {}) {
        cache = fs::temp_directory_path() / ("kithara_hls_fault_" + name);
        fs::remove_all(cache);
        srv.emplace(fixtures);
        EXPECT_TRUE(io.start());
        client.emplace(io.executor());
        reopen_store(so);
    }
    void reopen_store(assets::store_options so = {}) {
        store.reset();
        store.emplace(assets::asset_store::open(cache, so).value());
    }
    ~env() {
        store.reset();
        client.reset();
        fs::remove_all(cache);
    }
};

inline pcm drain(hls_stream& s, std::size_t max_frames = SIZE_MAX) {
    pcm out;
    while (out.frames() < max_frames) {
        auto c = s.next();
        if (!c) {
            out.failure = c.error();
            break;
        }
        if (!*c) break;
        out.rate = (*c)->sample_rate;
        out.channels = (*c)->channels;
        out.starts.push_back(std::chrono::duration<double>((*c)->start).count());
        out.samples.insert(out.samples.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    return out;
}

inline std::string sha256(const std::vector<float>& v) {
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(v.data(), v.size() * sizeof(float), md, &n, EVP_sha256(), nullptr);
    std::string hex;
    char b[3];
    for (unsigned i = 0; i < n; ++i) {
        std::snprintf(b, sizeof b, "%02x", md[i]);
        hex += b;
    }
    return hex;
}

inline nlohmann::json reference(const std::string& dir, const std::string& playlist) {
    std::ifstream f(fixtures / dir / "reference.json");
    auto j = nlohmann::json::parse(f);
    for (auto& v : j["variants"])
        if (v["playlist"] == playlist) return v;
    ADD_FAILURE() << "no reference for " << dir << "/" << playlist;
    return {};
}

inline std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Events, recorded from the io thread (or the caller's), waited on by the test.
class event_log {
public:
    void record(const event& e) {
        std::lock_guard lock(m_);
        events_.push_back(e);
        cv_.notify_all();
    }
    std::function<void(const event&)> callback() {
        return [this](const event& e) { record(e); };
    }
    [[nodiscard]] std::vector<event> of(event_kind k) const {
        std::lock_guard lock(m_);
        std::vector<event> out;
        for (const auto& e : events_)
            if (e.kind == k) out.push_back(e);
        return out;
    }
    [[nodiscard]] std::vector<event> all() const {
        std::lock_guard lock(m_);
        return events_;
    }

private:
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::vector<event> events_;
};

}  // namespace kithara::hls::test_support
