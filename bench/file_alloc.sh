#!/usr/bin/env bash
# Allocations and instruction counts of a whole progressive playback: file_playback against
# `ffmpeg -i URL -f f32le`, same files over the Kithara test server on loopback (unpaced).
#
#   bench/file_alloc.sh [build-dir=build/default]
#
# Per file and program: heap blocks allocated in total and per second of audio, bytes allocated,
# peak heap (valgrind --tool=dhat), and instructions executed (valgrind --tool=callgrind, which
# does not drift with machine noise). file_playback starts with an empty cache each run.
# Needs: valgrind, ffmpeg (scripts/install-deps.sh --bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
fp=$build/examples/file_playback
serve=$build/tests/support/kithara_serve
[[ -x $fp && -x $serve ]] || {
    echo "build first: cmake --build --preset default --target file_playback kithara_serve" >&2
    exit 1
}
work=$(mktemp -d)
cleanup() {
    [[ -n ${serve_pid:-} ]] && kill "$serve_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/root"
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
seconds=180
src="-f lavfi -i aevalsrc=exprs=0.5*sin(2*PI*(200*t+3*t*t))|0.4*sin(2*PI*(300*t+2*t*t)):s=44100:d=$seconds"
ff $src -c:a libmp3lame -b:a 192k "$work/root/track.mp3"
ff $src -c:a aac -b:a 160k "$work/root/track.m4a"
ff $src -c:a flac "$work/root/track.flac"
ff $src -c:a libopus -b:a 128k "$work/root/track.opus"
"$serve" "$work/root" --port-file "$work/port" > /dev/null &
serve_pid=$!
for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
port=$(cat "$work/port")

# measure <label> <cmd...>: dhat totals and callgrind instruction count of one run.
measure() {
    local label=$1
    shift
    rm -rf "$work/cache"
    valgrind --tool=dhat --dhat-out-file=/dev/null "$@" 2> "$work/dhat.txt" > /dev/null
    local total peak
    total=$(sed -n 's/.*Total: *\([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p' "$work/dhat.txt" | tr -d ,)
    peak=$(sed -n 's/.*At t-gmax: *\([0-9,]*\) bytes.*/\1/p' "$work/dhat.txt" | tr -d ,)
    rm -rf "$work/cache"
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2> "$work/cg.txt" > /dev/null
    local ir
    ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$work/cg.txt")
    read -r bytes blocks <<< "$total"
    awk -v l="$label" -v b="$blocks" -v by="$bytes" -v p="$peak" -v i="$ir" -v s="$seconds" 'BEGIN {
        printf "%-26s blocks %8d (%5.0f per s of audio)  bytes %6.1f MB  peak heap %5.2f MB  instructions %7.1f M\n",
            l, b, b / s, by / 1e6, p / 1e6, i / 1e6 }'
}

for f in ${KITHARA_BENCH_FILES:-track.mp3 track.m4a track.flac track.opus}; do
    url=http://127.0.0.1:$port/$f
    measure "$f kithara" "$fp" "$url" --out null --quiet --cache-dir "$work/cache"
    measure "$f ffmpeg" ffmpeg -nostdin -loglevel error -i "$url" -f f32le -y /dev/null
done
