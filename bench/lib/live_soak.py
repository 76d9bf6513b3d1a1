#!/usr/bin/python3
"""A long live stream, accelerated: does a player's memory, disk and descriptor use stay flat?

kithara_serve publishes a live playlist (a window of segments sliding over a looped VOD source,
tests/support/test_server_live.hpp) at --scale media seconds per wall second and ends it with
EXT-X-ENDLIST after --hours of media. The player plays it to the end (its PCM to null). Once a
wall second (the wait for the player's exit, with a one-second timeout) this samples the player's
/proc: resident and anonymous memory, threads, open descriptors, and its cache directory's bytes
on disk and file count. Output: every sample as CSV, and a JSON summary: each metric's value
after the warm-up (the first 10 % of the media), its maximum over the second half, and the slope
of a least-squares line through the second half, per media hour.

  live_soak.py --serve kithara_serve --vod ts.m3u8 --hours 1 --scale 60 --out DIR \
      -- hls_playback @URL@ --out null --quiet --cache-dir @CACHE@ --live-time-scale @SCALE@
"""
import argparse
import json
import os
import subprocess
import sys
import time


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "Threads"):
                out[k] = int(v.split()[0])
    return out


def disk(path):
    used = files = 0
    for root, _, names in os.walk(path):
        for n in names:
            try:
                st = os.lstat(os.path.join(root, n))
            except FileNotFoundError:
                continue  # removed while walking (eviction)
            used += st.st_blocks * 512
            files += 1
    return used, files


def slope(xs, ys):
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", required=True)
    ap.add_argument("--vod", required=True)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--scale", type=float, default=60.0)
    ap.add_argument("--segment", type=float, default=2.0, help="the source's segment duration")
    ap.add_argument("--window", type=int, default=6)
    ap.add_argument("--out", required=True)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    os.makedirs(a.out, exist_ok=True)
    empty = os.path.join(a.out, "www")
    cache = os.path.join(a.out, "cache")
    os.makedirs(empty, exist_ok=True)
    segments = int(round(a.hours * 3600 / a.segment))
    server = subprocess.Popen(
        [a.serve, empty, "--live", f"/soak.m3u8={a.vod}", "--live-window", str(a.window),
         "--live-time-scale", str(a.scale), "--live-end-after", str(segments)],
        stdout=subprocess.PIPE, stderr=open(os.path.join(a.out, "serve.err"), "w"), text=True)
    try:
        port = int(server.stdout.readline())  # written once the live stream exists
        url = f"http://127.0.0.1:{port}/soak.m3u8"
        words = [w.replace("@URL@", url).replace("@CACHE@", cache).replace("@SCALE@", str(a.scale))
                 for w in cmd]
        err = open(os.path.join(a.out, "player.err"), "w")
        t0 = time.monotonic()
        player = subprocess.Popen(words, stdout=subprocess.DEVNULL, stderr=err)
        rows = []
        while True:
            try:
                rc = player.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                pass
            try:
                st = proc_status(player.pid)
                fds = len(os.listdir(f"/proc/{player.pid}/fd"))
            except (FileNotFoundError, ProcessLookupError):
                continue
            used, files = disk(cache)
            media_h = (time.monotonic() - t0) * a.scale / 3600
            rows.append({"media_hours": round(media_h, 5), "rss_kb": st.get("VmRSS", 0),
                         "anon_kb": st.get("RssAnon", 0), "threads": st.get("Threads", 0),
                         "fds": fds, "cache_bytes": used, "cache_files": files})
        wall = time.monotonic() - t0
    finally:
        server.terminate()
        server.wait()
    with open(os.path.join(a.out, "samples.csv"), "w") as f:
        keys = list(rows[0].keys()) if rows else []
        f.write(",".join(keys) + "\n")
        for r in rows:
            f.write(",".join(str(r[k]) for k in keys) + "\n")
    summary = {"exit": rc, "wall_s": round(wall, 2), "media_hours": a.hours, "scale": a.scale,
               "segments": segments, "samples": len(rows), "metrics": {}}
    if rows:
        end = rows[-1]["media_hours"]
        warm = [r for r in rows if r["media_hours"] >= 0.1 * end] or rows
        half = [r for r in rows if r["media_hours"] >= 0.5 * end] or rows
        for k in ("rss_kb", "anon_kb", "threads", "fds", "cache_bytes", "cache_files"):
            summary["metrics"][k] = {
                "after_warmup": warm[0][k],
                "max_second_half": max(r[k] for r in half),
                "slope_per_media_hour": round(slope([r["media_hours"] for r in half],
                                                    [r[k] for r in half]), 1)}
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    json.dump(summary, sys.stdout, indent=1)
    print()
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
