// Alternate audio renditions (EXT-X-MEDIA TYPE=AUDIO) over the test server: the rendition chosen
// by the application's preferences plays (checked by content: the fixture's two languages are
// different signals, and each rendition's PCM is compared with its reference decode), only its
// playlists and segments are requested, never the variants' own (video) URIs, and ABR across
// tiers with one group per bit rate keeps the rendition.
#include "hls_support.hpp"

#include <kithara/hls/error.hpp>
#include <kithara/hls/hls_stream.hpp>
#include <test_server.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
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

// select_audio() at run time: the rendition changes at the end of the segment being played, the
// timeline stays whole (every frame once, chunk starts contiguous), the PCM before the switch is
// English and after it German (each close to its own local decode: the new decoder was primed),
// and one rendition_switched event marks the first German chunk.
void switch_at_run_time(hls::abr_mode mode, const std::string& name) {
    env e(name);
    hls::stream_options o;
    o.abr.mode = mode;
    std::mutex m;
    std::vector<hls::event> switched;
    o.on_event = [&](const hls::event& ev) {
        if (ev.kind != hls::event_kind::rendition_switched) return;
        std::lock_guard lock(m);
        switched.push_back(ev);
    };
    auto s = hls::open(e.srv->url("/renditions/master.m3u8"), *e.store, *e.client, o);
    ASSERT_TRUE(s) << s.error().message();
    auto audio = drain(**s, 44100 * 5);  // 5 s of English
    ASSERT_FALSE(audio.failure);
    const std::size_t requests_before = e.srv->log().size();
    hls::audio_preferences de;
    de.languages = {"de"};
    ASSERT_TRUE((*s)->select_audio(de));
    const auto rest = drain(**s);
    ASSERT_FALSE(rest.failure) << rest.failure->message();
    audio.samples.insert(audio.samples.end(), rest.samples.begin(), rest.samples.end());
    audio.starts.insert(audio.starts.end(), rest.starts.begin(), rest.starts.end());
    const auto log = e.srv->log();  // before the reference plays below
    // References: each rendition played whole, on the same variant, by the same stream path.
    auto whole = [&](const std::string& lang) {
        hls::stream_options f;
        f.abr.mode = hls::abr_mode::fixed;
        f.audio.languages = {lang};
        auto w = hls::open(e.srv->url("/renditions/master.m3u8"), *e.store, *e.client, f);
        EXPECT_TRUE(w);
        return w ? drain(**w) : pcm{};
    };
    const auto en_ref = whole("en");
    const auto de_ref = whole("de");
    ASSERT_EQ(audio.frames(), en_ref.frames());
    ASSERT_EQ(de_ref.frames(), en_ref.frames());
    {
        std::lock_guard lock(m);
        ASSERT_EQ(switched.size(), 1u);
        EXPECT_EQ(switched[0].message, "Deutsch (de)");
    }
    const double at = switched[0].time;
    EXPECT_GT(at, 5.0 - 1e-6);
    EXPECT_LE(at, 8.0 + 1e-6);  // the end of the segment being played (2 s segments)
    const auto cut = static_cast<std::size_t>(std::llround(at * 44100)) * 2;
    const std::size_t fade = 44100 / 100 * 2;  // the 5 ms crossfade is within 10 ms of it
    const float* got = audio.samples.data();
    const auto before_en = snr_db(got, en_ref.samples.data(), cut - fade);
    const auto before_de = snr_db(got, de_ref.samples.data(), cut - fade);
    const auto n_after = audio.samples.size() - cut - fade;
    const auto after_de = snr_db(got + cut + fade, de_ref.samples.data() + cut + fade, n_after);
    const auto after_en = snr_db(got + cut + fade, en_ref.samples.data() + cut + fade, n_after);
    if (mode == hls::abr_mode::fixed) {
        // One variant throughout: the same decodes, sample for sample (the new decoder primed).
        EXPECT_GT(before_en, 40.0) << "before the switch: not the English play";
        EXPECT_GT(after_de, 40.0) << "after the switch: not the German play";
    } else {
        // ABR may change the tier too (64k/128k encodes of the same signal): the language is
        // told by which reference is near.
        EXPECT_GT(before_en, 8.0) << "before the switch: not English";
        EXPECT_GT(after_de, 8.0) << "after the switch: not German";
    }
    EXPECT_LT(before_de, 1.0) << "before the switch: German";
    EXPECT_LT(after_en, 1.0) << "after the switch: English";
    // Chunk starts are contiguous: no gap, no duplicate across the switch.
    ASSERT_FALSE(audio.starts.empty());
    for (std::size_t i = 1; i < audio.starts.size(); ++i)
        ASSERT_GE(audio.starts[i], audio.starts[i - 1]) << "chunk " << i;
    // The German segments requested: the one before the switch (priming the decoder) and every
    // one from the switch on, once each; no German one before that.
    const auto k = static_cast<std::size_t>(std::llround(at / 2.0));  // 2 s segments (~2.0)
    std::vector<std::size_t> german;
    for (std::size_t i = requests_before; i < log.size(); ++i) {
        const auto file = log[i].path.substr(log[i].path.rfind('/') + 1);
        if (file.starts_with("de64_") && file.ends_with(".m4s"))
            german.push_back(static_cast<std::size_t>(std::stoul(file.substr(5, 3))));
    }
    std::sort(german.begin(), german.end());
    std::vector<std::size_t> want;
    for (std::size_t j = k - 1; j <= 10; ++j) want.push_back(j);
    if (mode == hls::abr_mode::fixed) {
        EXPECT_EQ(german, want);
    } else {  // the 128k tier may play some of them: each requested at most once, none early
        for (std::size_t j = 0; j < german.size(); ++j) {
            EXPECT_GE(german[j], k - 1);
            if (j > 0) {
                EXPECT_NE(german[j], german[j - 1]);
            }
        }
    }
}

TEST(hls_renditions, select_audio_at_run_time_switches_seamlessly) {
    switch_at_run_time(hls::abr_mode::fixed, "rend_switch_fixed");
}

TEST(hls_renditions, select_audio_at_run_time_switches_seamlessly_with_abr) {
    switch_at_run_time(hls::abr_mode::automatic, "rend_switch_abr");
}

TEST(hls_renditions, select_audio_without_a_choice_is_not_supported) {
    env e("rend_none");
    auto s = hls::open(e.srv->url("/abr/master_fmp4.m3u8"), *e.store, *e.client, fixed());
    ASSERT_TRUE(s) << s.error().message();
    const auto r = (*s)->select_audio({});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), make_error_code(hls::errc::not_supported));
}

}  // namespace
}  // namespace kithara::hls_test
