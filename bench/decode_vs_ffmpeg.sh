#!/bin/sh
# Decode throughput of kithara::decode against the ffmpeg CLI on the same files.
#   bench/decode_vs_ffmpeg.sh [build/default]
# Generates 60 s stereo 44.1 kHz test files (48 kHz for Opus) in $KITHARA_BENCH_MEDIA
# (default /tmp/kithara-bench-media), then for each file prints the best of 5 runs of
#   ffmpeg -i FILE -f f32le - >/dev/null          (FFmpeg: demux, decode, convert to float)
# and decode_bench's per-file median (pread source, interleaved float32 at the native rate), with
# one codec thread (the default) and with FFmpeg's automatic threading (codec_threads = 0, what the
# CLI uses; only frame-threaded decoders such as FLAC and ALAC use it).
# ffmpeg_rtime_ms is FFmpeg's own -benchmark "rtime" (the transcode loop, without process start-up
# and probing); ffmpeg_wall_ms is the whole process. ratio = ffmpeg rtime / kithara time
# (>= 1: kithara is at least as fast as FFmpeg's own loop).
set -eu
build=${1:-build/default}
media=${KITHARA_BENCH_MEDIA:-/tmp/kithara-bench-media}
export KITHARA_BENCH_MEDIA=$media
mkdir -p "$media"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
src="-f lavfi -i aevalsrc=exprs=0.3*sin(2*PI*440*t)+0.2*sin(2*PI*(200*t+40*t*t))|0.3*sin(2*PI*660*t)+0.2*sin(2*PI*(300*t+30*t*t)):s=44100:d=60"
src48="-f lavfi -i aevalsrc=exprs=0.3*sin(2*PI*440*t)+0.2*sin(2*PI*(200*t+40*t*t))|0.3*sin(2*PI*660*t)+0.2*sin(2*PI*(300*t+30*t*t)):s=48000:d=60"
bx="-fflags +bitexact -flags:a +bitexact -map_metadata -1"
[ -f "$media/bench.wav" ] || {
    ff $src $bx -c:a pcm_s16le "$media/bench.wav"
    ff $src $bx -c:a flac "$media/bench.flac"
    ff $src $bx -c:a libmp3lame -b:a 192k "$media/bench.mp3"
    ff $src $bx -c:a aac -b:a 160k "$media/bench.m4a"
    ff $src $bx -c:a aac -b:a 160k -f adts "$media/bench.aac"
    ff $src $bx -c:a aac -b:a 160k -f mpegts "$media/bench_aac.ts"
    ff $src $bx -c:a libvorbis -q:a 5 "$media/bench.ogg"
    ff $src48 $bx -c:a libopus -b:a 128k "$media/bench.opus"
    ff $src $bx -c:a alac "$media/bench_alac.m4a"
}
out=$("$build/bench/decode_bench" --benchmark_filter='^decode' --benchmark_repetitions=5 \
      --benchmark_report_aggregates_only=true --benchmark_format=csv 2>/dev/null)
printf '%-16s %14s %15s %11s %8s %14s %8s\n' file ffmpeg_wall_ms ffmpeg_rtime_ms kithara_ms ratio kithara_auto_ms ratio
for f in "$media"/bench*; do
    name=$(basename "$f")
    best=
    rbest=
    for i in 1 2 3 4 5; do
        s=$(date +%s%N)
        r=$(ffmpeg -nostdin -benchmark -i "$f" -f f32le - 2>&1 >/dev/null |
            sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p')
        e=$(date +%s%N)
        t=$(( (e - s) / 1000 ))
        if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
        rbest=$(awk -v a="$rbest" -v b="$r" 'BEGIN { print (a == "" || b < a) ? b : a }')
    done
    # decode_bench median (ms): the "_median" aggregate row, real_time column.
    k=$(printf '%s\n' "$out" | grep "^\"decode/${name}_median\"" | cut -d, -f3)
    a=$(printf '%s\n' "$out" | grep "^\"decode_auto_threads/${name}_median\"" | cut -d, -f3)
    awk -v n="$name" -v f="$best" -v r="$rbest" -v k="$k" -v a="$a" \
        'BEGIN { printf "%-16s %14.2f %15.2f %11.2f %8.2f %14.2f %8.2f\n", n, f / 1000, r * 1000, k, (r * 1000) / k, a, (r * 1000) / a }'
done
