#!/usr/bin/env python3
"""Whole-process measurements for bench/hls_vs_peers.sh (one player command per call).

  hls_measure.py ttfs  <runs> <work> -- cmd...   time from spawn to the first PCM byte on stdout
  hls_measure.py full  <runs> <work> -- cmd...   whole run under /usr/bin/time -v, stdout discarded
  hls_measure.py check <work> <frames> -- cmd...  whole run; PCM (s16le stereo 44.1 kHz) checked

Every run gets a fresh cache dir (@CACHE@ in cmd; @TMPFS@: one in $KITHARA_BENCH_TMPFS) unless
CACHED=1 is set, then the same one.
Output: one line, "key=value" pairs (ms for times, MiB for RSS), medians over the runs that
produced PCM; "ok=N/runs" says how many did. A run gets KITHARA_BENCH_TIMEOUT seconds (60).
"""
import math
import os
import select
import shutil
import statistics
import struct
import subprocess
import sys
import time

timeout = float(os.environ.get("KITHARA_BENCH_TIMEOUT", "60"))


def command(work, cmd):
    cache = os.path.join(work, "cache")
    tmpfs = os.path.join(os.environ.get("KITHARA_BENCH_TMPFS", work), "cache")
    if "CACHED" not in os.environ:
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(tmpfs, ignore_errors=True)
    return [a.replace("@CACHE@", cache).replace("@TMPFS@", tmpfs) for a in cmd]


def load():
    return open("/proc/loadavg").read().split()[0]


def ttfs(runs, work, cmd):
    out, loads = [], [load()]
    for _ in range(runs):
        c = command(work, cmd)
        t0 = time.perf_counter()
        p = subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        got = 0
        while not got:
            left = t0 + timeout - time.perf_counter()
            if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
                break
            b = p.stdout.read1(65536)
            if not b:
                break
            got += len(b)
        t1 = time.perf_counter()
        p.kill()
        p.wait()
        if got:
            out.append((t1 - t0) * 1000)
    loads.append(load())
    if not out:
        return f"ok=0/{runs} load={loads[0]}-{loads[1]}"
    return (f"ms={statistics.median(out):.1f} min={min(out):.1f} max={max(out):.1f} "
            f"ok={len(out)}/{runs} load={loads[0]}-{loads[1]}")


def full(runs, work, cmd):
    wall, cpu, rss, loads = [], [], [], [load()]
    tfile = os.path.join(work, "time.txt")
    for _ in range(runs):
        c = command(work, cmd)
        with open(tfile, "w") as err:
            t0 = time.perf_counter()
            r = subprocess.run(["/usr/bin/time", "-v"] + c, stdout=subprocess.DEVNULL, stderr=err,
                               timeout=timeout * 5)
            t1 = time.perf_counter()
        if r.returncode != 0:
            continue
        v = {}
        for line in open(tfile):
            k, _, val = line.strip().rpartition(": ")
            v[k] = val
        wall.append((t1 - t0) * 1000)
        cpu.append((float(v["User time (seconds)"]) + float(v["System time (seconds)"])) * 1000)
        rss.append(int(v["Maximum resident set size (kbytes)"]) / 1024)
    loads.append(load())
    if not wall:
        return f"ok=0/{runs} load={loads[0]}-{loads[1]}"
    return (f"wall={statistics.median(wall):.0f} cpu={statistics.median(cpu):.0f} "
            f"rss={statistics.median(rss):.1f} ok={len(wall)}/{runs} load={loads[0]}-{loads[1]}")


def check(work, expected, cmd):
    """Plays the whole stream; the PCM must be s16le stereo 44.1 kHz of the expected length
    (`expected` frames, within 0.1 s) and not silent. Prints frames, the difference to the
    expected count, RMS (full scale = 1) and wall time."""
    c = command(work, cmd)
    t0 = time.perf_counter()
    try:
        r = subprocess.run(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout * 5)
    except subprocess.TimeoutExpired:
        return "FAIL timeout"
    wall = time.perf_counter() - t0
    pcm = r.stdout
    frames = len(pcm) // 4
    n = len(pcm) // 2
    step = 7  # RMS over every 7th sample: enough, and quick in pure Python
    s = struct.unpack_from(f"<{n}h", pcm) if n else ()
    sq = [x * x for x in s[::step]]
    rms = math.sqrt(sum(sq) / len(sq)) / 32768 if sq else 0.0
    diff = frames - expected
    ok = abs(diff) <= 4410 and rms > 0.05 and r.returncode == 0
    why = ""
    if r.returncode != 0:
        why = f" exit={r.returncode}: {r.stderr.decode(errors='replace').strip()[-200:]!r}"
    return (f"{'ok' if ok else 'FAIL'} frames={frames} diff={diff:+d} rms={rms:.3f} "
            f"wall={wall:.2f}s{why}")


def main():
    mode = sys.argv[1]
    sep = sys.argv.index("--")
    a, cmd = sys.argv[2:sep], sys.argv[sep + 1:]
    if mode == "ttfs":
        print(ttfs(int(a[0]), a[1], cmd))
    elif mode == "full":
        print(full(int(a[0]), a[1], cmd))
    elif mode == "check":
        print(check(a[0], int(a[1]), cmd))
    else:
        sys.exit(f"unknown mode {mode}")


main()
