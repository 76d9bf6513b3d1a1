// Helpers shared by the kithara::hls integration tests (hls_nginx_test, hls_seek_test,
// hls_memory_test, hls_fault_test): the fixtures of tests/media/hls and their reference.json, an
// io thread + net client + asset store in a fresh cache directory (client_env; env adds the test
// server over the fixtures), draining a stream into PCM, SHA-256 of PCM, the local decode of a
// variant (init + decrypted segments concatenated, decoded from memory), SNR, and an event
// recorder.
//
//   hls_test::client_env e("name");
//   auto s = hls::open(url, *e.store, *e.client).value();
//   auto got = hls_test::drain(*s);
//   EXPECT_EQ(hls_test::sha256(got.samples), hls_test::reference("ts_aac", "index.m3u8")[...]);
//
// Threads: the test's thread (the io runtime runs the client's executor); event_log::record is
// called on the io thread (events) and guarded by its mutex. Buffers: every helper returns owned
// vectors.
#pragma once

#include <test_server.hpp>

#include <kithara/decode/decoder.hpp>
#include <kithara/hls/aes.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <kithara/hls/loader.hpp>
#include <kithara/stream/memory_source.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kithara::hls_test {

namespace fs = std::filesystem;
inline const fs::path fixtures = KITHARA_HLS_FIXTURES_DIR;

struct pcm {
    std::vector<float> samples;
    std::uint32_t rate = 0;
    std::uint32_t channels = 0;
    std::optional<error> failure;
    std::vector<double> starts;  // each chunk's start, seconds (drain only)
    [[nodiscard]] std::size_t frames() const { return channels ? samples.size() / channels : 0; }
};

// An io thread, a net client on it and an asset store in a fresh directory (removed afterwards).
struct client_env {
    fs::path cache;
    worker::io_runtime io;
    std::optional<net::client> client;
    std::optional<assets::asset_store> store;
    explicit client_env(const std::string& name) {
        // Per process too: CTest runs tests of several executables at once, and two may share
        // a name (hls_engine and hls_faults both had "restart").
        cache = fs::temp_directory_path() /
                ("kithara_hls_verify_" + name + "_" + std::to_string(::getpid()));
        fs::remove_all(cache);
        EXPECT_TRUE(io.start());
        client.emplace(io.executor());
        reopen_store();
    }
    void reopen_store() {
        store.reset();
        store.emplace(assets::asset_store::open(cache).value());
    }
    ~client_env() {
        store.reset();
        client.reset();
        fs::remove_all(cache);
    }
    client_env(const client_env&) = delete;
    client_env& operator=(const client_env&) = delete;
};

