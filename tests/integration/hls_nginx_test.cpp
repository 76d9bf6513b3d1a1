// kithara::hls::open end to end against a real nginx (tests/support/nginx.sh fixture): every
// fixture variant of tests/media/hls played over HTTP, its PCM checked against reference.json.
//
// Exact (sample count and SHA-256 of the PCM equal to reference.json): MPEG-TS, packed audio,
// AES-128 TS, BYTERANGE TS, FLAC in fMP4. fMP4 AAC/Opus: sample count equal to reference.json
// (ffmpeg's decode) and to the local kithara::decode of the concatenated (decrypted) init +
// segments, whose PCM it equals bit-exact or with SNR >= 60 dB (FFmpeg's AAC/Opus decoders need
// not be bit-identical across builds). Discontinuities and gaps: the timeline's exact length.
#include "hls_support.hpp"

#include <kithara/hls/error.hpp>

#include <atomic>
#include <fstream>
#include <string>
#include <vector>

namespace kithara::hls_test {
namespace {

const std::string nginx_dir = KITHARA_NGINX_DIR;

enum class check {
    exact,          // count and SHA-256 equal reference.json
    fmp4,           // count equal to reference.json; PCM equal to the local decode
    discontinuity,  // the count exact, two discontinuity events
    gap,            // the gap rendered as silence of its EXTINF, not fetched
};

struct nginx_case {
    const char* dir;
    const char* playlist;
    check how;
};

// Every variant generate_hls.sh makes (the masters play their lowest-bandwidth variant, with
// adaptation fixed: hls_abr_test covers switching).
const nginx_case cases[] = {
    {"fmp4_multi", "a64.m3u8", check::fmp4},
    {"fmp4_multi", "a128.m3u8", check::fmp4},
    {"fmp4_multi", "a256.m3u8", check::fmp4},
    {"fmp4_multi", "ts128.m3u8", check::exact},
    {"fmp4_multi", "master.m3u8", check::fmp4},
    {"ts_aac", "index.m3u8", check::exact},
    {"ts_mp3", "index.m3u8", check::exact},
    {"packed_adts", "index.m3u8", check::exact},
    {"packed_adts", "some_untagged.m3u8", check::exact},
    {"packed_adts", "wrap.m3u8", check::exact},
    {"packed_mp3", "index.m3u8", check::exact},
    {"packed_mp3", "some_untagged.m3u8", check::exact},
    {"byterange_ts", "index.m3u8", check::exact},
    {"byterange_fmp4", "index.m3u8", check::fmp4},
    {"aes_ts", "iv_explicit.m3u8", check::exact},
    {"aes_ts", "iv_sequence.m3u8", check::exact},
    {"aes_ts", "mixed.m3u8", check::exact},
    {"aes_fmp4", "iv_explicit.m3u8", check::fmp4},
    {"aes_fmp4", "iv_sequence.m3u8", check::fmp4},
    {"aes_fmp4", "rotate.m3u8", check::fmp4},
    {"discontinuity", "index.m3u8", check::discontinuity},
    {"rate48", "index.m3u8", check::fmp4},
    {"gap", "index.m3u8", check::gap},
    {"short_tail", "aac.m3u8", check::fmp4},
    {"short_tail", "aac_ts.m3u8", check::exact},
    {"short_tail", "opus.m3u8", check::fmp4},
    {"short_tail", "small.m3u8", check::fmp4},
    {"flac_fmp4", "index.m3u8", check::exact},
    {"opus_fmp4", "index.m3u8", check::fmp4},
    {"ac3_ts", "ac3.m3u8", check::exact},
    {"ac3_ts", "eac3.m3u8", check::exact},
    {"demo", "aac48k_44.m3u8", check::fmp4},
    {"demo", "aac64k_44_ts.m3u8", check::exact},
    {"demo", "aac96k_48.m3u8", check::fmp4},
    {"demo", "aac128k_48.m3u8", check::fmp4},
    {"demo", "master.m3u8", check::fmp4},
};

// Access-log lines of this run containing tag (nginx writes a line once it answered).
std::vector<std::string> access_log(const std::string& tag) {
    std::ifstream in(nginx_dir + "/logs/access.log");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (line.find(tag) != std::string::npos) out.push_back(line);
    return out;
}

class hls_nginx : public ::testing::TestWithParam<nginx_case> {
protected:
    static void SetUpTestSuite() {
        // nginx serves <dir>/root; the fixtures appear below /hls/ (a symlink: nginx follows it).
        const fs::path link = fs::path(nginx_dir) / "root" / "hls";
        // Each test case runs as a process of its own, maybe in parallel: another one may create
        // the link between the check and the creation.
        std::error_code ec;
        if (!fs::is_symlink(link)) fs::create_directory_symlink(fixtures, link, ec);
        ASSERT_TRUE(fs::is_symlink(link)) << "cannot link " << link << ": " << ec.message();
    }
    void SetUp() override {
        std::ifstream in(nginx_dir + "/port");
        ASSERT_TRUE(in >> port_) << "nginx fixture not running (no " << nginx_dir << "/port)";
    }
    [[nodiscard]] std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + "/hls/" + path;
    }
    int port_ = 0;
};

TEST_P(hls_nginx, pcm_equals_the_reference) {
    const auto& c = GetParam();
    client_env e("nginx_" + case_name(c.dir, c.playlist));
    std::atomic<int> discontinuities{0};
    std::atomic<int> gaps{0};
    hls::stream_options o;
    o.abr.mode = hls::abr_mode::fixed;
    o.on_event = [&](const hls::event& ev) {
        discontinuities += ev.kind == hls::event_kind::discontinuity;
        gaps += ev.kind == hls::event_kind::gap;
    };
    auto s = hls::open(url(std::string(c.dir) + "/" + c.playlist), *e.store, *e.client, o);
    ASSERT_TRUE(s) << s.error().message();
    // A master plays its lowest-bandwidth variant: that variant's reference applies.
    std::string playlist = c.playlist;
    const auto info = (*s)->info();
    if (!info.variants.empty()) {
        const auto& uri = info.variants.at(info.variant).uri;
        playlist = uri.substr(uri.rfind('/') + 1);
    }
    auto got = drain(**s);
    ASSERT_FALSE(got.failure) << got.failure->message();
    const auto st = (*s)->stats();
    EXPECT_GT(st.bytes_from_network, 0u);
    EXPECT_GT(st.requests, 0u);
    const auto ref = reference(c.dir, playlist);
    const auto ref_frames = ref["pcm_samples"].get<std::size_t>();
    switch (c.how) {
        case check::exact:
            EXPECT_EQ(got.frames(), ref_frames);
            EXPECT_EQ(sha256(got.samples), ref["pcm_sha256"].get<std::string>());
            break;
        case check::fmp4: {
            auto local = local_decode(c.dir, playlist);
            ASSERT_FALSE(local.failure) << local.failure->message();
            ASSERT_EQ(got.rate, local.rate);
            ASSERT_EQ(got.frames(), local.frames());
            if (sha256(got.samples) != sha256(local.samples)) {
                EXPECT_GE(snr_db(got.samples.data(), local.samples.data(), got.samples.size()),
                          60.0);
            }
            EXPECT_EQ(got.frames(), ref_frames);
            break;
        }
        case check::discontinuity:
            EXPECT_EQ(discontinuities.load(), 2);
            EXPECT_EQ(got.frames(), ref_frames);
            break;
        case check::gap: {
            EXPECT_EQ(gaps.load(), 1);
            EXPECT_TRUE(access_log("/hls/gap/full_002.m4s").empty()) << "the gap was fetched";
            double extinf = 0;
            for (const auto& seg : ref["segments"])
                if (seg.value("gap", false)) extinf = seg["extinf"].get<double>();
            const auto silence = static_cast<std::size_t>(std::llround(extinf * got.rate));
            EXPECT_EQ(got.frames(), ref_frames + silence);
            break;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(fixtures, hls_nginx, ::testing::ValuesIn(cases),
                         [](const auto& i) { return case_name(i.param.dir, i.param.playlist); });

}  // namespace
}  // namespace kithara::hls_test
