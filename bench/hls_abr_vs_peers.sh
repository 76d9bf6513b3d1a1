#!/usr/bin/env bash
# Adaptive bitrate in real time: hls_playback --realtime against GStreamer playbin and playbin3,
# VLC (its adaptive demuxer, measured by the server's log only) and ffmpeg (its HLS demuxer never
# switches: the baseline), each playing the same 3-variant master (64k/128k/256k AAC) from a
# kithara_serve of its own whose one shared link follows a rate schedule; one Markdown table per
# schedule and container (bench/lib/abr_bench.py says how each figure is measured), with
# kithara's figures against issue 16's targets under the tables of A, B and C.
#
#   bench/hls_abr_vs_peers.sh <build-dir> [schedules=A B C]
#   KITHARA_BENCH_PLAYERS="kithara playbin playbin3 vlc ffmpeg"   (the default: those installed)
#   KITHARA_ABR_CONTAINERS="fmp4 ts"   KITHARA_ABR_KEEP=DIR (keep every run's JSON there)
#
# Schedules (bit/s; run length): A = 2 Mbit/s, 250 kbit/s at 30 s, 2 Mbit/s at 60 s (100 s);
# B = 400 kbit/s constant (40 s); C = 2 Mbit/s with a 100 kbit/s dip from 20 s to 30 s (45 s).
# A custom one: NAME=SCHEDULE@SECONDS, e.g. "D=0:2M,5:250k@12" (short runs to develop with).
# The stream: the `abr` fixture (<build-dir>/tests/media/hls_fixtures/abr: master_fmp4.m3u8,
# master_ts.m3u8) when it exists; else a 120 s stream of its own (abr_stream below: 2 s segments,
# fMP4 and TS, generated once per build dir); KITHARA_ABR_STREAM=DIR:MASTER picks any (e.g.
# build/dev/tests/media/hls_fixtures/fmp4_multi:master.m3u8, 19.5 s, to develop with).
# Every run plays in real time (a schedule of 100 s takes 100 s per player) with a timeout of its
# length + 30 s; the servers stop on exit. Run it under `nice -n -15` on a shared machine.
# Needs: the build targets hls_playback and kithara_serve (and kithara_hls_fixtures for the
# `abr` fixture), gstreamer1.0-plugins-good/-bad (hlsdemux), python3-gi, gir1.2-gstreamer-1.0,
# ffmpeg, vlc-bin (scripts/install-deps.sh --bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 1 ]] || { grep -m1 '^#   bench/hls_abr_vs_peers.sh' "$0" | sed 's/^# *//' >&2; exit 2; }
build=$(cd "$1" && pwd)
schedules=${2:-A B C}
hp=$build/examples/hls_playback
serve=$build/tests/support/kithara_serve
bench=$root/bench/lib/abr_bench.py
[[ -x $hp && -x $serve ]] || {
    echo "build first: cmake --build $1 --target hls_playback kithara_serve" >&2
    exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The players installed here, kithara first.
players=${KITHARA_BENCH_PLAYERS:-}
if [[ -z $players ]]; then
    players=kithara
    if /usr/bin/python3 -c 'import gi; gi.require_version("Gst", "1.0")' 2> /dev/null &&
        gst-inspect-1.0 hlsdemux > /dev/null 2>&1; then
        players+=" playbin playbin3"
    else
        echo "GStreamer left out: needs python3-gi, gir1.2-gstreamer-1.0, gstreamer1.0-plugins-bad" >&2
    fi
    command -v cvlc > /dev/null && command -v setpriv > /dev/null && players+=" vlc"
    command -v ffmpeg > /dev/null && players+=" ffmpeg"
fi

# abr_stream <dir>: the fallback stream, generated once per build dir (a stamp names the recipe):
# 120 s of the sweeps of bench/lib/hls_bench.sh (stereo 44.1 kHz), AAC-LC at 64k, 128k and 256k,
# 2 s segments (as the fixtures of tests/media/hls), in fMP4 and in MPEG-TS, and a master per
# container (BANDWIDTH = the peak segment bit rate, AVERAGE-BANDWIDTH the mean, as the fixtures').
abr_stream() {
    local dir=$1 recipe="abr120 v1: sweeps 44.1k 120 s, hls_time 2, a64/a128/a256 fmp4 + ts"
    if [[ ! -f $dir/stamp || $(cat "$dir/stamp") != "$recipe" ]]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        local ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
        local bx=(-fflags +bitexact -flags:a +bitexact -map_metadata -1)
        local src="aevalsrc=exprs=0.5*sin(2*PI*(200*t+3*t*t))|0.4*sin(2*PI*(300*t+2*t*t)):s=44100:d=120"
        (
            cd "$dir"
            "${ff[@]}" -f lavfi -i "$src" "${bx[@]}" -c:a pcm_f32le src.wav
            for b in 64 128 256; do
                "${ff[@]}" -i src.wav "${bx[@]}" -c:a aac -b:a ${b}k -f hls -hls_time 2 \
                    -hls_playlist_type vod -hls_segment_type fmp4 \
                    -hls_fmp4_init_filename a${b}_init.mp4 -hls_segment_filename "a${b}_%03d.m4s" \
                    a$b.m3u8
                "${ff[@]}" -i src.wav "${bx[@]}" -c:a aac -b:a ${b}k -f hls -hls_time 2 \
                    -hls_playlist_type vod -hls_segment_type mpegts \
                    -hls_segment_filename "ts${b}_%03d.ts" ts$b.m3u8
            done
            rm src.wav
        )
        echo "$recipe" > "$dir/stamp"
    fi
    # The masters (BANDWIDTH: the peak over the segments of at least 1 s, not the one-frame tail).
    (
        cd "$dir"
        python3 - << 'PY'
import math, os
for c, prefix in (("fmp4", "a"), ("ts", "ts")):
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for b in (64, 128, 256):
        pl, segs, d = f"{prefix}{b}.m3u8", [], None
        for ln in open(pl):
            ln = ln.strip()
            if ln.startswith("#EXTINF:"):
                d = float(ln[8:].split(",")[0])
            elif ln and not ln.startswith("#"):
                segs.append((os.path.getsize(ln), d))
        peak = max(8 * n / d for n, d in segs if d >= 1)
        avg = 8 * sum(n for n, _ in segs) / sum(d for _, d in segs)
        lines.append(f'#EXT-X-STREAM-INF:BANDWIDTH={math.ceil(peak)},'
                     f'AVERAGE-BANDWIDTH={math.ceil(avg)},CODECS="mp4a.40.2"')
        lines.append(pl)
    open(f"master_{c}.m3u8", "w").write("\n".join(lines) + "\n")
PY
    )
}

# streams: "container dir master" lines.
streams=()
fixture=$build/tests/media/hls_fixtures/abr
if [[ -n ${KITHARA_ABR_STREAM:-} ]]; then
    streams+=("custom $(cd "$root" && cd "$(dirname "${KITHARA_ABR_STREAM%%:*}")" && pwd)/$(basename "${KITHARA_ABR_STREAM%%:*}") ${KITHARA_ABR_STREAM#*:}")
elif [[ -f $fixture/master_fmp4.m3u8 ]]; then
    for c in ${KITHARA_ABR_CONTAINERS:-fmp4 ts}; do
        [[ -f $fixture/master_$c.m3u8 ]] && streams+=("$c $fixture master_$c.m3u8")
    done
else
    abr_stream "$build/bench/hls_abr120"
    for c in ${KITHARA_ABR_CONTAINERS:-fmp4 ts}; do
        streams+=("$c $build/bench/hls_abr120 master_$c.m3u8")
    done
    echo "no abr fixture in $build: the bench's own 120 s stream ($build/bench/hls_abr120)" >&2
fi

echo "machine: $(nproc) cores, shared; load $(cut -d' ' -f1-3 /proc/loadavg); players: $players;" \
    "$(date -u '+%F %H:%M') UTC"
echo "command: bench/hls_abr_vs_peers.sh <build-dir> \"$schedules\""
for s in $schedules; do
    case $s in
    A) name=A spec=0:2M,30:250k,60:2M secs=100 ;;
    B) name=B spec=0:400k secs=40 ;;
    C) name=C spec=0:2M,20:100k,30:2M secs=45 ;;
    *=*@*) name=${s%%=*} spec=${s#*=} secs=${spec##*@} spec=${spec%@*} ;;
    *) echo "unknown schedule $s (A, B, C or NAME=SCHEDULE@SECONDS)" >&2; exit 2 ;;
    esac
    for st in "${streams[@]}"; do
        read -r container dir master <<< "$st"
        files=()
        for p in $players; do
            out=$work/$name-$container-$p.json
            python3 "$bench" run "$out" --serve "$serve" --root "$dir" --master "$master" \
                --schedule "$spec" --seconds "$secs" --player "$p" --hp "$hp" \
                --work "$work/run" || { echo "$p: the run failed" >&2; continue; }
            files+=("$out")
        done
        python3 "$bench" table --targets "$name" "schedule $name, $container" "${files[@]}"
        if [[ -n ${KITHARA_ABR_KEEP:-} ]]; then
            mkdir -p "$KITHARA_ABR_KEEP"
            cp "${files[@]}" "$KITHARA_ABR_KEEP/"
        fi
    done
done
