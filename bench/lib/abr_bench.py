#!/usr/bin/env python3
"""Adaptive-bitrate runs for bench/hls_abr_vs_peers.sh: one player, one link schedule, one
kithara_serve of its own (so the schedule's clock starts with the player), real time.

    abr_bench.py run <out.json> --serve BIN --root DIR --master PATH --schedule S --seconds N
                     --player NAME [--hp BIN] [--work DIR]
    abr_bench.py table [--targets A|B|C] <title> <run.json>...   Markdown table of the runs of
                                                 one schedule (and kithara against issue 16's
                                                 targets for that schedule)

run: starts `kithara_serve ROOT --schedule S --log FILE`, then the player on
http://127.0.0.1:PORT/MASTER, for N seconds of playback (every player has a timeout), stops the
server and writes the run (the server's request log, the player's own report, the master's
variants and segments, the schedule) as JSON. Players: kithara (hls_playback --realtime
--stats-json, a fresh cache dir: no persisted estimate), playbin and playbin3
(bench/lib/abr_gst.py under /usr/bin/python3 with gi), ffmpeg (-re, the first variant: its HLS
demuxer never switches; no stall or startup figure), vlc (cvlc with the dummy audio output, as
nobody; the figures of the server's log only).

table: per run, from the server's log (the same for every player): the variant played per
segment, for every segment fetched during the run (the first complete response for each segment index: a segment refetched after an abort
or fetched again to prime a decoder counts once, as played by its first complete fetch), switches
(changes along that sequence; in brackets those whose request started 10 s or more into the run), the seconds from the schedule's first drop to the first request of
a variant with a lower BANDWIDTH than the one requested before the drop, extra segment fetches;
from the player: stalls (count and seconds: the media position falling more than 100 ms behind
the wall clock; kithara: its --realtime pacer's underruns and lateness, GStreamer: the rendered
buffers' timestamps against the clock) and startup (process start to the first sample rendered);
and average played BANDWIDTH over the ideal: each played segment is heard from the player's
first sample (on the server's clock) plus its media time, and the ideal for that interval is the
best variant whose BANDWIDTH fits the scheduled rate at each moment (the lowest when none fits);
above 1 when a deep buffer plays a better variant through a dip than the link could carry, below
when it still plays what it fetched before the link recovered. Stalls do not shift the heard time.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))


# --- the stream -----------------------------------------------------------------------------

def parse_master(root, master):
    """[{uri, bandwidth, segments: [[path from root, duration]], init: path|None}] by BANDWIDTH."""
    base = os.path.dirname(master)
    out, bw = [], None
    with open(os.path.join(root, master)) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#EXT-X-STREAM-INF:"):
                bw = int(re.search(r"[:,]BANDWIDTH=(\d+)", line).group(1))
            elif line and not line.startswith("#"):
                out.append(parse_media(root, os.path.normpath(os.path.join(base, line)), bw))
    return sorted(out, key=lambda v: v["bandwidth"])


def parse_media(root, uri, bw):
    base = os.path.dirname(uri)
    segs, init, dur = [], None, None
    with open(os.path.join(root, uri)) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#EXTINF:"):
                dur = float(line[8:].split(",")[0])
            elif line.startswith("#EXT-X-MAP:"):
                init = os.path.normpath(os.path.join(base, re.search(r'URI="([^"]+)"', line)[1]))
            elif line and not line.startswith("#"):
                segs.append([os.path.normpath(os.path.join(base, line)), dur])
    return {"uri": uri, "bandwidth": bw, "segments": segs, "init": init}


def parse_schedule(s):
    """"0:2M,30:250k" -> [(0.0, 2e6), (30.0, 250e3)] (bits/s)."""
    steps = []
    for step in s.split(","):
        t, rate = step.split(":")
        mult = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6}.get(rate[-1], 1)
        steps.append((float(t), float(rate.rstrip("kKmM")) * mult))
    return sorted(steps)


def rate_at(steps, t):
    r = steps[0][1]
    for at, rate in steps:
        if at <= t:
            r = rate
    return r


# --- run ------------------------------------------------------------------------------------

def player_command(a, url, report, total):
    if a.player == "kithara":
        cmd = [a.hp, url, "--realtime", "--quiet", "--stats-json", report, "--cache-dir",
               os.path.join(a.work, "cache")]
        if a.seconds < total:
            cmd += ["--duration", str(a.seconds)]
        return cmd
    if a.player in ("playbin", "playbin3"):
        return ["/usr/bin/python3", os.path.join(here, "abr_gst.py"), a.player, url,
                str(a.seconds), report]
    if a.player == "vlc":
        # VLC refuses to run as root: as nobody, with a HOME of its own; the dummy audio output
        # still plays at the stream's pace.
        home = tempfile.mkdtemp(prefix="kithara-abr-vlc-")
        os.chmod(home, 0o777)
        a.cleanup.append(home)
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "env",
                f"HOME={home}", "cvlc", "-q", "--intf", "dummy", "--no-video", "--aout", "dummy",
                "--play-and-exit", f"--run-time={a.seconds:g}", url]
    if a.player == "ffmpeg":
        return ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-i", url, "-map", "0:a:0",
                "-t", str(a.seconds), "-f", "null", "-"]
    sys.exit(f"abr_bench: unknown player {a.player}")


def run(a):
    variants = parse_master(a.root, a.master)
    total = sum(d for _, d in variants[0]["segments"])
    a.cleanup = []
    a.work = a.work or tempfile.mkdtemp(prefix="kithara-abr-")
    os.makedirs(a.work, exist_ok=True)
    shutil.rmtree(os.path.join(a.work, "cache"), ignore_errors=True)
    log_file = os.path.join(a.work, "serve.log")
    report = os.path.join(a.work, "player.json")
    for f in (log_file, report):
        if os.path.exists(f):
            os.remove(f)
    # SIGTERM ends the run like Ctrl-C does: the finally below stops the player and the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t_server = time.monotonic()
    srv = subprocess.Popen([a.serve, a.root, "--schedule", a.schedule, "--log", log_file],
                           stdout=subprocess.PIPE, text=True)
    p = None
    try:
        port = int(srv.stdout.readline())
        url = f"http://127.0.0.1:{port}/{a.master}"
        cmd = player_command(a, url, report, total)
        t_player = time.monotonic()
        # A session of its own: the timeout kills the player with its children (gst's threads,
        # ffmpeg), nothing else.
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
        timeout = a.seconds + 30
        try:
            _, err = p.communicate(timeout=timeout)
            status = f"exit {p.returncode}" if p.returncode else "ok"
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            _, err = p.communicate()
            status = f"killed after {timeout} s"
        t_end = time.monotonic()
    finally:
        if p is not None and p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        if srv.poll() is None:
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=30)
            except subprocess.TimeoutExpired:
                srv.kill()
        for d in a.cleanup:
            shutil.rmtree(d, ignore_errors=True)
    log = []
    if os.path.exists(log_file):
        with open(log_file) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                e = {"method": parts[0], "path": parts[1].lstrip("/")}
                for kv in parts[2:]:
                    k, _, v = kv.partition("=")
                    e[k] = v
                log.append(e)
    own = None
    if os.path.exists(report):
        with open(report) as f:
            own = json.load(f)
    out = {"player": a.player, "schedule": a.schedule, "seconds": a.seconds, "master": a.master,
           "variants": variants, "command": cmd, "status": status,
           "stderr": err.decode(errors="replace")[-2000:], "player_offset_s": t_player - t_server,
           "wall_s": t_end - t_player, "log": log, "report": own,
           "load": open("/proc/loadavg").read().split()[0]}
    with open(a.out, "w") as f:
        json.dump(out, f)
    print(f"{a.player}: {status}, {len(log)} requests", file=sys.stderr)


# --- analysis -------------------------------------------------------------------------------

def analyse(r):
    variants = r["variants"]
    steps = parse_schedule(r["schedule"])
    bws = [v["bandwidth"] for v in variants]
    where = {}  # path -> (variant, segment index)
    for vi, v in enumerate(variants):
        for si, (p, _) in enumerate(v["segments"]):
            where[p] = (vi, si)
    requests = []  # (start_s, variant, segment, complete)
    for e in r["log"]:
        if e["path"] in where and e.get("status") in ("200", "206"):
            vi, si = where[e["path"]]
            requests.append((float(e["start_ms"]) / 1000, vi, si, e.get("complete") == "1"))
    requests.sort()
    played, when = {}, {}
    for t, vi, si, complete in requests:
        if complete and si not in played:
            played[si], when[si] = vi, t
    order = sorted(played)
    seq = [played[i] for i in order]
    switch_at = [when[j] for i, j in zip(order, order[1:]) if played[i] != played[j]]
    a = {"segments": len(seq), "requests": len(requests),
         # Fetches of a segment besides the one that played it (aborts, priming, probing);
         # a download the end of the run cut short is none.
         "extra_fetches": sum(1 for _, _, si, _ in requests if si in played) - len(seq),
         "switches": len(switch_at),
         "switches_after_10s": sum(1 for t in switch_at if t >= 10), "runs": []}
    for v in seq:
        if a["runs"] and a["runs"][-1][0] == v:
            a["runs"][-1][1] += 1
        else:
            a["runs"].append([v, 1])
    # The first drop of the schedule and the first request of a lower variant after it.
    a["drop_to_lower_s"] = None
    a["drop"] = None
    for (_, r0), (t1, r1) in zip(steps, steps[1:]):
        if r1 < r0:
            a["drop"] = t1
            before = [vi for t, vi, _, _ in requests if t < t1]
            if not before:
                a["drop_note"] = "no request before the drop"
            elif bws[before[-1]] == min(bws):
                a["drop_note"] = "on the lowest already"
            else:
                after = [t for t, vi, _, _ in requests if t >= t1 and bws[vi] < bws[before[-1]]]
                if after:
                    a["drop_to_lower_s"] = after[0] - t1
                else:
                    a["drop_note"] = "never"
            break
    own = r.get("report") or {}
    p = r["player"]
    a["startup_s"] = a["stalls"] = a["stall_s"] = None
    if p == "kithara" and own:
        if own.get("time_to_first_sample_ms") is not None:
            a["startup_s"] = own["time_to_first_sample_ms"] / 1000
        a["stalls"] = own.get("output_underruns")
        a["stall_s"] = own.get("output_late_s")
        a["own_switches"] = own.get("switches")
        a["own_runs"] = own.get("variant_runs")
    elif p in ("playbin", "playbin3") and own:
        a["startup_s"] = own.get("startup_s")
        a["stalls"] = own.get("stalls")
        a["stall_s"] = own.get("stall_s")
        a["buffering"] = own.get("buffering")
        a["init_s"] = own.get("init_s")
        a["error"] = own.get("error")
    # Average played BANDWIDTH over the ideal, over the segments heard within the run.
    first = r["player_offset_s"] + (a["startup_s"] if a["startup_s"] is not None else (
        min((t for t, _, _, c in requests), default=0)))
    end = r["player_offset_s"] + r["wall_s"]

    def ideal(t):
        rate = rate_at(steps, t)
        fit = [b for b in bws if b <= rate]
        return max(fit) if fit else min(bws)

    got = want = 0.0
    media = 0.0
    segs = variants[0]["segments"]
    for si in sorted(played):
        if si >= len(segs):
            break
        d = segs[si][1]
        t0 = first + media
        media += d
        if t0 >= end:
            break
        n = max(1, int(d / 0.05))
        want += sum(ideal(t0 + (k + 0.5) * d / n) for k in range(n)) * d / n
        got += bws[played[si]] * d
    a["ratio"] = got / want if want else None
    return a


def kbit(b):
    return f"{b / 1000:.0f}k"


def targets(name, results):
    """Issue 16's targets for kithara on schedules A, B and C: "what: figure met|missed" lines."""
    k = results.get("kithara")
    if k is None or name not in ("A", "B", "C"):
        return []

    def line(what, ok, figure):
        return f"{what}: {figure} — {'met' if ok else 'missed'}"

    out = []
    if name == "A":
        d = k["drop_to_lower_s"]
        out.append(line("switch down ≤ 6 s after the drop", d is not None and d <= 6,
                        k.get("drop_note", "never") if d is None else f"{d:.1f} s"))
        out.append(line("0 stalls", k["stalls"] == 0, f"{k['stalls']}"))
        out.append(line("average / ideal ≥ 0.95", (k["ratio"] or 0) >= 0.95,
                        f"{k['ratio']:.2f}" if k["ratio"] is not None else "—"))
        out.append(line("≤ 3 switches", k["switches"] <= 3, f"{k['switches']}"))
    elif name == "B":
        st = k["startup_s"]
        out.append(line("startup ≤ 0.6 s", st is not None and st <= 0.6,
                        "—" if st is None else f"{st:.2f} s"))
        out.append(line("0 stalls", k["stalls"] == 0, f"{k['stalls']}"))
        out.append(line("no switch after the first 10 s", k["switches_after_10s"] == 0,
                        f"{k['switches_after_10s']}"))
    else:
        peers = [a["stall_s"] for p, a in results.items()
                 if p in ("playbin", "playbin3") and a["stall_s"] is not None]
        if peers and k["stall_s"] is not None:
            best = min(peers)
            out.append(line("stall time ≤ 0.5 × the best peer's", k["stall_s"] <= 0.5 * best,
                            f"{k['stall_s']:.2f} s against {best:.2f} s"))
    return out


