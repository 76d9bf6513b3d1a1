// Shared helpers for the kithara::file end-to-end tests: fixtures, a cache directory, decoding a
// source whole, and the reference decode of a local file.
//
//   file_env env;                        // io runtime + net client + temp cache dir
//   auto store = env.open_store();       // asset_store over the temp dir
//   auto pcm = decode_all(src);          // all float samples, or the decoder's error
//
// Threads: a test's main thread; the io thread runs the client. Owns the temp directory.
#pragma once

#include <kithara/assets/asset_store.hpp>
#include <kithara/decode/decoder.hpp>
#include <kithara/file/file_source.hpp>
#include <kithara/net/client.hpp>
#include <kithara/stream/memory_source.hpp>
#include <kithara/worker/io_runtime.hpp>

#include <asio/any_io_executor.hpp>

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace kithara::test {

inline std::string media_path(const std::string& name) {
    return std::string(KITHARA_FILE_MEDIA_DIR) + "/" + name;
}

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline result<std::vector<float>> decode_all(std::shared_ptr<stream::source> src,
                                             std::optional<std::chrono::nanoseconds> seek = {}) {
    decode::decoder_options o;
    o.reader.timeout = std::chrono::milliseconds(20'000);
    auto dec = decode::decoder::open(std::move(src), o);
    if (!dec) return fail(dec.error());
    if (seek) {
        if (auto r = (*dec)->seek(*seek); !r) return fail(r.error());
    }
    std::vector<float> out;
    for (;;) {
        auto c = (*dec)->next();
        if (!c) return fail(c.error());
        if (!*c) break;
        out.insert(out.end(), (**c).samples.begin(), (**c).samples.end());
    }
    return out;
}

inline std::vector<float> reference_pcm(const std::string& file,
                                        std::optional<std::chrono::nanoseconds> seek = {}) {
    auto bytes = read_bytes(media_path(file));
    std::vector<std::byte> v(bytes.size());
    std::memcpy(v.data(), bytes.data(), bytes.size());
    auto pcm = decode_all(stream::memory_source::create(std::move(v)), seek);
    EXPECT_TRUE(pcm) << pcm.error().message();
    return pcm ? *pcm : std::vector<float>{};
}

// Decodes src whole (from `seek`) and compares with the local file decoded the same way.
inline ::testing::AssertionResult plays_as_local(
    std::shared_ptr<stream::source> src, const std::string& file,
    std::optional<std::chrono::nanoseconds> seek = {}) {
    auto pcm = decode_all(std::move(src), seek);
    if (!pcm) return ::testing::AssertionFailure() << "decode failed: " << pcm.error().message();
    const auto want = reference_pcm(file, seek);
    if (*pcm == want) return ::testing::AssertionSuccess();
    const auto diff = std::mismatch(pcm->begin(), pcm->end(), want.begin(), want.end());
    return ::testing::AssertionFailure()
           << "PCM differs from the local decode of " << file << ": " << pcm->size() << " vs "
           << want.size() << " samples, first difference at sample " << (diff.first - pcm->begin());
}

struct file_env {
    file_env() {
        static std::atomic<int> n{0};
        dir = std::filesystem::temp_directory_path() /
              ("kithara-file-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        std::filesystem::remove_all(dir);
    }
    ~file_env() {
        client.reset();
        io.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    assets::asset_store open_store() {
        auto s = assets::asset_store::open(dir);
        EXPECT_TRUE(s) << s.error().message();
        return std::move(*s);
    }

    static file::options quick_options() {
        file::options o;
        o.request.retry.initial_backoff = std::chrono::milliseconds(10);
        o.request.retry.max_backoff = std::chrono::milliseconds(50);
        o.request.timeout.connect = std::chrono::milliseconds(2000);
        return o;
    }

    std::filesystem::path dir;
    // worker::io_runtime runs the executor inside the worker library (one Asio configuration).
    struct runtime {
        runtime() { EXPECT_TRUE(rt.start()); }
        asio::any_io_executor executor() { return rt.executor(); }
        worker::io_runtime rt;
    };
    std::optional<runtime> io{std::in_place};
    std::optional<net::client> client{std::in_place, io->executor(), net::client_options{}};
};

}  // namespace kithara::test