// client_env plus the test server over the fixtures.
struct env {
    fs::path cache;
    std::optional<kithara::test::http_server> srv;
    worker::io_runtime io;
    std::optional<net::client> client;
    std::optional<assets::asset_store> store;
    explicit env(const std::string& name, assets::store_options so = {}) {
        cache = fs::temp_directory_path() /
                ("kithara_hls_env_" + name + "_" + std::to_string(::getpid()));
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
    env(const env&) = delete;
    env& operator=(const env&) = delete;
};

inline pcm drain(hls::hls_stream& s, std::size_t max_frames = SIZE_MAX) {
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

// The variant of reference.json (in fixtures/<dir>) whose playlist is `playlist`.
inline nlohmann::json reference(const std::string& dir, const std::string& playlist) {
    std::ifstream f(fixtures / dir / "reference.json");
    auto j = nlohmann::json::parse(f);
    for (auto& v : j["variants"])
        if (v["playlist"] == playlist) return v;
    ADD_FAILURE() << "no reference for " << dir << "/" << playlist;
    return {};
}

// Presentation start of every segment (sums of EXTINF, as the engine computes them).
inline std::vector<double> segment_starts(const std::string& dir, const std::string& playlist) {
    std::vector<double> v;
    double t = 0;
    const auto ref = reference(dir, playlist);  // (a temporary's member would dangle)
    for (const auto& seg : ref["segments"]) {
        v.push_back(t);
        t += seg["extinf"].get<double>();
    }
    return v;
}

inline std::vector<std::byte> read_bytes(const fs::path& p,
                                         std::optional<hls::byte_range> r = std::nullopt) {
    std::ifstream f(p, std::ios::binary);
    EXPECT_TRUE(f) << p;
    std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> b(c.size());
    std::memcpy(b.data(), c.data(), c.size());
    if (r)
        b = std::vector<std::byte>(b.begin() + static_cast<std::ptrdiff_t>(r->offset),
                                   b.begin() + static_cast<std::ptrdiff_t>(r->offset + r->length));
    return b;
}

// The local decode of a variant: init + (decrypted) segments concatenated, decoded by
// kithara::decode from memory (seekable, probed: not the sequential path the stream uses).
inline pcm local_decode(const std::string& dir, const std::string& playlist) {
    const auto base = fixtures / dir;
    auto p = hls::read_playlist_file(base / playlist).value();
    const auto& m = p.content.media();
    std::vector<std::byte> all;
    std::uint32_t map = hls::no_index;
    for (const auto& s : m.segments) {
        if (s.map != map && s.map != hls::no_index) {
            auto init = read_bytes(base / m.maps[s.map].uri, m.maps[s.map].range);
            all.insert(all.end(), init.begin(), init.end());
        }
        map = s.map;
        auto seg = read_bytes(base / s.uri, s.range);
        if (const auto* k = m.key_of(s)) {
            auto key = read_bytes(base / k->uri);
            std::vector<std::uint8_t> key8(16);
            std::memcpy(key8.data(), key.data(), 16);
            const auto iv = k->iv ? *k->iv : hls::hls_iv(s.media_sequence);
            seg = hls::aes128_cbc_decrypt(seg, key8, iv).value();
        }
        all.insert(all.end(), seg.begin(), seg.end());
    }
    auto dec = decode::decoder::open(stream::memory_source::create(all)).value();
    pcm out;
    for (;;) {
        auto c = dec->next();
        if (!c) {
            out.failure = c.error();
            break;
        }
        if (!*c) break;
        out.rate = (*c)->sample_rate;
        out.channels = (*c)->channels;
        out.samples.insert(out.samples.end(), (*c)->samples.begin(), (*c)->samples.end());
    }
    return out;
}

inline double snr_db(const float* a, const float* ref, std::size_t n) {
    double err = 0, sig = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(a[i]) - ref[i];
        err += d * d;
        sig += static_cast<double>(ref[i]) * ref[i];
    }
    return 10 * std::log10(std::max(sig, 1e-30) / std::max(err, 1e-30));
}

inline std::string read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Events, recorded from the io thread (or the caller's), waited on by the test.
class event_log {
public:
    void record(const hls::event& e) {
        std::lock_guard lock(m_);
        events_.push_back(e);
        cv_.notify_all();
    }
    std::function<void(const hls::event&)> callback() {
        return [this](const hls::event& e) { record(e); };
    }
    [[nodiscard]] std::vector<hls::event> of(hls::event_kind k) const {
        std::lock_guard lock(m_);
        std::vector<hls::event> out;
        for (const auto& e : events_)
            if (e.kind == k) out.push_back(e);
        return out;
    }
    [[nodiscard]] std::vector<hls::event> all() const {
        std::lock_guard lock(m_);
        return events_;
    }

private:
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::vector<hls::event> events_;
};

// "dir/playlist" as a test name suffix.
inline std::string case_name(const std::string& dir, const std::string& playlist) {
    std::string n = dir + "_" + playlist;
    for (auto& ch : n)
        if (ch == '.' || ch == '/') ch = '_';
    return n;
}

}  // namespace kithara::hls_test