def table(title, files, name=None):
    runs = [json.load(open(f)) for f in files]
    if not runs:
        return
    r0 = runs[0]
    bws = [v["bandwidth"] for v in r0["variants"]]
    print(f"\n{title}: link {r0['schedule']} (bit/s, s:rate), {r0['seconds']} s, "
          f"{r0['master']} ({' / '.join(kbit(b) for b in bws)} BANDWIDTH)\n")
    print("| player | variant per segment fetched (BANDWIDTH×segments) | switches (after 10 s) |"
          " drop → lower variant | stalls (time) | startup | avg / ideal | load |")
    print("|---|---|---|---|---|---|---|---|")
    notes = []
    results = {}
    for r in runs:
        a = analyse(r)
        results[r["player"]] = a
        p = r["player"] + {"ffmpeg": " (no ABR)", "vlc": " (log only)"}.get(r["player"], "")
        runs_s = " → ".join(f"{kbit(bws[v])}×{n}" for v, n in a["runs"]) or "—"
        if a["drop"] is None:
            drop = "—"
        elif a["drop_to_lower_s"] is not None:
            drop = f"{a['drop_to_lower_s']:.1f} s"
        else:
            drop = a.get("drop_note", "—")
        stalls = "—" if a["stalls"] is None else f"{a['stalls']} ({a['stall_s']:.2f} s)"
        startup = "—" if a["startup_s"] is None else f"{a['startup_s']:.2f} s"
        ratio = "—" if a["ratio"] is None else f"{a['ratio']:.2f}"
        print(f"| {p} | {runs_s} | {a['switches']} ({a['switches_after_10s']}) | {drop} | {stalls} |"
              f" {startup} | {ratio} | {r['load']} |")
        extra = []
        if r["status"] != "ok":
            extra.append(r["status"])
        if a["extra_fetches"]:
            extra.append(f"{a['extra_fetches']} segment fetches beyond one per segment")
        if a.get("own_switches") is not None and a["own_switches"] != a["switches"]:
            extra.append(f"its own count: {a['own_switches']} switches ({a['own_runs']})")
        if a.get("buffering"):
            extra.append(f"{a['buffering']} buffering pauses")
        if a.get("init_s") is not None:
            extra.append(f"startup includes {a['init_s']:.2f} s of Python and Gst.init")
        if a.get("error"):
            extra.append(f"error: {a['error'][:120]}")
        if extra:
            notes.append(f"{r['player']}: " + "; ".join(extra))
    goals = targets(name, results)
    if goals:
        notes.append("kithara against issue 16's targets: " + "; ".join(goals))
    for n in notes:
        print(f"\n- {n}", end="")
    if notes:
        print()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    rp = sub.add_parser("run")
    rp.add_argument("out")
    for k in ("serve", "root", "master", "schedule", "player"):
        rp.add_argument("--" + k, required=True)
    rp.add_argument("--seconds", type=float, required=True)
    rp.add_argument("--hp")
    rp.add_argument("--work")
    tp = sub.add_parser("table")
    tp.add_argument("title")
    tp.add_argument("--targets", help="A, B or C: check kithara against issue 16's targets")
    tp.add_argument("files", nargs="*")
    a = ap.parse_args()
    if a.cmd == "run":
        run(a)
    else:
        table(a.title, a.files, a.targets)


if __name__ == "__main__":
    main()
