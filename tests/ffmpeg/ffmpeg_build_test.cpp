// The FFmpeg that kithara::decode links has what a player needs, and in bundled mode nothing more:
// the audio demuxers/decoders/parsers of docs/FFMPEG.md, no protocols (all I/O goes through
// Kithara's AVIOContext), no video decoders.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include <gtest/gtest.h>

#include <string>

namespace {

bool has_demuxer(const char* name) {
    return av_find_input_format(name) != nullptr;
}
bool has_decoder(const char* name) {
    return avcodec_find_decoder_by_name(name) != nullptr;
}

TEST(ffmpeg_build, has_the_audio_demuxers_a_player_needs) {
    for (const char* name :
         {"mp3", "aac", "mov", "mpegts", "flac", "ogg", "wav", "matroska", "caf"}) {
        EXPECT_TRUE(has_demuxer(name)) << name;
    }
}

TEST(ffmpeg_build, has_the_audio_decoders_a_player_needs) {
    for (const char* name : {"mp3float", "aac", "aac_latm", "flac", "opus", "vorbis", "alac", "ac3",
                             "eac3", "pcm_s16le", "pcm_f32le", "pcm_s24be"}) {
        EXPECT_TRUE(has_decoder(name)) << name;
    }
}

#ifdef KITHARA_FFMPEG_BUNDLED
TEST(ffmpeg_build, bundled_build_has_no_protocols_and_no_video) {
    void* opaque = nullptr;
    EXPECT_EQ(avio_enum_protocols(&opaque, 0), nullptr) << "input protocols compiled in";
    opaque = nullptr;
    EXPECT_EQ(avio_enum_protocols(&opaque, 1), nullptr) << "output protocols compiled in";
    for (const char* name : {"h264", "hevc", "vp9", "av1", "mpeg4", "mjpeg"}) {
        EXPECT_FALSE(has_decoder(name)) << name;
    }
    EXPECT_FALSE(has_demuxer("hls")) << "FFmpeg's own HLS demuxer must not be used";
    EXPECT_NE(std::string(avcodec_license()).find("LGPL"), std::string::npos) << avcodec_license();
}
#endif

}  // namespace
