#!/usr/bin/env bash
# Many concurrent streams in one machine: kithara_scale (N streams in ONE process) against N
# ffmpeg processes and N GStreamer playbins in one gst-launch-1.0 pipeline, the same media from
# one loopback test server (kithara_serve), one player at a time.
#
#   bench/scale_vs_peers.sh [--streams "1 16 64 256"] [--seconds S=20] [--modes "fast realtime"]
#                           [--players "kithara ffmpeg gstreamer"] [--out DIR] BUILD_DIR
#
# Media (BUILD_DIR/tests/...): long.mp3 and long.m4a (progressive, 20 s), the HLS fixtures
# ts_aac (MPEG-TS AAC, 9.5 s) and fmp4_multi/a128.m3u8 (fMP4 AAC media playlist, 19.5 s); all
# 44.1 kHz stereo. Stream i plays media i mod 4 from its own path, /s<i>/… (a symlink to the
# media dir), so no two streams of a run share a URL: a progressive file or an HLS segment read
# by one stream is never in the cache of another (a query does not do that for HLS: segment URLs
# resolve against the playlist's path and lose it). kithara_serve ignores a URL's query.
# kithara_scale gets a file of N URLs (stream i: line i); OUT/media-urls.txt lists the 4 media.
#
# Modes: fast = every stream decoded as fast as it goes to its end (kithara_scale: or S seconds);
# realtime = every stream consumed at 1x for S seconds: kithara_scale starts a stream that ends
# again from 0, the peers stop at its end (media counts what each played).
# Players:
#   kithara    BUILD_DIR/bench/kithara_scale --urls F --streams N --mode M --seconds S
#              --cache-dir D (fresh per run) --json J: its JSON gives media seconds, the RT
#              factors, time to first PCM of a new stream (p50/p99: 8 more streams open and
#              close during the run; measured from outside, their cost is in kithara's figures),
#              starved streams, errors.
#   ffmpeg     N processes `ffmpeg -nostdin -loglevel error -i URL -f null -`
#              (realtime: `-re -i URL -t S`); per-stream RT = media / process lifetime.
#   gstreamer  one `gst-launch-1.0 -q playbin uri=URL0 audio-sink="progressreport name=s0
#              update-freq=F ! fakesink sync=B" video-sink=fakesink playbin uri=URL1 …` (N playbins
#              in one pipeline: it exits 0 after the last EOS; the pipeline goes to PLAYING when
#              every playbin has prerolled). progressreport prints a line at each stream's EOS,
#              stamped on arrival: per-stream RT = media / time from spawn to its EOS.
#              fast: sync=false; realtime: sync=true, SIGINT at S; a stream stopped before its end
#              counts as position its last 1 s progress report (whole seconds) + 0.5 s + the time
#              since at 1x.
# Every player is measured the same way from outside (tsv columns): wall = spawn of the first
# process to exit of the last; media = seconds of media played (durations: ffprobe, EXTINF sums);
# aggregate RT = media / wall; threads peak = max over samples of the sum of Threads
# (/proc/PID/status) over the live processes; private peak = the same for Private_Clean +
# Private_Dirty (/proc/PID/smaps_rollup), "per stream" = that / N (a per-process player pays its
# whole process per stream). A clean library page counts as private while no other process on
# the machine maps it: N=1 counts the player's code, which N ffmpeg processes share, and the
# figure moves with whatever else runs (kithara_scale alone: 9 to 33 MB). Private_Dirty alone
# (heap, stacks, written pages: dirty_mb_*) does not. pss_mb_peak: the same sum for Pss.
# CPU = user + sys from wait4 of every process; CPU ms per stream-second = CPU / media.
# Sampling every 50 ms (longer when one sample of many processes costs more than 1/4 of the
# pause: the sampler takes at most ~20 % of a core). kithara_scale's own figures (its
# private_kb_per_stream: anonymous memory, peak - base over N; threads; CPU) are kept as the k_*
# columns. A run is stopped after 300 s (its processes killed, counted as errors).
# Output: OUT/results.tsv (a line per run), logs in OUT/logs, and a Markdown table per mode:
# kithara, each peer, peer / kithara.
# Needs: ffmpeg/ffprobe, gst-launch-1.0 (gstreamer1.0-plugins-good/-bad/-libav), python3, and
# the build targets kithara_serve, kithara_file_media and kithara_hls_fixtures (kithara_scale
# for the kithara rows). Run as root, players run at nice -5 and the sampler at -10 (so that it
# samples on time on a loaded machine; it is bounded as said above). 2 cores: N <= 16 for a
# quick look; 64 and 256 take minutes.
set -euo pipefail

