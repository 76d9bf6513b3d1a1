// In-band timed metadata at play time: ID3 tags inside packed-audio segments (between audio
// frames, not only at the start), in the timed-metadata stream of MPEG-TS segments (placed by
// PTS) and ID3 messages in fMP4 `emsg` boxes (version 0, and version 1 placed through the
// init's timescale and the fragment's decode time; a repeated id fires once) reach stream_options::on_metadata with the chunk their presentation time falls in, in
// order, and again after a seek (the item in effect first); the audio stays whole (the PCM equals
// the untagged stream's, sample for sample). The streams are the fixtures with tags written into
// them, served by the test server.
#include "hls_support.hpp"
#include "ts_metadata_builders.hpp"

#include <kithara/hls/hls_stream.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>

namespace kithara::hls_test {
namespace {

using bytes = std::vector<std::uint8_t>;

bytes load(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return bytes(std::istreambuf_iterator<char>(f), {});
}
void save(const fs::path& p, const bytes& b) {
    std::ofstream f(p, std::ios::binary);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
std::vector<std::byte> as_std_bytes(const bytes& b) {
    std::vector<std::byte> r(b.size());
    std::transform(b.begin(), b.end(), r.begin(), [](std::uint8_t x) { return std::byte{x}; });
    return r;
}
void put32(bytes& b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}
void put_syncsafe(bytes& b, std::size_t v) {
    for (int s = 21; s >= 0; s -= 7) b.push_back(static_cast<std::uint8_t>((v >> s) & 0x7f));
}

// An ID3v2.4 tag with a TPE1 (artist) and a TIT2 (title) frame, UTF-8; `song` is "Artist - Title".
bytes id3_song(const std::string& song) {
    const auto dash = song.find(" - ");
    bytes frames;
    for (const auto& [id, text] :
         {std::pair{"TPE1", song.substr(0, dash)}, std::pair{"TIT2", song.substr(dash + 3)}}) {
        frames.insert(frames.end(), id, id + 4);
        put_syncsafe(frames, text.size() + 1);
        frames.insert(frames.end(), {0, 0, 3});
        frames.insert(frames.end(), text.begin(), text.end());
    }
    bytes tag = {'I', 'D', '3', 4, 0, 0};
    put_syncsafe(tag, frames.size());
    tag.insert(tag.end(), frames.begin(), frames.end());
    return tag;
}

// The size of the ID3v2 tag at the start of `b` (0 when none).
std::size_t leading_tag(const bytes& b) {
    if (b.size() < 10 || std::memcmp(b.data(), "ID3", 3) != 0) return 0;
    const std::size_t n =
        (std::size_t{b[6]} << 21) | (std::size_t{b[7]} << 14) | (std::size_t{b[8]} << 7) | b[9];
    return 10 + n + ((b[5] & 0x10) ? 10 : 0);
}

// `b` with `tag` inserted before its ADTS frame number `frame` (after the leading tag).
bytes insert_before_frame(const bytes& b, std::size_t frame, const bytes& tag) {
    std::size_t at = leading_tag(b);
    for (std::size_t k = 0; k < frame; ++k) {
        EXPECT_TRUE(at + 7 <= b.size() && b[at] == 0xff && (b[at + 1] & 0xf0) == 0xf0) << at;
        const std::size_t len =
            (std::size_t{b[at + 3] & 3u} << 11) | (std::size_t{b[at + 4]} << 3) | (b[at + 5] >> 5);
        at += len;
    }
    bytes out(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(at));
    out.insert(out.end(), tag.begin(), tag.end());
    out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(at), b.end());
    return out;
}

// The scheme of an ID3 message, and an empty value (NUL-terminated strings).
void put_id3_scheme(bytes& body) {
    const std::string scheme = "https://aomedia.org/emsg/ID3";
    body.insert(body.end(), scheme.begin(), scheme.end());
    body.push_back(0);
    body.push_back(0);  // value ""
}

// An emsg box: `body` (version, flags, fields) and the ID3 tag of `title` as its message.
bytes emsg_box(bytes body, const std::string& title) {
    const auto tag = id3_song(title);
    body.insert(body.end(), tag.begin(), tag.end());
    bytes box;
    put32(box, static_cast<std::uint32_t>(body.size() + 8));
    box.insert(box.end(), {'e', 'm', 's', 'g'});
    box.insert(box.end(), body.begin(), body.end());
    return box;
}

// An emsg version 0 box whose message is an ID3 tag titled `title`.
bytes emsg_v0(std::uint32_t id, std::uint32_t delta_ms, const std::string& title) {
    bytes body = {0, 0, 0, 0};  // version 0, flags
    put_id3_scheme(body);
    put32(body, 1000);  // timescale
    put32(body, delta_ms);
    put32(body, 0xffffffff);  // duration unknown
    put32(body, id);
    return emsg_box(std::move(body), title);
}

struct seen {
    hls::timed_metadata item;
    std::size_t chunk;  // the index of the chunk next() returned right after
};

struct played {
    pcm audio;
    std::vector<seen> items;
    std::vector<std::pair<double, double>> spans;  // each chunk's [start, end), seconds
};

struct served {
    fs::path dir;
    std::optional<kithara::test::http_server> srv;
    explicit served(const std::string& name) {
        dir = fs::temp_directory_path() /
              ("kithara_inband_" + name + "_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void start() { srv.emplace(dir); }
    // Serves `playlist` of the fixture directory `src` twice: as it is, and as "tagged.m3u8"
    // whose segments are edit(k, bytes) under "tagged_<name>" (other files of `src` the playlist
    // names, such as an init section, copied as they are). Returns the segments' start times.
    std::vector<double> publish(const fs::path& src, const std::string& playlist,
                                const std::function<bytes(std::size_t, bytes)>& edit) {
        auto ref = hls::read_playlist_file(src / playlist).value();
        const auto& m = ref.content.media();
        std::string body = read_file(src / playlist);
        std::string tagged = body;
        std::vector<double> starts;
        double t0 = 0;
        for (std::size_t k = 0; k < m.segments.size(); ++k) {
            const auto& uri = m.segments[k].uri;
            starts.push_back(t0);
            t0 += m.segments[k].duration;
            auto b = load(src / uri);
            save(dir / uri, b);
            save(dir / ("tagged_" + uri), edit(k, std::move(b)));
            const auto at = tagged.find("\n" + uri + "\n");
            EXPECT_NE(at, std::string::npos) << uri;
            if (at != std::string::npos) tagged.replace(at + 1, uri.size(), "tagged_" + uri);
        }
        for (const auto& map : m.maps) fs::copy_file(src / map.uri, dir / map.uri);
        save(dir / playlist, bytes(body.begin(), body.end()));
        save(dir / "tagged.m3u8", bytes(tagged.begin(), tagged.end()));
        start();
        return starts;
    }
    ~served() {
        srv.reset();
        fs::remove_all(dir);
    }
    played play_both(const std::string& playlist, const std::string& name);
    played play(const std::string& playlist, const std::string& cache_name) {
        client_env c(cache_name);
        played p;
        hls::stream_options so;
        so.on_metadata = [&](const hls::timed_metadata& m) {
            p.items.push_back({m, p.spans.size()});
        };
        auto s = hls::open(srv->url("/" + playlist), *c.store, *c.client, so);
        EXPECT_TRUE(s) << s.error().message();
        if (!s) return p;
        for (;;) {
            auto ch = (*s)->next();
            EXPECT_TRUE(ch) << ch.error().message();
            if (!ch || !*ch) break;
            const double b = std::chrono::duration<double>((*ch)->start).count();
            p.spans.emplace_back(b, b + static_cast<double>((*ch)->frames()) / (*ch)->sample_rate);
            p.audio.rate = (*ch)->sample_rate;
            p.audio.channels = (*ch)->channels;
            p.audio.samples.insert(p.audio.samples.end(), (*ch)->samples.begin(),
                                   (*ch)->samples.end());
        }
        return p;
    }
};

// Plays the untagged playlist and "tagged.m3u8"; the audio is whole (the tags are not audio:
// the same PCM, sample for sample). Returns the tagged play.
played served::play_both(const std::string& playlist, const std::string& name) {
    const auto plain = play(playlist, name + "_plain");
    auto p = play("tagged.m3u8", name + "_tagged");
    EXPECT_GT(plain.audio.frames(), 0u);
    EXPECT_EQ(p.audio.frames(), plain.audio.frames());
    EXPECT_EQ(sha256(p.audio.samples), sha256(plain.audio.samples));
    return p;
}

// Each item was announced with the chunk its time falls in, or at most one chunk later (a tag
// is whole only once the decoder read past it).
void expect_on_time(const played& p) {
    for (std::size_t i = 0; i < p.items.size(); ++i) {
        const auto& g = p.items[i];
        ASSERT_LT(g.chunk, p.spans.size()) << i;
        const auto [b, e] = p.spans[g.chunk];
        const double chunk = e - b;
        EXPECT_LE(b, g.item.time + chunk + 1e-6) << i << " at " << g.item.time;
        EXPECT_GT(e, g.item.time) << i << " at " << g.item.time;
        if (i > 0) {
            EXPECT_LE(p.items[i - 1].item.time, g.item.time) << i;
        }
    }
}

// Artist and title of id3_song(song) ("Artist - Title").
void expect_names(const hls::timed_metadata& m, const std::string& song, std::size_t which) {
    const auto dash = song.find(" - ");
    EXPECT_EQ(m.artist, song.substr(0, dash)) << which;
    EXPECT_EQ(m.title, song.substr(dash + 3)) << which;
}

// An ID3 item from id3_song(song) ("Artist - Title") at `want` seconds.
void expect_song(const hls::timed_metadata& m, double want, const std::string& song,
                 std::size_t i) {
    EXPECT_EQ(m.from, hls::timed_metadata::source::id3) << i;
    EXPECT_NEAR(m.time, want, 1e-6) << i;
    expect_names(m, song, i);
}

// An emsg item of `version` with `id` whose ID3 message is id3_song(song), at `want` seconds.
void expect_emsg(const hls::timed_metadata& m, std::uint8_t version, std::uint32_t id, double want,
                 const std::string& song) {
    EXPECT_EQ(m.from, hls::timed_metadata::source::emsg) << id;
    ASSERT_TRUE(m.emsg) << id;
    EXPECT_EQ(m.emsg->version, version) << id;
    EXPECT_EQ(m.emsg->id, id);
    EXPECT_NEAR(m.time, want, 1e-6) << id;
    expect_names(m, song, id);
}

TEST(hls_inband_metadata, id3_tags_between_packed_audio_frames_play_at_their_sample) {
    served s("packed");
    const auto src = fixtures / "packed_adts";
    auto ref = hls::read_playlist_file(src / "index.m3u8").value();
    const auto& segs = ref.content.media().segments;
    ASSERT_EQ(segs.size(), 5u);
    // Tags: segment 1 before its frame 20, segment 3 before frames 10 and 60.
    struct placed {
        std::size_t seg, frame;
        std::string title;
    };
    const std::vector<placed> tags = {{1, 20, "Artist A - Song One"},
                                      {3, 10, "Artist B - Song Two"},
                                      {3, 60, "Artist C - Three"}};
    const auto starts = s.publish(src, "index.m3u8", [&](std::size_t k, bytes b) {
        for (auto it = tags.rbegin(); it != tags.rend(); ++it)
            if (it->seg == k) b = insert_before_frame(b, it->frame, id3_song(it->title));
        return b;
    });
    auto p = s.play_both("index.m3u8", "inband");

    ASSERT_EQ(p.items.size(), tags.size());
    for (std::size_t i = 0; i < tags.size(); ++i) {
        const auto& m = p.items[i].item;
        expect_song(m, starts[tags[i].seg] + static_cast<double>(tags[i].frame) * 1024.0 / 44100.0,
                    tags[i].title, i);
        ASSERT_EQ(m.frames.size(), 2u);
        EXPECT_EQ(m.frames[1].id, "TIT2");
    }
    expect_on_time(p);
}

TEST(hls_inband_metadata, a_seek_announces_the_tag_in_effect_first) {
    served s("packed_seek");
    const auto src = fixtures / "packed_adts";
    auto ref = hls::read_playlist_file(src / "index.m3u8").value();
    const auto& segs = ref.content.media().segments;
    std::string body = read_file(src / "index.m3u8");
    double seg3 = 0;
    for (std::size_t k = 0; k < segs.size(); ++k) {
        if (k < 3) seg3 += segs[k].duration;
        auto b = load(src / segs[k].uri);
        if (k == 1) b = insert_before_frame(b, 5, id3_song("One - First"));
        if (k == 3) b = insert_before_frame(b, 10, id3_song("Two - Second"));
        save(s.dir / segs[k].uri, b);
    }
    save(s.dir / "index.m3u8", bytes(body.begin(), body.end()));
    s.start();
    client_env c("inband_seek");
    std::vector<hls::timed_metadata> got;
    hls::stream_options so;
    so.on_metadata = [&](const hls::timed_metadata& m) { got.push_back(m); };
    auto st = hls::open(s.srv->url("/index.m3u8"), *c.store, *c.client, so);
    ASSERT_TRUE(st) << st.error().message();
    // Straight into segment 3, past its tag: the tag comes first, with the first chunk.
    const double tag_time = seg3 + 10 * 1024.0 / 44100.0;
    ASSERT_TRUE((*st)->seek(tag_time + 0.5));
    auto ch = (*st)->next();
    ASSERT_TRUE(ch && *ch);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NEAR(got[0].time, tag_time, 1e-6);
    EXPECT_EQ(got[0].title, "Second");
    EXPECT_EQ(got[0].artist, "Two");
    // Back to the start: segment 1's tag in its turn, segment 3's again after it.
    got.clear();
    ASSERT_TRUE((*st)->seek(0));
    for (;;) {
        auto c2 = (*st)->next();
        ASSERT_TRUE(c2) << c2.error().message();
        if (!*c2) break;
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].title, "First");
    EXPECT_EQ(got[1].title, "Second");
}

TEST(hls_inband_metadata, emsg_id3_events_in_fmp4_play_once_at_their_time) {
    served s("emsg");
    const auto src = fixtures / "fmp4_multi";
    auto ref = hls::read_playlist_file(src / "a128.m3u8").value();
    const auto& segs = ref.content.media().segments;
    ASSERT_GE(segs.size(), 4u);
    // Segment 1: id 7 at 0.5 s; segment 2 repeats id 7 (as a packager repeats an event into
    // every segment it spans) and adds id 8 at 1.0 s.
    const auto starts = s.publish(src, "a128.m3u8", [](std::size_t k, bytes b) {
        bytes boxes;
        if (k == 1) boxes = emsg_v0(7, 500, "One - Seven");
        if (k == 2) {
            boxes = emsg_v0(7, 0, "One - Seven");
            const auto second = emsg_v0(8, 1000, "Two - Eight");
            boxes.insert(boxes.end(), second.begin(), second.end());
        }
        b.insert(b.begin(), boxes.begin(), boxes.end());
        return b;
    });
    auto p = s.play_both("a128.m3u8", "emsg");
    ASSERT_EQ(p.items.size(), 2u);
    expect_emsg(p.items[0].item, 0, 7, starts[1] + 0.5, "One - Seven");
    expect_emsg(p.items[1].item, 0, 8, starts[2] + 1.0, "Two - Eight");
    expect_on_time(p);
}

TEST(hls_inband_metadata, id3_in_the_timed_metadata_stream_of_ts_segments_plays_at_its_pts) {
    served s("ts");
    const auto src = fixtures / "ts_aac";
    struct placed {
        std::size_t seg;
        double after;  // seconds after the segment's first audio PTS
        std::string title;
    };
    const std::vector<placed> tags = {{0, 0.0, "Station - Intro"},
                                      {1, 0.75, "Artist A - Song One"},
                                      {3, 0.25, "Artist B - Song Two"},
                                      {3, 1.5, "Artist C - Three"}};
    const auto starts = s.publish(src, "index.m3u8", [&](std::size_t k, bytes b) {
        std::vector<kithara::test::ts_id3_at> at;
        for (const auto& t : tags)
            if (t.seg == k) at.push_back({t.after, as_std_bytes(id3_song(t.title))});
        if (at.empty()) return b;
        const auto out = kithara::test::ts_with_id3(as_std_bytes(b), at);
        bytes r(out.size());
        std::transform(out.begin(), out.end(), r.begin(),
                       [](std::byte x) { return static_cast<std::uint8_t>(x); });
        return r;
    });
    auto p = s.play_both("index.m3u8", "ts");

    ASSERT_EQ(p.items.size(), tags.size());
    for (std::size_t i = 0; i < tags.size(); ++i)
        expect_song(p.items[i].item, starts[tags[i].seg] + tags[i].after, tags[i].title, i);
    expect_on_time(p);
}

// The 32- or 64-bit field of the first `type` full box in `b`, `skip` bytes after its version and
// flags (64-bit when the version is 1 and `wide`); found by scanning for the type (test files
// hold it once).
std::uint64_t box_field(const bytes& b, const char* type, std::size_t skip_v0, std::size_t skip_v1,
                        bool wide) {
    const auto it = std::search(b.begin(), b.end(), type, type + 4);
    EXPECT_NE(it, b.end()) << type;
    if (it == b.end()) return 0;
    const auto at = static_cast<std::size_t>(it - b.begin()) + 4;
    const bool v1 = b[at] == 1;
    std::size_t p = at + 4 + (v1 ? skip_v1 : skip_v0);
    const int n = v1 && wide ? 8 : 4;
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | b[p + static_cast<std::size_t>(i)];
    return v;
}

// An emsg version 1 box at `ticks` (absolute, in `timescale`) whose message is an ID3 tag.
bytes emsg_v1(std::uint32_t id, std::uint32_t timescale, std::uint64_t ticks,
              const std::string& title) {
    bytes body = {1, 0, 0, 0};
    put32(body, timescale);
    put32(body, static_cast<std::uint32_t>(ticks >> 32));
    put32(body, static_cast<std::uint32_t>(ticks));
    put32(body, 0xffffffff);
    put32(body, id);
    put_id3_scheme(body);
    return emsg_box(std::move(body), title);
}

TEST(hls_inband_metadata, emsg_version_1_events_play_at_their_media_time) {
    served s("emsg_v1");
    const auto src = fixtures / "fmp4_multi";
    auto ref = hls::read_playlist_file(src / "a128.m3u8").value();
    const auto& m = ref.content.media();
    ASSERT_GE(m.segments.size(), 4u);
    ASSERT_FALSE(m.maps.empty());
    // The track's timescale (mdhd: after creation and modification times) and each segment's
    // decode time (tfdt) as the packager wrote them.
    const auto timescale =
        static_cast<std::uint32_t>(box_field(load(src / m.maps[0].uri), "mdhd", 8, 16, false));
    ASSERT_GT(timescale, 0u);
    // Segment 1: id 31 half a second in; segment 2: id 31 again (a repeat) and id 32 at 1.25 s.
    const auto starts = s.publish(src, "a128.m3u8", [&](std::size_t k, bytes b) {
        const std::uint64_t tfdt = box_field(b, "tfdt", 0, 0, true);
        bytes boxes;
        if (k == 1) boxes = emsg_v1(31, timescale, tfdt + timescale / 2, "One - Thirty-one");
        if (k == 2) {
            boxes = emsg_v1(31, timescale, tfdt, "One - Thirty-one");
            const auto second =
                emsg_v1(32, timescale, tfdt + timescale + timescale / 4, "Two - Thirty-two");
            boxes.insert(boxes.end(), second.begin(), second.end());
        }
        b.insert(b.begin(), boxes.begin(), boxes.end());
        return b;
    });
    auto p = s.play_both("a128.m3u8", "emsg_v1");
    ASSERT_EQ(p.items.size(), 2u);
    expect_emsg(p.items[0].item, 1, 31, starts[1] + 0.5, "One - Thirty-one");
    expect_emsg(p.items[1].item, 1, 32, starts[2] + 1.25, "Two - Thirty-two");
    expect_on_time(p);
}

}  // namespace
}  // namespace kithara::hls_test
