#!/usr/bin/env bash
# Allocations and instruction counts of a whole HLS VOD playback: hls_playback against
# `ffmpeg -i URL -f s16le -`, the 180 s stream of bench/lib/hls_bench.sh (fMP4 and MPEG-TS, AAC
# 128k, 6 s segments) over nginx on loopback, PCM to /dev/null.
#
#   bench/hls_alloc.sh [build-dir=build/default]
#
# Per stream and program: heap blocks allocated in total and per second of audio, bytes
# allocated, peak heap (valgrind --tool=dhat), and instructions executed (valgrind
# --tool=callgrind, which does not drift with machine noise). hls_playback starts with an empty
# cache each run. KITHARA_BENCH_KEEP=DIR keeps the dhat and callgrind outputs there (for
# dh_view.html and callgrind_annotate). Needs: valgrind, ffmpeg, nginx-light.
# shellcheck disable=SC2154 # port: set through printf -v by bench/lib/hls_bench.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
source "$root/bench/lib/hls_bench.sh"
hls_bench_init "$build"
hls_bench_nginx www port
seconds=$hls_bench_seconds
keep=${KITHARA_BENCH_KEEP:-}
[[ -n $keep ]] && mkdir -p "$keep"
echo "$(hls_bench_load); nginx :$port"

# Valgrind 3.19 (Debian 12) stops at RDTSCP, which libhwy's initializer runs to time itself;
# Debian's libavcodec pulls libhwy in through libjxl, so the ffmpeg CLI and a system-FFmpeg
# hls_playback both die under it. A preloaded stand-in for that one function (called through
# the PLT) lets them run; no audio path uses libhwy.
preload=""
if [[ $(ldd "$hp" "$(command -v ffmpeg)") == *libhwy* ]]; then
    printf '#include <cstdint>\nnamespace hwy::platform { std::uint64_t TimerResolution() { return 1; } }\n' \
        > "$work/hwy_shim.cpp"
    ${CXX:-g++} -O2 -shared -fPIC -o "$work/hwy_shim.so" "$work/hwy_shim.cpp"
    preload=$work/hwy_shim.so
    echo "(libhwy's TimerResolution replaced by a stand-in under valgrind: RDTSCP)"
fi

# measure <label> <cmd...>: dhat totals and callgrind instruction count of one run each.
measure() {
    local label=$1 dh=/dev/null cg=/dev/null
    shift
    if [[ -n $keep ]]; then
        dh=$keep/dhat.${label// /_}.json
        cg=$keep/callgrind.${label// /_}.out
    fi
    rm -rf "$work/cache"
    env ${preload:+LD_PRELOAD=$preload} valgrind --tool=dhat --dhat-out-file="$dh" "$@" \
        2> "$work/dhat.txt" > /dev/null
    local total peak
    total=$(sed -n 's/.*Total: *\([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p' "$work/dhat.txt" | tr -d ,)
    peak=$(sed -n 's/.*At t-gmax: *\([0-9,]*\) bytes.*/\1/p' "$work/dhat.txt" | tr -d ,)
    rm -rf "$work/cache"
    env ${preload:+LD_PRELOAD=$preload} valgrind --tool=callgrind --callgrind-out-file="$cg" "$@" \
        2> "$work/cg.txt" > /dev/null
    local ir
    ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$work/cg.txt")
    read -r bytes blocks <<< "$total"
    awk -v l="$label" -v b="$blocks" -v by="$bytes" -v p="$peak" -v i="$ir" -v s="$seconds" \
        -v load="$(hls_bench_load)" 'BEGIN {
        printf "%-22s blocks %8d (%5.0f per s of audio)  bytes %6.1f MB  peak heap %5.2f MB  instructions %7.1f M  %s\n",
            l, b, b / s, by / 1e6, p / 1e6, i / 1e6, load }'
}

for s in ${KITHARA_BENCH_STREAMS:-a128 ts128}; do
    url=http://127.0.0.1:$port/long/$s.m3u8
    measure "$s kithara" "$hp" "$url" --out - --format s16le --quiet --cache-dir "$work/cache"
    measure "$s ffmpeg" ffmpeg -nostdin -loglevel error -i "$url" -f s16le -
done
