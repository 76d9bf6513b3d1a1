#!/usr/bin/env bash
# Live HLS: start and latency of the peers (ffmpeg, GStreamer playbin and playbin3, VLC, mpv),
# each run against a live stream of its own from kithara_serve --live, measured by content
# (bench/lib/live_measure.py says how); kithara's row comes in through --kithara.
#
#   bench/hls_live_vs_peers.sh [--runs N] [--seconds S] [--out DIR] [--kithara CMD]
#                              [--player NAME=CMD ...] [build-dir=build/dev]
#   KITHARA_BENCH_PLAYERS="ffmpeg playbin"   (the default: every player installed here)
#   KITHARA_LIVE_CASES="ts fmp4 ts+parts"     (the default: these three)
#
# Cases: the stream's container and LL-HLS: "ts" / "fmp4" = 2 s segments, window 6, no parts;
# "ts+parts" / "fmp4+parts" = the same with --live-ll-parts 4 (0.5 s parts, blocking playlist
# reload, preload hints). Every case runs every player --runs times (3), each run for --seconds
# of wall time (14) with a fresh server, spawned at a phase spread over a segment (run i of N at
# (i + 0.5) / N of a segment after the server's start).
# Players (PCM as raw s16le stereo 44.1 kHz on stdout; "-rt" = rendered on the pipeline clock,
# in real time, as a sound card plays it; the others write PCM as soon as it is decoded):
#   ffmpeg       ffmpeg -i URL -f s16le -flush_packets 1 -
#   playbin(3)   gst-launch-1.0 playbin(3), audio-sink ... fdsink sync=false
#   playbin(3)-rt   the same with fdsink sync=true
#   vlc          cvlc --sout transcode to raw PCM on stdout (as nobody: VLC refuses root)
#   mpv          mpv --ao=pcm --ao-pcm-file=/dev/stdout (its PCM output is untimed)
# --kithara CMD adds a row "kithara" (--player NAME=CMD any other): CMD is a command line whose
# words may hold @URL@ (the live playlist's URL) and @CACHE@ (a fresh directory per run), e.g.
#   --kithara "build/dev/examples/hls_playback @URL@ --out - --format s16le --quiet --cache-dir @CACHE@"
# Output: a Markdown table per case on stdout; every run's JSON (and the players' stderr, the
# server's request log) under --out DIR (default: a new directory bench-live-<time> in /tmp).
# The stream: 120 s (a sweep pair with pink noise, for unambiguous location by correlation), AAC-LC
# 128k, 2 s segments, TS and fMP4, generated once per build dir in <build-dir>/bench/hls_live120.
# Needs: kithara_serve (cmake --build <build-dir> --target kithara_serve), ffmpeg, python3-numpy
# for /usr/bin/python3; the peers from scripts/install-deps.sh --bench. Run it under nice on a
# shared machine: a run is mostly waiting; the peers' decoding is the CPU it takes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=3 seconds=14 out="" build=""
extra=()  # "name=cmd" rows added on the command line
while (($#)); do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --kithara) extra+=("kithara=$2"); shift 2 ;;
    --player) extra+=("$2"); shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $1 (--help)" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
build=$(cd "${build:-$root/build/dev}" && pwd)
serve=$build/tests/support/kithara_serve
measure=$root/bench/lib/live_measure.py
table=$root/bench/lib/live_table.py
[[ -x $serve ]] || { echo "build first: cmake --build $build --target kithara_serve" >&2; exit 1; }
/usr/bin/python3 -c 'import numpy' 2> /dev/null ||
    { echo "needs python3-numpy (scripts/install-deps.sh --bench)" >&2; exit 1; }
out=${out:-$(mktemp -d -p /tmp "bench-live-$(date -u +%H%M%S)-XXXX")}
mkdir -p "$out"

# The stream, generated once per build dir (a stamp names the recipe; bit-exact flags).
src=$build/bench/hls_live120
recipe="live120 v1: sweeps + pink noise 44.1k 120 s, aac 128k, hls_time 2, ts + fmp4, ref.s16"
if [[ ! -f $src/stamp || $(cat "$src/stamp") != "$recipe" ]]; then
    rm -rf "$src"
    mkdir -p "$src"
    (
        cd "$src"
        ff=(ffmpeg -nostdin -hide_banner -loglevel error -y)
        bx=(-fflags +bitexact -flags:a +bitexact -map_metadata -1)
        "${ff[@]}" -f lavfi -i "aevalsrc=exprs=0.3*sin(2*PI*(200*t+3*t*t))|0.3*sin(2*PI*(300*t+2*t*t)):s=44100:d=120" \
            -f lavfi -i "anoisesrc=color=pink:amplitude=0.15:seed=17:sample_rate=44100:duration=120" \
            -filter_complex "[1:a]pan=stereo|c0=c0|c1=c0[n];[0:a][n]amix=inputs=2:normalize=0" \
            "${bx[@]}" -c:a pcm_f32le src.wav
        "${ff[@]}" -i src.wav "${bx[@]}" -c:a aac -b:a 128k -f hls -hls_time 2 -hls_playlist_type vod \
            -hls_segment_type mpegts -hls_segment_filename "ts_%03d.ts" ts.m3u8
        "${ff[@]}" -i src.wav "${bx[@]}" -c:a aac -b:a 128k -f hls -hls_time 2 -hls_playlist_type vod \
            -hls_segment_type fmp4 -hls_fmp4_init_filename fmp4_init.mp4 \
            -hls_segment_filename "fmp4_%03d.m4s" fmp4.m3u8
        rm src.wav
        # The reference: what the players decode (ffmpeg's AAC decoder, nothing trimmed).
        "${ff[@]}" -i ts.m3u8 -f s16le -ac 2 -ar 44100 ref.s16
    )
    echo "$recipe" > "$src/stamp"
fi

gst_sink() { echo "audio-sink=audioconvert ! audioresample ! audio/x-raw,format=S16LE,channels=2,rate=44100 ! fdsink fd=1 sync=$1"; }
vlc_home=$out/vlc-home

# player_cmd <name>: the command, one word a line (@URL@ for the URL).
player_cmd() {
    case $1 in
    ffmpeg) printf '%s\n' ffmpeg -nostdin -loglevel error -i @URL@ -f s16le -ac 2 -ar 44100 -flush_packets 1 - ;;
    playbin | playbin3) printf '%s\n' gst-launch-1.0 -q "$1" uri=@URL@ "$(gst_sink false)" video-sink=fakesink ;;
    playbin-rt | playbin3-rt) printf '%s\n' gst-launch-1.0 -q "${1%-rt}" uri=@URL@ "$(gst_sink true)" video-sink=fakesink ;;
    vlc)
        printf '%s\n' setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$vlc_home" \
            cvlc -q --intf dummy --no-video @URL@ \
            --sout "#transcode{acodec=s16l,channels=2,samplerate=44100}:std{access=file,mux=raw,dst=-}" ;;
    mpv)
        printf '%s\n' mpv --no-config --really-quiet --no-video --ao=pcm --ao-pcm-file=/dev/stdout \
            --ao-pcm-waveheader=no --audio-format=s16 --audio-samplerate=44100 --audio-channels=stereo @URL@ ;;
    *)
        local e words
        for e in "${extra[@]}"; do
            [[ ${e%%=*} == "$1" ]] || continue
            read -r -a words <<< "${e#*=}"  # split at blanks, no globbing
            printf '%s\n' "${words[@]}"
            return
        done ;;
    esac
}

