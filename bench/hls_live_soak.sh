#!/usr/bin/env bash
# A 1-hour live stream, accelerated: hls_playback plays kithara_serve's live generator (window 6,
# 2 s TS segments looped from the abr/t128 fixture, media sequence and a discontinuity at each
# wrap) at --scale media seconds per wall second until EXT-X-ENDLIST after --hours of media, its
# PCM to null; bench/lib/live_soak.py samples the player's memory, threads, descriptors and cache
# directory once a wall second and summarises whether they stay flat.
#
#   bench/hls_live_soak.sh [--hours H=1] [--scale X=60] [--out DIR] [build-dir=build/dev]
#
# Needs: cmake --build <build-dir> --target hls_playback kithara_serve kithara_hls_fixtures.
# Output: the summary (JSON) on stdout; samples.csv, summary.json, the server's and the player's
# stderr under --out DIR (default: a new directory bench-soak-<time> in /tmp).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
hours=1 scale=60 out="" build=""
while (($#)); do
    case $1 in
    --hours) hours=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (--help)" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
build=$(cd "${build:-$root/build/dev}" && pwd)
serve=$build/tests/support/kithara_serve
player=$build/examples/hls_playback
vod=$build/tests/media/hls_fixtures/abr/t128.m3u8
for f in "$serve" "$player" "$vod"; do
    [[ -e $f ]] || {
        echo "missing $f: cmake --build $build --target hls_playback kithara_serve kithara_hls_fixtures" >&2
        exit 1
    }
done
out=${out:-$(mktemp -d -p /tmp "bench-soak-$(date -u +%H%M%S)-XXXX")}
exec /usr/bin/python3 "$root/bench/lib/live_soak.py" --serve "$serve" --vod "$vod" \
    --hours "$hours" --scale "$scale" --out "$out" -- \
    "$player" @URL@ --out null --quiet --cache-dir @CACHE@ --live-time-scale @SCALE@
