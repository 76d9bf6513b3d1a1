#!/usr/bin/env bash
# Whole-process progressive playback: file_playback against `ffmpeg -i URL -f f32le -` and
# `gst-launch-1.0 playbin3` (PCM to a sink), same files, same loopback servers.
#
#   bench/file_vs_peers.sh [build-dir=build/default] [runs=7]
#   bench/file_vs_peers.sh --shared-link [build-dir=build/default] [runs=7]
#
# Measures (medians of `runs`): time from process start to the first PCM byte on stdout, over
# nginx (unthrottled) and over the Kithara test server pacing every response at 1 Mbit/s
# (kithara_serve --rate 125000); full-decode wall time (hyperfine), CPU time and peak RSS
# (/usr/bin/time -v); seek-to-first-PCM latency (--seek / -ss at 150 s) uncached and cached.
# file_playback always starts with an empty cache except in the "cached" rows.
# Needs: hyperfine, ffmpeg, gst-launch-1.0 (scripts/install-deps.sh --bench), nginx-light.
#
# --shared-link: only time to first PCM, through one link shared by every connection of the
# client (kithara_serve --link-rate; KITHARA_BENCH_LINK_BITS, default 1000000 = 1 Mbit/s), as an
# access link behaves: parallel Range requests share it instead of adding bandwidth. Files: MP3,
# M4A moov-at-end and faststart, FLAC, Opus; players: file_playback (and --max-requests 1),
# ffmpeg, gst playbin and playbin3, cvlc and mpv when installed (cvlc runs as `nobody`: VLC
# refuses root). Each file's physical floor = bytes before its first sample (file_bench_floor)
# / link rate; prints a Markdown table with every player's median and its ratio to the floor.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared_link=0
if [[ ${1:-} == --shared-link ]]; then
    shared_link=1
    shift
fi
build=${1:-$root/build/default}
runs=${2:-7}
source "$root/bench/lib/file_bench.sh"
file_bench_init "$build"
file_bench_cleanup() { bash "$root/tests/support/nginx.sh" stop "$work/nginx" > /dev/null 2>&1; }
file_bench_tracks "$work/nginx/root"
files=${KITHARA_BENCH_FILES:-track.mp3 track.m4a track.flac track.opus}
if ((shared_link == 0)); then
    bash "$root/tests/support/nginx.sh" start "$work/nginx" > /dev/null
    nport=$(cat "$work/nginx/port")
    file_bench_serve "$work/nginx/root" sport --rate 125000
    echo "machine: $(nproc) cores, shared; nginx :$nport, paced test server :$sport (1 Mbit/s)"
fi

# ttfs <skip-bytes> <cmd...>: median ms from spawn to the first PCM byte (after skip-bytes of
# header) on the command's stdout; the process is killed then. A fresh cache dir per run.
ttfs() {
    python3 - "$runs" "$work" "$@" <<'PY'
import os, select, shutil, subprocess, sys, time, statistics
runs, work, skip, cmd = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4:]
limit = float(os.environ.get("KITHARA_BENCH_TTFS_TIMEOUT", "60"))  # s per run, then "failed"
out = []
for i in range(runs):
    cache = os.path.join(work, "cache-ttfs")
    if "CACHED" not in os.environ:
        shutil.rmtree(cache, ignore_errors=True)
    c = [a.replace("@CACHE@", cache) for a in cmd]
    t0 = time.perf_counter()
    p = subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    got = 0
    while got <= skip:
        if not select.select([p.stdout], [], [], max(0, t0 + limit - time.perf_counter()))[0]:
            break
        b = p.stdout.read1(65536)
        if not b:
            break
        got += len(b)
    t1 = time.perf_counter()
    p.kill(); p.wait()
    if got > skip:
        out.append((t1 - t0) * 1000)
print(f"{statistics.median(out):8.1f} ms" if out else "   failed")
PY
}

wavhdr=58
gst_sink="audio-sink=audioconvert ! audio/x-raw,format=F32LE ! fdsink fd=1 sync=false"
have_gst=0
command -v gst-launch-1.0 > /dev/null && have_gst=1

