#!/bin/sh
# Segment fixtures for the sequential/concatenation tests, made by the ffmpeg CLI's hls muxer:
# a 4 s stereo 44.1 kHz chirp cut into ~1 s segments.
#   make_segments.sh <out-dir>
#   fmp4/init.mp4 fmp4/f0.m4s..  (AAC in fMP4, EXT-X-MAP style)
#   ts_aac/s0.ts..  ts_mp3/s0.ts..  (AAC / MP3 in MPEG-TS)
#   long.opus long.ogg  (12 s Ogg, longer than the 64 KiB tail FFmpeg reads for the duration)
set -eu
out=${1:?usage: make_segments.sh out-dir}
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
src="aevalsrc=exprs=0.5*sin(2*PI*(200*t+400/3*t*t))|0.5*sin(2*PI*(200*t+400/3*t*t)):s=44100:d=4"
bx="-fflags +bitexact -flags:a +bitexact -map_metadata -1"
mkdir -p "$out/fmp4" "$out/ts_aac" "$out/ts_mp3"
(cd "$out/fmp4" && ff -f lavfi -i "$src" $bx -c:a aac -b:a 128k -f hls -hls_time 1 \
    -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 -hls_segment_filename 'f%d.m4s' \
    -hls_playlist_type vod index.m3u8)
(cd "$out/ts_aac" && ff -f lavfi -i "$src" $bx -c:a aac -b:a 128k -f hls -hls_time 1 \
    -hls_segment_filename 's%d.ts' -hls_playlist_type vod index.m3u8)
(cd "$out/ts_mp3" && ff -f lavfi -i "$src" $bx -c:a libmp3lame -b:a 128k -f hls -hls_time 1 \
    -hls_segment_filename 's%d.ts' -hls_playlist_type vod index.m3u8)
# Progressive Ogg longer than FFmpeg's 64 KiB duration tail: 12 s Opus and Vorbis.
long="aevalsrc=exprs=0.5*sin(2*PI*(200*t+30*t*t))+0.05*(random(0)-0.5)|0.4*sin(2*PI*(300*t+20*t*t))+0.05*(random(1)-0.5):s=48000:d=12"
ff -f lavfi -i "$long" $bx -c:a libopus -b:a 128k "$out/long.opus"
ff -f lavfi -i "$long" $bx -c:a libvorbis -q:a 5 "$out/long.ogg"
touch "$out/stamp"