usage() {
    cat >&2 << 'EOF'
usage: bench/scale_vs_peers.sh [--streams "1 16 64 256"] [--seconds S] [--modes "fast realtime"]
                               [--players "kithara ffmpeg gstreamer"] [--out DIR] BUILD_DIR
EOF
    exit 2
}

streams="1 16 64 256"
seconds=20
modes="fast realtime"
players="kithara ffmpeg gstreamer"
out=${TMPDIR:-/tmp}/kithara_scale_vs_peers
build=""
while (($#)); do
    case $1 in
    --streams) streams=${2:?}; shift 2 ;;
    --seconds) seconds=${2:?}; shift 2 ;;
    --modes) modes=${2:?}; shift 2 ;;
    --players) players=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) [[ -z $build ]] || usage; build=$1; shift ;;
    esac
done
[[ -n $build ]] || usage
build=$(cd "$build" && pwd)
for n in $streams; do [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "bad stream count: $n" >&2; usage; }; done
[[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "bad --seconds: $seconds" >&2; usage; }
for m in $modes; do [[ $m == fast || $m == realtime ]] || { echo "bad mode: $m" >&2; usage; }; done
for p in $players; do
    [[ $p == kithara || $p == ffmpeg || $p == gstreamer ]] || { echo "bad player: $p" >&2; usage; }
done

serve=$build/tests/support/kithara_serve
ks=$build/bench/kithara_scale
file_media=$build/tests/integration/file_media
fixtures=$build/tests/media/hls_fixtures
[[ -x $serve && -f $file_media/long.mp3 && -f $file_media/long.m4a &&
    -f $fixtures/ts_aac/index.m3u8 && -f $fixtures/fmp4_multi/a128.m3u8 ]] || {
    echo "build first: cmake --build $build --target kithara_serve kithara_file_media" \
        "kithara_hls_fixtures" >&2
    exit 1
}
active=()
for p in $players; do
    case $p in
    kithara)
        if [[ ! -x $ks ]]; then
            echo "note: no $ks (build target kithara_scale): kithara skipped" >&2
            continue
        fi ;;
    ffmpeg) command -v ffmpeg > /dev/null || { echo "note: no ffmpeg: skipped" >&2; continue; } ;;
    gstreamer)
        # (also loads the plugin registry before anything is measured)
        if ! gst-inspect-1.0 playbin > /dev/null 2>&1 ||
            ! gst-inspect-1.0 progressreport > /dev/null 2>&1; then
            echo "note: no gst-launch-1.0 with playbin and progressreport" \
                "(gstreamer1.0-plugins-base/-good): gstreamer skipped" >&2
            continue
        fi ;;
    esac
    active+=("$p")