if ((shared_link)); then
    link_bits=${KITHARA_BENCH_LINK_BITS:-1000000}
    files=${KITHARA_BENCH_FILES:-track.mp3 track.m4a track_fs.m4a track.flac track.opus}
    file_bench_serve "$work/nginx/root" lport --link-rate "$link_bits"
    file_bench_serve "$work/nginx/root" uport  # no link: what process start-up costs alone
    echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); shared link" \
        "$link_bits bit/s, test server :$lport; medians of $runs, fresh cache per run"
    players=(kithara kithara-1conn ffmpeg)
    ((have_gst)) && players+=(playbin playbin3)
    command -v cvlc > /dev/null && command -v setpriv > /dev/null && players+=(vlc)
    command -v mpv > /dev/null && players+=(mpv)
    vlc_home=$work/vlc-home
    mkdir -p "$vlc_home" && chmod 777 "$vlc_home" "$work"
    header="| file | floor (bytes) | floor | no link: kithara / ffmpeg |"
    rule="|---|---|---|---|"
    for p in "${players[@]}"; do header+=" $p |"; rule+="---|"; done
    echo
    echo "$header best peer / kithara |"
    echo "$rule---|"
    for f in $files; do
        url=http://127.0.0.1:$lport/$f
        read -r need page < <(file_bench_floor "$work/nginx/root/$f")
        floor=$(python3 -c "print(f'{$need * 8000 / $link_bits:.1f}')")
        floor_txt="$need"
        [[ $page != "$need" ]] && floor_txt+=" (page: $page)"
        base_k=$(ttfs $wavhdr "$fp" "http://127.0.0.1:$uport/$f" --out - --quiet --cache-dir @CACHE@)
        base_f=$(ttfs 0 ffmpeg -nostdin -loglevel error -i "http://127.0.0.1:$uport/$f" -f f32le -)
        row="| $f | $floor_txt | $floor ms | $(awk '{print $1}' <<< "$base_k") / $(awk '{print $1}' <<< "$base_f") ms |"
        best="" kithara=""
        for p in "${players[@]}"; do
            case $p in
            kithara) t=$(ttfs $wavhdr "$fp" "$url" --out - --quiet --cache-dir @CACHE@) ;;
            kithara-1conn) t=$(ttfs $wavhdr "$fp" "$url" --out - --quiet --max-requests 1 --cache-dir @CACHE@) ;;
            ffmpeg) t=$(ttfs 0 ffmpeg -nostdin -loglevel error -i "$url" -f f32le -) ;;
            playbin | playbin3) t=$(ttfs 0 gst-launch-1.0 -q "$p" "uri=$url" "$gst_sink" video-sink=fakesink) ;;
            vlc) t=$(ttfs 0 setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$vlc_home" \
                        cvlc -q --intf dummy --no-video "$url" \
                        --sout "#transcode{acodec=f32l,channels=2}:std{access=file,mux=raw,dst=-}" vlc://quit) ;;
            mpv) t=$(ttfs 0 mpv --no-config --really-quiet --no-video --ao=pcm --ao-pcm-file=/dev/stdout \
                        --ao-pcm-waveheader=no "$url") ;;
            esac
            ms=$(awk '{print $1}' <<< "$t")
            if [[ $ms == failed ]]; then
                row+=" failed |"
                continue
            fi
            row+=" $ms ms ($(python3 -c "print(f'{$ms / $floor:.1f}')")x) |"
            if [[ $p == kithara ]]; then
                kithara=$ms
            elif [[ $p != kithara-1conn ]]; then
                best=$(python3 -c "print(min(float(x) for x in '$best $ms'.split()))")
            fi
        done
        if [[ -n $best && -n $kithara ]]; then
            row+=" $(python3 -c "print(f'{$best / $kithara:.2f}')") |"
        else
            row+=" — |"
        fi
        echo "$row"
    done
    echo
    echo "(ratios in parentheses: player / floor; floor = bytes before the first sample / link rate;"
    echo " 'no link' = the same file from the same server without the link: process start-up)"
    exit 0
