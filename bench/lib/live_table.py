#!/usr/bin/python3
"""The Markdown table of one case of bench/hls_live_vs_peers.sh, from the runs' JSON
(bench/lib/live_measure.py writes them as <dir>/<player>/run<i>/result.json).

  live_table.py [--load "1.0 0.9 0.8"] <case> <dir>

Per player: live start (process spawn to the first PCM byte): median and min–max over the runs;
where it starts (the live edge at its first PCM minus the media position of its first sample,
median over the runs); live latency (a segment, or part with LL-HLS, published on the server to
its first sample out of the player): the median of every unit of every run (the runs spread the
phase of the player's start over a segment, on which a player that reloads on its own schedule
depends), with the min–max of the runs' medians and the 90th percentile of every unit; the jumps in its PCM (media skipped or
repeated); what it asked the server (requests per run, part requests, held playlist requests =
blocking reloads and preload hints; HTTP errors).
"""
import json
import os
import statistics
import sys


def fmt(x, digits=0):
    return "—" if x is None else f"{x:.{digits}f}"


def main():
    args = sys.argv[1:]
    load = ""
    if args[0] == "--load":
        load, args = args[1], args[2:]
    case, d = args
    unit = "part" if "+parts" in case else "segment"
    print(f"| {case}: player | live start, ms (min–max) | starts behind the edge, s "
          f"| {unit} published → its PCM, ms: all units (run medians min–max; p90) | ok runs "
          f"| jumps | requests / parts / held / errors per run |")
    print("|---|---|---|---|---|---|---|")
    for p in sorted(os.listdir(d), key=lambda s: (not s.startswith("kithara"), s)):
        rs = []
        pd = os.path.join(d, p)
        for r in sorted(os.listdir(pd)):
            f = os.path.join(pd, r, "result.json")
            if os.path.exists(f):
                rs.append(json.load(open(f)))
        if not rs:
            continue
        starts = [r["start_ms"] for r in rs if r.get("start_ms") is not None]
        behind = [r["behind_s"] for r in rs if r.get("behind_s") is not None]
        meds, pooled = [], []
        for r in rs:
            lat = [x[1] for x in r.get("latency_ms", [])]
            if lat:
                meds.append(statistics.median(lat))
                pooled += lat
        ok = sum(1 for r in rs if r.get("latency_ms"))
        jumps = sum(len(r.get("jumps_ms", [])) for r in rs)
        n = len(rs)

        def per_run(key):
            return sum(r.get(key, 0) for r in rs) / n

        why = sorted({r.get("error") or f"exit {r.get('exit')}" for r in rs
                      if r.get("start_ms") is None})
        start = (f"{fmt(statistics.median(starts))} ({fmt(min(starts))}–{fmt(max(starts))})"
                 if starts else f"no PCM ({'; '.join(why)})")
        lat = "—"
        if meds:
            p90 = sorted(pooled)[min(len(pooled) - 1, int(0.9 * len(pooled)))]
            lat = (f"{fmt(statistics.median(pooled))} ({fmt(min(meds))}–{fmt(max(meds))}; "
                   f"{fmt(p90)})")
        print(f"| {p} | {start} | {fmt(statistics.median(behind), 2) if behind else '—'} "
              f"| {lat} | {ok}/{n} | {jumps} | {per_run('requests'):.0f} / "
              f"{per_run('part_requests'):.0f} / {per_run('held_playlists'):.0f} / "
              f"{per_run('errors'):.0f} |")
    if load:
        print(f"\nload at the end of the case: {load}")


main()
