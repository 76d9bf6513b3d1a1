#!/usr/bin/env bash
# Progressive start-up on one link: file_playback's time to the first PCM byte over the Kithara
# test server pacing at 1 Mbit/s, with one connection (--max-requests 1) as an approximation of
# a shared 1 Mbit/s link (the test server has no shared-link mode yet), and with the default
# parallel requests. The same ttfs method as bench/file_vs_peers.sh, kithara only.
#
#   bench/file_startup.sh [build-dir=build/default] [runs=7]
# KITHARA_BENCH_FILES chooses the files; KITHARA_BENCH_FP another file_playback to measure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/default}
runs=${2:-7}
source "$root/bench/lib/file_bench.sh"
file_bench_init "$build"
fp=${KITHARA_BENCH_FP:-$fp}  # another file_playback (e.g. an older build) to compare
file_bench_tracks "$work/root"
ffmpeg -nostdin -hide_banner -loglevel error -y -i "$work/root/track.flac" -c:a libvorbis \
    -q:a 5 "$work/root/track.ogg"
files=${KITHARA_BENCH_FILES:-track.mp3 track.ogg track.opus}
file_bench_serve "$work/root" sport --rate 125000
echo "paced test server :$sport (1 Mbit/s per response); medians of $runs"
for f in $files; do
    url="http://127.0.0.1:$sport/$f"
    for mode in "--max-requests 1" ""; do
        # shellcheck disable=SC2086
        t=$(python3 - "$runs" "$work" "$fp" "$url" $mode <<'PY'
import os, shutil, subprocess, sys, time, statistics
runs, work, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
out = []
for i in range(runs):
    cache = os.path.join(work, "cache-ttfs")
    shutil.rmtree(cache, ignore_errors=True)
    c = cmd + ["--out", "-", "--quiet", "--cache-dir", cache]
    t0 = time.perf_counter()
    p = subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    got = 0
    while got <= 58:
        b = p.stdout.read1(65536)
        if not b:
            break
        got += len(b)
    t1 = time.perf_counter()
    p.kill(); p.wait()
    if got > 58:
        out.append((t1 - t0) * 1000)
print(f"{statistics.median(out):.1f} ms" if out else "failed")
PY
)
        printf '%-11s %-18s %s\n' "$f" "${mode:-parallel}" "$t"
    done
done