done
((${#active[@]})) || { echo "no player to run" >&2; exit 1; }

# The media: OUT/www/media (symlinks) and per stream OUT/www/s<i> -> media.
mkdir -p "$out/www/media" "$out/logs"
out=$(cd "$out" && pwd)
www=$out/www
ln -sfn "$file_media/long.mp3" "$www/media/long.mp3"
ln -sfn "$file_media/long.m4a" "$www/media/long.m4a"
ln -sfn "$fixtures/ts_aac" "$www/media/ts_aac"
ln -sfn "$fixtures/fmp4_multi" "$www/media/fmp4"
media=(long.mp3 long.m4a ts_aac/index.m3u8 fmp4/a128.m3u8)
dur=()
for m in "${media[@]}"; do
    if [[ $m == *.m3u8 ]]; then
        dur+=("$(awk -F'[:,]' '/^#EXTINF:/ {s += $2} END {printf "%.3f", s}' "$www/media/$m")")
    else
        dur+=("$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$www/media/$m")")
    fi
done
max_n=0
for n in $streams; do if ((n > max_n)); then max_n=$n; fi; done
for ((i = 0; i < max_n; i++)); do ln -sfn media "$www/s$i"; done

serve_pid=""
cleanup() {
    if [[ -n $serve_pid ]]; then kill "$serve_pid" 2> /dev/null || true; fi
    rm -rf "$out/cache"
}
trap cleanup EXIT
rm -f "$out/port"
"$serve" "$www" --port-file "$out/port" > /dev/null 2> "$out/logs/serve.err" &
serve_pid=$!
for _ in $(seq 50); do [[ -s $out/port ]] && break; sleep 0.1; done
[[ -s $out/port ]] || { echo "kithara_serve did not start (see $out/logs/serve.err)" >&2; exit 1; }
port=$(cat "$out/port")
base=http://127.0.0.1:$port
for m in "${media[@]}"; do echo "$base/media/$m"; done > "$out/media-urls.txt"

# urls <n>: OUT/urls-<n>.txt (stream i: line i) and OUT/streams-<n>.tsv (url, media seconds)
urls() {
    local n=$1 i
    for ((i = 0; i < n; i++)); do
        printf '%s\t%s\n' "$base/s$i/${media[i % 4]}" "${dur[i % 4]}"
    done > "$out/streams-$n.tsv"
    cut -f1 "$out/streams-$n.tsv" > "$out/urls-$n.txt"
}

# measure <player> <mode> <n>: runs the player's N streams, samples them, appends a tsv line.
measure() {
    local p=$1 m=$2 n=$3
    rm -rf "$out/cache"
    mkdir -p "$out/cache"
    timeout 330 python3 - "$p" "$m" "$n" "$seconds" "$out" "$ks" << 'PY'
import json, os, re, signal, statistics, subprocess, sys, threading, time

player, mode, out, ks = sys.argv[1], sys.argv[2], sys.argv[5], sys.argv[6]
n, secs = int(sys.argv[3]), float(sys.argv[4])
root = os.geteuid() == 0
if root:
    os.setpriority(os.PRIO_PROCESS, 0, -10)  # the sampler, above the players
def player_nice():  # in the child, before exec (no thread is running yet)
    if root:
        os.setpriority(os.PRIO_PROCESS, 0, -5)
LIMIT = 300.0
streams = [l.rstrip("\n").split("\t") for l in open(f"{out}/streams-{n}.tsv")]
urls = [s[0] for s in streams]
durs = [float(s[1]) for s in streams]
tag = f"{player}-{mode}-{n}"
open(f"{out}/logs/{tag}.err", "w").close()
err = open(f"{out}/logs/{tag}.err", "a", buffering=1)  # O_APPEND: shared with the players
rt = mode == "realtime"
secs_str = f"{secs:g}"

if player == "ffmpeg":
    cmds = [["ffmpeg", "-nostdin", "-loglevel", "error"] + (["-re"] if rt else []) + ["-i", u]
            + (["-t", secs_str] if rt else []) + ["-f", "null", "-"] for u in urls]
elif player == "gstreamer":
    c = ["gst-launch-1.0", "-q"]
    sync = "true" if rt else "false"
    freq = 1 if rt else 1000000
    for i, u in enumerate(urls):
        c += ["playbin", f"uri={u}",
              f"audio-sink=progressreport name=s{i} update-freq={freq} ! fakesink sync={sync}",
              "video-sink=fakesink"]
    cmds = [c]
else:
    json_out = f"{out}/logs/{tag}.json"
    if os.path.exists(json_out):
        os.remove(json_out)
    cmds = [[ks, "--urls", f"{out}/urls-{n}.txt", "--streams", str(n), "--mode", mode,
                    "--seconds", secs_str, "--cache-dir", f"{out}/cache", "--json", json_out]]

ends, rusage, codes = {}, {}, {}
reports = {}  # gstreamer: stream -> (arrival, position in whole seconds)
lock = threading.Lock()

def reaper(count):
    for _ in range(count):
        pid, status, ru = os.wait4(-1, 0)
        with lock:
            ends[pid] = time.monotonic()
            rusage[pid] = ru.ru_utime + ru.ru_stime
            codes[pid] = os.waitstatus_to_exitcode(status)

rep = re.compile(r"^s(\d+) \(\d+:\d+:\d+\): (\d+) / (\d+) seconds")
def reader(f):
    for line in f:
        t = time.monotonic()
        mt = rep.match(line)
        if not mt:
            err.write(line)
            continue
        reports[int(mt[1])] = (t, int(mt[2]))  # the last: at EOS, or the last periodic (realtime)

load0 = open("/proc/loadavg").read().split()[0]
procs = []
t0 = time.monotonic()
try:
    for c in cmds:
        procs.append(subprocess.Popen(c, stdin=subprocess.DEVNULL, stderr=err, preexec_fn=player_nice,
                                      stdout=subprocess.PIPE if player == "gstreamer" else subprocess.DEVNULL,
                                      text=True))
except OSError as e:
    for p in procs:
        p.kill()
    sys.exit(f"{tag}: cannot start {c[0]}: {e}")
starts = {p.pid: time.monotonic() for p in procs}
rthread = threading.Thread(target=reaper, args=(len(procs),), daemon=True)
rthread.start()
gthread = None
if player == "gstreamer":
    gthread = threading.Thread(target=reader, args=(procs[0].stdout,), daemon=True)
    gthread.start()

def memory_kb(pid):  # (Private_Clean + Private_Dirty, Private_Dirty, Pss)
    priv = dirty = pss = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                priv += int(line.split()[1])
                if line.startswith("Private_Dirty:"):
                    dirty += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return priv, dirty, pss

def threads(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0

threads_peak = kb_peak = dirty_peak = pss_peak = samples = 0
interrupted = killed = False
while True:
    with lock:
        live = [p.pid for p in procs if p.pid not in ends]
    if not live:
        break
    now = time.monotonic()
    if rt and player == "gstreamer" and not interrupted and now - t0 >= secs:
        os.kill(procs[0].pid, signal.SIGINT)  # gst-launch stops the pipeline and exits
        interrupted = now
    if not killed and (now - t0 >= LIMIT or (interrupted and now - t0 >= secs + 15)):
        for pid in live:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        killed = now
        err.write(f"scale_vs_peers: killed {len(live)} process(es) after {now - t0:.0f} s\n")
    s0 = time.monotonic()
    th = kb = dirty = pss = 0
    for pid in live:
        try:
            t = threads(pid)
            priv, dt, ps = memory_kb(pid)
            th, kb, dirty, pss = th + t, kb + priv, dirty + dt, pss + ps
        except (OSError, ValueError):
            pass  # exited meanwhile
    samples += 1
    threads_peak, kb_peak = max(threads_peak, th), max(kb_peak, kb)
    dirty_peak, pss_peak = max(dirty_peak, dirty), max(pss_peak, pss)
    cost = time.monotonic() - s0
    time.sleep(max(0.05, 4 * cost))
rthread.join()
if gthread:
    gthread.join(timeout=5)
wall = max(ends.values()) - t0
cpu = sum(rusage.values())
bad = sum(1 for c in codes.values() if c != 0)
media = []
per_stream = []
if player == "ffmpeg":
    for p, d in zip(procs, durs):
        if codes[p.pid] == 0:
            m = min(d, secs) if rt else d
            media.append(m)
            per_stream.append(m / (ends[p.pid] - starts[p.pid]))
elif player == "gstreamer":
    code = codes[procs[0].pid]
    bad = 0 if (code == 0 or interrupted) and not killed else 1
    for i, d in enumerate(durs):
        if i not in reports:
            bad += 1
            continue
        # Realtime, stopped (at S, or killed): a stream still playing reported less than 1.5 s
        # before (else it ended). At S its position: the report's whole seconds + 0.5, and 1x
        # since the report; killed: an error. Fast: the only report is at EOS.
        t, pos = reports[i]
        stop = interrupted or killed
        if rt and stop and t > stop - 1.5:
            if killed:
                bad += 1
                continue
            t, m = interrupted, min(d, pos + 0.5 + interrupted - t)
        else:
            m = d
        media.append(m)
        per_stream.append(m / (t - t0))
k = {}
if player == "kithara":
    try:
        k = json.load(open(json_out))
    except (OSError, ValueError) as e:
        err.write(f"scale_vs_peers: no JSON from kithara_scale: {e}\n")
    total_media = float(k.get("media_seconds", 0))
    rt_agg = float(k.get("rt_aggregate", 0))
    rt_med = k.get("rt_per_stream_median", "")
    rt_min = k.get("rt_per_stream_min", "")
    errors = int(k.get("errors", n)) + bad
else:
    total_media = sum(media)
    rt_agg = total_media / wall if wall > 0 else 0
    rt_med = statistics.median(per_stream) if per_stream else ""
    rt_min = min(per_stream) if per_stream else ""
    errors = bad

def f(x, fmt):
    return "" if x == "" or x is None else format(float(x), fmt)

row = {
    "player": player, "mode": mode, "streams": n, "seconds": secs_str,
    "wall_s": f(wall, ".3f"), "media_s": f(total_media, ".1f"),
    "rt_aggregate": f(rt_agg, ".2f"), "rt_stream_median": f(rt_med, ".3f"),
    "rt_stream_min": f(rt_min, ".3f"), "threads_peak": threads_peak,
    "private_mb_peak": f(kb_peak / 1024, ".1f"), "private_mb_per_stream": f(kb_peak / 1024 / n, ".2f"),
    "dirty_mb_peak": f(dirty_peak / 1024, ".1f"), "dirty_mb_per_stream": f(dirty_peak / 1024 / n, ".2f"),
    "pss_mb_peak": f(pss_peak / 1024, ".1f"),
    "cpu_s": f(cpu, ".2f"),
    "cpu_ms_per_stream_s": f(cpu * 1000 / total_media, ".2f") if total_media else "",
    "errors": errors, "samples": samples,
    "k_threads_peak": k.get("threads_peak", ""), "k_private_kb_per_stream": k.get("private_kb_per_stream", ""),
    "k_cpu_ms_per_stream_s": k.get("cpu_ms_per_stream_second", ""),
    "k_ttfp_new_ms_p50": k.get("ttfp_new_ms_p50", ""), "k_ttfp_new_ms_p99": k.get("ttfp_new_ms_p99", ""),
    "k_starved_streams": k.get("starved_streams", ""),
    "load": f"{load0}-{open('/proc/loadavg').read().split()[0]}",
}
path = f"{out}/results.tsv"
new = not os.path.exists(path)
with open(path, "a") as o:
    if new:
        o.write("\t".join(row) + "\n")
    o.write("\t".join(str(v) for v in row.values()) + "\n")
print(f"{player:9s} {mode:8s} N={n:<4d} wall {row['wall_s']} s, RT {row['rt_aggregate']} "
      f"(stream median {row['rt_stream_median'] or '-'}), threads {threads_peak}, "
      f"{row['private_mb_per_stream']} MB/stream, {row['cpu_ms_per_stream_s'] or '-'} CPU ms/stream-s, "
      f"errors {errors}", flush=True)
PY
    local rc=$?
    rm -rf "$out/cache"
    return "$rc"
}

rm -f "$out/results.tsv"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); kithara_serve :$port;" \
    "media: ${media[*]} (${dur[*]} s); S = $seconds s; players: ${active[*]}; $(date -u '+%F %H:%M') UTC" >&2
for m in $modes; do
    for n in $streams; do
        urls "$n"
        for p in "${active[@]}"; do
            measure "$p" "$m" "$n" >&2 || echo "$p $m N=$n: measurement failed (rc $?)" >&2
        done
    done
done

python3 - "$out/results.tsv" << 'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
peers = [p for p in ("ffmpeg", "gstreamer") if any(r["player"] == p for r in rows)]
metrics = [("aggregate RT factor", "rt_aggregate"), ("per-stream RT, median", "rt_stream_median"),
           ("per-stream RT, min", "rt_stream_min"), ("threads, peak", "threads_peak"),
           ("private MB per stream", "private_mb_per_stream"),
           ("private dirty MB per stream", "dirty_mb_per_stream"),
           ("CPU ms per stream-second", "cpu_ms_per_stream_s"), ("errors", "errors")]
def get(mode, n, player, key):
    for r in rows:
        if r["mode"] == mode and r["streams"] == n and r["player"] == player:
            return r[key]
    return ""
def ratio(a, b):
    try:
        return f"{float(a) / float(b):.2f}"
    except (ValueError, ZeroDivisionError):
        return "—"
for mode in dict.fromkeys(r["mode"] for r in rows):
    print(f"\n### {mode}\n")
    head = "| N | figure | kithara |" + "".join(f" {p} | {p} / kithara |" for p in peers)
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for n in dict.fromkeys(r["streams"] for r in rows if r["mode"] == mode):
        for label, key in metrics:
            k = get(mode, n, "kithara", key)
            line = f"| {n} | {label} | {k or '—'} |"
            for p in peers:
                v = get(mode, n, p, key)
                line += f" {v or '—'} | {ratio(v, k) if key != 'errors' else ''} |"
            print(line)
        for label, key in [("kithara: own private KB per stream (peak - base)", "k_private_kb_per_stream"),
                           ("kithara: TTFP new stream p99 ms", "k_ttfp_new_ms_p99"),
                           ("kithara: starved streams", "k_starved_streams")]:
            k = get(mode, n, "kithara", key)
            if k:
                print(f"| {n} | {label} | {k} |" + " |" * (2 * len(peers)))
print("\n(RT factor = media seconds / wall seconds; threads and private memory: peak of the sum over"
      " the player's processes; per stream = / N; CPU = user + sys; ratios peer / kithara)")
PY