fi

echo
echo "== time to first PCM sample (median of $runs, fresh cache) =="
for f in $files; do
    for srv in "nginx:$nport" "paced-1Mbit:$sport"; do
        name=${srv%%:*}
        url=http://127.0.0.1:${srv##*:}/$f
        printf '%-10s %-12s kithara %s' "$f" "$name" "$(ttfs $wavhdr "$fp" "$url" --out - --quiet --cache-dir @CACHE@)"
        printf '  ffmpeg %s' "$(ttfs 0 ffmpeg -nostdin -loglevel error -i "$url" -f f32le -)"
        if ((have_gst)); then
            printf '  gst %s' "$(ttfs 0 gst-launch-1.0 -q playbin3 "uri=$url" "$gst_sink" video-sink=fakesink)"
        fi
        if [[ $name == paced-1Mbit ]]; then
            # One connection: no split of the tail across parallel Range requests.
            printf '  kithara --max-requests 1 %s' "$(ttfs $wavhdr "$fp" "$url" --out - --quiet --max-requests 1 --cache-dir @CACHE@)"
        fi
        echo
    done
done

echo
echo "== seek to 150 s: time to first PCM (median of $runs) =="
for f in $files; do
    url=http://127.0.0.1:$nport/$f
    printf '%-10s uncached kithara %s' "$f" "$(ttfs $wavhdr "$fp" "$url" --seek 150 --out - --quiet --cache-dir @CACHE@)"
    printf '  ffmpeg -ss %s\n' "$(ttfs 0 ffmpeg -nostdin -loglevel error -ss 150 -i "$url" -f f32le -)"
    "$fp" "$url" --out null --quiet --cache-dir "$work/cache-ttfs" || true
    printf '%-10s cached   kithara %s\n' "$f" "$(CACHED=1 ttfs $wavhdr "$fp" "$url" --seek 150 --out - --quiet --cache-dir @CACHE@)"
done

echo
echo "== full decode over nginx (hyperfine, fresh cache per run) =="
for f in $files; do
    url=http://127.0.0.1:$nport/$f
    cmds=(-n kithara "$fp $url --out null --quiet --cache-dir $work/cache-full"
          -n ffmpeg "ffmpeg -nostdin -loglevel error -i $url -f f32le -y /dev/null")
    if ((have_gst)); then
        cmds+=(-n gst "gst-launch-1.0 -q playbin3 uri=$url audio-sink=fakesink video-sink=fakesink")
    fi
    hyperfine -N --warmup 1 --runs "$runs" --prepare "rm -rf $work/cache-full" "${cmds[@]}" \
        --export-json "$work/full.json" > /dev/null
    python3 - "$work/full.json" "$f" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
k = r["kithara"]["median"]
line = f"{sys.argv[2]:10s} wall median: kithara {k*1000:.0f} ms"
for n in ("ffmpeg", "gst"):
    if n in r:
        line += f", {n} {r[n]['median']*1000:.0f} ms (x{r[n]['median']/k:.2f})"
print(line)
PY
    for who in kithara ffmpeg gst; do
        case $who in
        kithara) c="$fp $url --out null --quiet --cache-dir $work/cache-rss" ;;
        ffmpeg) c="ffmpeg -nostdin -loglevel error -i $url -f f32le -y /dev/null" ;;
        gst) ((have_gst)) || continue
             c="gst-launch-1.0 -q playbin3 uri=$url audio-sink=fakesink video-sink=fakesink" ;;
        esac
        rm -rf "$work/cache-rss"
        # shellcheck disable=SC2086
        /usr/bin/time -v $c 2> "$work/time.txt" > /dev/null
        awk -v w="$who" -v f="$f" -F': ' '
            /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {m=$2}
            END {printf "%-10s %-8s cpu %.2f s (user %.2f + sys %.2f), peak RSS %.1f MiB\n", f, w, u+s, u, s, m/1024}' \
            "$work/time.txt"
    done
done
