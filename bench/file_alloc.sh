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
source "$root/bench/lib/file_bench.sh"
file_bench_init "$build"
seconds=$bench_seconds
file_bench_tracks "$work/root"
file_bench_serve "$work/root" port

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