players=${KITHARA_BENCH_PLAYERS:-}
if [[ -z $players ]]; then
    for e in "${extra[@]}"; do players+="${e%%=*} "; done
    players+="ffmpeg"
    command -v gst-launch-1.0 > /dev/null && players+=" playbin playbin3 playbin-rt playbin3-rt"
    command -v cvlc > /dev/null && command -v setpriv > /dev/null && players+=" vlc"
    command -v mpv > /dev/null && players+=" mpv"
fi
mkdir -p "$vlc_home" && chmod 777 "$vlc_home"
cases=${KITHARA_LIVE_CASES:-ts fmp4 ts+parts}
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "machine: $(nproc) cores, shared; load $(load); $(date -u '+%F %H:%M') UTC; runs $runs x ${seconds} s;" \
    "players: $players; raw results: $out"
for c in $cases; do
    fmt=${c%+parts} parts=0
    [[ $c == *+parts ]] && parts=4
    for p in $players; do
        mapfile -t cmd < <(player_cmd "$p")
        ((${#cmd[@]})) || { echo "no command for player $p" >&2; continue; }
        for ((i = 0; i < runs; i++)); do
            phase=$(/usr/bin/python3 -c "print(($i + 0.5) / $runs)")
            w=$out/$c/$p/run$i
            mkdir -p "$w"
            echo "$p ${cmd[*]}" > "$w/cmd.txt"
            /usr/bin/python3 "$measure" run --serve "$serve" --vod "$src/$fmt.m3u8" --ref "$src/ref.s16" \
                --out "$w/result.json" --parts "$parts" --seconds "$seconds" --phase "$phase" \
                --work "$w" --name "$c $p run$i" -- "${cmd[@]}" >> "$out/runs.log" 2>&1 ||
                echo "$c $p run$i: live_measure.py failed (see $out/runs.log)" >&2
            rm -rf "$w/www" "$w/cache"
        done
    done
    echo
    /usr/bin/python3 "$table" --load "$(load)" "$c" "$out/$c"
done
