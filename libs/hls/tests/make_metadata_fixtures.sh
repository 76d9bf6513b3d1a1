#!/bin/sh
# Timed-metadata test fixtures, made deterministically with the ffmpeg CLI:
#   libs/hls/tests/make_metadata_fixtures.sh <out-dir>
# Elementary streams as HLS packed audio carries them, some with the ID3v2 tag ffmpeg writes
# (-metadata title/artist), each with <name>.packets: the audio packets ffprobe counts.
#   title_v24.mp3   ID3v2.4 (UTF-8 text), MPEG-1 layer III 44.1 kHz, no Xing frame
#   title_v23.mp3   ID3v2.3 (non-ASCII text: UTF-16 with BOM), with the Xing/Info frame
#   tone22.mp3      MPEG-2 layer III 22.05 kHz (576 samples a frame), no tag
#   title.aac       ADTS AAC-LC 44.1 kHz with an ID3v2.4 tag in front (adts -write_id3v2)
#   tone.ac3        AC-3 48 kHz 192 kbit/s;  tone.eac3  E-AC-3 48 kHz
#   frag.mp4        fragmented MP4 (AAC), moof/mdat per 0.5 s, for emsg boxes inserted by tests
#   tone.ts         MPEG-TS (AAC in ADTS), for timed-metadata streams inserted by tests
set -eu
out=${1:?usage: make_metadata_fixtures.sh out-dir}
mkdir -p "$out"
cd "$out"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
src="-f lavfi -i sine=frequency=440:sample_rate=44100:duration=2"
src48="-f lavfi -i sine=frequency=440:sample_rate=48000:duration=2"
bx="-fflags +bitexact -flags:a +bitexact"
packets() { # file
    ffprobe -v error -select_streams a:0 -count_packets -show_entries stream=nb_read_packets \
        -of csv=p=0 "$1" > "$1.packets"
}
ff $src $bx -c:a libmp3lame -b:a 128k -id3v2_version 4 -write_xing 0 \
    -metadata title="Kithara Song" -metadata artist="The Testers" -metadata album="Fixtures" \
    title_v24.mp3
ff $src $bx -c:a libmp3lame -b:a 128k -id3v2_version 3 \
    -metadata title="Café Ünïcode ♪" -metadata artist="Ørjan" title_v23.mp3
ff -f lavfi -i sine=frequency=440:sample_rate=22050:duration=2 $bx -c:a libmp3lame -b:a 64k \
    -id3v2_version 0 -write_xing 0 tone22.mp3
ff $src $bx -c:a aac -b:a 96k -f adts -write_id3v2 1 -metadata title="ADTS Title" \
    -metadata artist="ADTS Artist" title.aac
ff $src48 $bx -c:a ac3 -b:a 192k tone.ac3
ff $src48 $bx -c:a eac3 -b:a 192k -f eac3 tone.eac3
ff $src $bx -c:a aac -b:a 96k -movflags frag_keyframe+empty_moov+default_base_moof \
    -frag_duration 500000 frag.mp4
ff $src $bx -c:a aac -b:a 96k -f mpegts tone.ts
for f in title_v24.mp3 title_v23.mp3 tone22.mp3 title.aac tone.ac3 tone.eac3; do packets $f; done

# Seeds for metadata_fuzz (corpus/): a mode byte (0 ID3, 1 packed audio, 2 emsg, 3 playlist;
# 010: MPEG-TS), a
# chunk-size byte, then the payload.
mkdir -p corpus
seed() { # name mode-octal payload-command...
    name=$1 mode=$2
    shift 2
    { printf "\\$mode\\077"; "$@"; } > "corpus/$name"
}
seed id3_v24 000 head -c 200 title_v24.mp3
seed id3_v23 000 head -c 200 title_v23.mp3
seed packed_adts 001 head -c 6000 title.aac
seed packed_mp3 001 head -c 6000 title_v24.mp3
seed packed_mp3_xing 001 head -c 6000 title_v23.mp3
seed packed_mp2 001 head -c 4000 tone22.mp3
seed packed_ac3 001 head -c 4000 tone.ac3
seed packed_eac3 001 head -c 4000 tone.eac3
seed fmp4 002 head -c 4000 frag.mp4
seed ts 010 head -c 6016 tone.ts
# An emsg v1 box (87 bytes) whose message is an ID3v2.4 tag with TIT2 "Song", before an mdat.
emsg() {
    printf '\000\000\000\127emsg\001\000\000\000\000\000\003\350'
    printf '\000\000\000\000\000\000\007\320\377\377\377\377\000\000\000\011'
    printf 'https://aomedia.org/emsg/ID3\000\000'
    printf 'ID3\004\000\000\000\000\000\017TIT2\000\000\000\005\000\000\003Song'
    printf '\000\000\000\014mdat\001\002\003\004'
}
seed emsg_id3 002 emsg
playlist() {
    printf '#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PROGRAM-DATE-TIME:2026-12-05T09:00:00Z\n'
    printf '#EXT-X-DATERANGE:ID="a",CLASS="c",START-DATE="2026-12-05T09:00:01.5+01:00",END-ON-NEXT=YES\n'
    printf '#EXT-X-DATERANGE:ID="b",CLASS="c",START-DATE="2026-12-05T09:00:03Z",X-TITLE="T"\n'
    printf '#EXTINF:4,title="Song",artist="Band"\na.aac\n#EXTINF:4,StreamTitle=\047A - B\047;\nb.aac\n'
}
seed playlist 003 playlist
touch stamp
