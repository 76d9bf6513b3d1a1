// Alternate audio renditions (EXT-X-MEDIA TYPE=AUDIO) over the test server: the rendition chosen
// by the application's preferences plays (checked by content: the fixture's two languages are
// different signals, and each rendition's PCM is compared with its reference decode), only its
// playlists and segments are requested, never the variants' own (video) URIs, and ABR across
// tiers with one group per bit rate keeps the rendition.
#include "hls_support.hpp"

#include <kithara/hls/hls_stream.hpp>
#include <test_server.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <vector>

namespace kithara::hls_test {
namespace {

// The media playlist names ("en64", "de128", ...) of the fixture's requests, in order, and
// whether any request named a variant's own (video) URI.
struct requested {
    std::vector<std::string> playlists;
    std::vector<std::string> segment_prefixes;
    bool video = false;
};

requested requests_of(const kithara::test::http_server& srv) {
    requested r;
    for (const auto& l : srv.log()) {
        const auto slash = l.path.rfind('/');
        const std::string file = l.path.substr(slash + 1);
        if (l.path.find("/video/") != std::string::npos) r.video = true;
        if (file.ends_with(".m3u8") && file.rfind("master", 0) != 0)
            r.playlists.push_back(file.substr(0, file.size() - 5));
        if (file.ends_with(".m4s") || file.ends_with("_init.mp4"))
            r.segment_prefixes.push_back(file.substr(0, file.find('_')));
    }
    return r;
}

struct played {
    pcm audio;
    hls::stream_info info;
};

played play(env& e, const std::string& master, hls::stream_options o) {
    auto s = hls::open(e.srv->url("/renditions/" + master), *e.store, *e.client, o);
    EXPECT_TRUE(s) << s.error().message();
    if (!s) return {};
    played p;
    p.info = (*s)->info();
    p.audio = drain(**s);
    return p;
}

void expect_plays(const played& p, const std::string& reference_playlist) {
    ASSERT_FALSE(p.audio.failure) << p.audio.failure->message();
    const auto ref = reference("renditions", reference_playlist + ".m3u8");
    EXPECT_EQ(p.audio.frames(), ref["pcm_samples"].get<std::size_t>()) << reference_playlist;
    EXPECT_EQ(sha256(p.audio.samples), ref["pcm_sha256"].get<std::string>())
        << "the PCM is not " << reference_playlist << "'s";
}

// The mono rendition: its reference decode is upmixed to stereo (the fixture's references are),
// so the mono PCM is compared with kithara's local decode of the same segments.
void expect_plays_mono(const played& p) {
    ASSERT_FALSE(p.audio.failure) << p.audio.failure->message();
    EXPECT_EQ(p.audio.channels, 1u);
    const auto ref = reference("renditions", "enmono64.m3u8");
    EXPECT_EQ(p.audio.frames(), ref["pcm_samples"].get<std::size_t>());
    const auto local = local_decode("renditions", "enmono64.m3u8");
    ASSERT_EQ(local.channels, 1u);
    const auto n = std::min(p.audio.samples.size(), local.samples.size());
    EXPECT_GT(snr_db(p.audio.samples.data(), local.samples.data(), n), 60.0);
}

hls::stream_options fixed() {
    hls::stream_options o;
    o.abr.mode = hls::abr_mode::fixed;  // the lowest variant, one engine
    return o;
}

TEST(hls_renditions,
     without_preferences_the_default_rendition_plays_and_no_video_uri_is_requested) {
    env e("rend_default");
    const auto p = play(e, "master.m3u8", fixed());
    expect_plays(p, "en64");
    ASSERT_EQ(p.info.renditions.size(), 3u);  // the aac-64 group: English, Deutsch, mono
    ASSERT_TRUE(p.info.rendition);
    const auto& r = p.info.renditions[*p.info.rendition];
    EXPECT_EQ(r.name, "English");
    EXPECT_EQ(r.language, "en");
    EXPECT_EQ(r.group, "aac-64");
    EXPECT_EQ(r.channels, 2u);
    EXPECT_TRUE(r.is_default);
    const auto req = requests_of(*e.srv);
    EXPECT_FALSE(req.video);
    for (const auto& s : req.segment_prefixes) EXPECT_EQ(s, "en64");
}

TEST(hls_renditions, a_preferred_language_is_matched_by_rfc_4647_lookup) {
    env e("rend_lang");
    auto o = fixed();
    o.audio.languages = {"fr", "de-AT", "en"};  // no French; "de-AT" falls back to "de"
    const auto p = play(e, "master.m3u8", o);
    expect_plays(p, "de64");
    ASSERT_TRUE(p.info.rendition);
    EXPECT_EQ(p.info.renditions[*p.info.rendition].name, "Deutsch");
    for (const auto& s : requests_of(*e.srv).segment_prefixes) EXPECT_EQ(s, "de64");
}

TEST(hls_renditions, a_name_wins_over_languages_and_channels_break_ties) {
    {
        env e("rend_name");
        auto o = fixed();
        o.audio.name = "English (mono)";
        o.audio.languages = {"de"};
        const auto p = play(e, "master.m3u8", o);
        expect_plays_mono(p);
    }
    {
        env e("rend_channels");
        auto o = fixed();
        o.audio.languages = {"en"};
        o.audio.channels = 1;  // both English renditions match "en": the mono one is asked for
        const auto p = play(e, "master.m3u8", o);
        expect_plays_mono(p);
    }
    {
        env e("rend_assoc");
        auto o = fixed();
        o.audio.languages = {"en-GB"};  // LANGUAGE "en" by lookup before ASSOC-LANGUAGE "en-GB"
        const auto p = play(e, "master.m3u8", o);
        expect_plays(p, "en64");
    }
}

// ABR between the two tiers (each with its own group) keeps the language: only de64/de128 are
// requested, and the PCM is whole and continuous.
TEST(hls_renditions, abr_across_groups_keeps_the_rendition) {
    env e("rend_abr");
    hls::stream_options o;
    o.audio.languages = {"de"};
    std::atomic<int> chosen{0};
    o.on_event = [&](const hls::event& ev) {
        if (ev.kind == hls::event_kind::variant_chosen) chosen.fetch_add(1);
    };
    const auto p = play(e, "master.m3u8", o);
    ASSERT_FALSE(p.audio.failure) << p.audio.failure->message();
    EXPECT_EQ(p.audio.frames(),
              reference("renditions", "de64.m3u8")["pcm_samples"].get<std::size_t>());
    EXPECT_EQ(chosen.load(), 1);
    const auto req = requests_of(*e.srv);
    EXPECT_FALSE(req.video);
    std::set<std::string> playlists(req.playlists.begin(), req.playlists.end());
    EXPECT_EQ(playlists, (std::set<std::string>{"de64", "de128"}));
    for (const auto& s : req.segment_prefixes) EXPECT_TRUE(s == "de64" || s == "de128") << s;
    // The PCM is the German signal throughout: close to its 128k decode (AAC at 64k and 128k of
    // the same signal), far from the English one.
    const auto de = local_decode("renditions", "de128.m3u8");
    const auto en = local_decode("renditions", "en128.m3u8");
    const auto n = std::min({p.audio.samples.size(), de.samples.size(), en.samples.size()});
    EXPECT_GT(snr_db(p.audio.samples.data(), de.samples.data(), n), 10.0);
    EXPECT_LT(snr_db(p.audio.samples.data(), en.samples.data(), n), 1.0);
}

// Two video tiers sharing one AUDIO group are one audio choice: one engine, no adaptation, the
// group's rendition played once.
TEST(hls_renditions, variants_sharing_one_audio_playlist_are_one_choice) {
    env e("rend_shared");
    hls::stream_options o;
    o.audio.languages = {"de"};
    const auto p = play(e, "master_shared.m3u8", o);
    expect_plays(p, "de128");
    const auto req = requests_of(*e.srv);
    EXPECT_FALSE(req.video);
    EXPECT_EQ(req.playlists, (std::vector<std::string>{"de128"}));
}

}  // namespace
}  // namespace kithara::hls_test
