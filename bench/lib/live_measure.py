#!/usr/bin/python3
"""One run of one player against a live HLS stream of its own, for bench/hls_live_vs_peers.sh:
live start (process spawn to the first PCM byte) and live latency (a segment or LL-HLS part
published on the server to its first sample on the player's stdout), measured by content.

  live_measure.py run --serve KITHARA_SERVE --vod VOD.m3u8 --ref REF.s16 --out RUN.json
                      [--parts N] [--window N] [--seconds S] [--phase F] [--work DIR]
                      [--name NAME] -- cmd...

cmd writes the stream's PCM on stdout as raw s16le stereo 44.1 kHz; @URL@ in it is the live
playlist's URL, @CACHE@ a fresh directory (for hls_playback --cache-dir).

The server: a fresh `kithara_serve <empty dir> --live /live/radio.m3u8=VOD --live-window N
[--live-ll-parts N] --log FILE` per run, so every run sees the same schedule. Its timeline is
deterministic (tests/support/test_server_live.hpp): with time scale 1, segment k is published
(complete in the playlist) at PDT(k) + EXTINF(k) and part j of it at PDT(k) + EXTINF(k)*(j+1)/N,
where PDT(k) = the playlist's EXT-X-PROGRAM-DATE-TIME, i.e. the server's wall clock at its start
minus the initial window, floored to the millisecond (so publish times are known to within
1 ms, on the same clock as ours). The playlist is read once after the server starts to learn
PDT(first); later PDTs follow from the VOD's EXTINF durations (the server computes them so).

The player is spawned at a phase F (0..1) of a segment after the server's start (runs spread
their phase), and its stdout is read until --seconds of wall time; each read is timestamped.
Content: REF.s16 is the VOD decoded by ffmpeg (s16le stereo 44.1 kHz, no priming trimmed, as
every player here decodes a live stream). Every 0.25 s of the player's PCM, a 93 ms probe is
located in REF by normalised cross-correlation (numpy FFT; near the previous position, else
anywhere): where the output is continuous, output sample n carries media position p, and the
first sample of segment (part) u leaves the player at the time of the read that brought byte
4(n+1). A jump between probes (skipped or repeated media) is counted and spans no unit.

Output (JSON): start_ms, first media position, behind_s (the live edge at the first PCM minus
the first sample's media position: how far from the live edge the player starts), latency_ms
per unit published after the spawn whose first sample came out, jumps, and from the server's
request log: requests, part requests, held playlist requests (blocking reloads / preload hints:
answered more than 100 ms after they arrived), errors (status >= 400).
"""
import argparse
import datetime
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np

RATE = 44100
PROBE = 4096          # samples per probe (93 ms)
STEP = RATE // 4      # a probe every 0.25 s of output
MIN_SCORE = 0.6       # normalised correlation a probe needs to count as located
MAX_BYTES = 64 << 20  # PCM kept per run (6 min of s16le stereo 44.1 kHz)


def extinf_us(vod):
    """The VOD's EXTINF durations in microseconds, rounded as the server rounds them."""
    out = []
    for line in open(vod):
        if line.startswith("#EXTINF:"):
            out.append(round(float(line[8:].split(",")[0]) * 1e6))
    if not out:
        sys.exit(f"{vod}: no EXTINF")
    return out


class timeline:
    """Media positions (us) of the live stream's segments and parts (tests/support/
    test_server_live_state.cpp: seg_start, seg_end, part_end)."""

    def __init__(self, dur, parts):
        self.dur, self.parts = dur, parts
        self.ends = np.cumsum(dur).tolist()
        self.cycle = self.ends[-1]

    def seg_start(self, k):
        n = len(self.dur)
        return (k // n) * self.cycle + self.ends[k % n] - self.dur[k % n]

    def seg_end(self, k):
        return self.seg_start(k) + self.dur[k % len(self.dur)]

    def unit(self, k, j):
        """(start, publish) media us of part j of segment k, or of segment k when j is None."""
        if j is None:
            return self.seg_start(k), self.seg_end(k)
        d = self.dur[k % len(self.dur)]
        s = self.seg_start(k)
        return s + d * j // self.parts, s + d * (j + 1) // self.parts


def parse_pdt(playlist):
    """(msn, unix seconds) of the playlist's first EXT-X-PROGRAM-DATE-TIME."""
    msn = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", playlist).group(1))
    m = re.search(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", playlist)
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
    return msn, t.replace(tzinfo=datetime.timezone.utc).timestamp()


def mono(pcm_bytes):
    a = np.frombuffer(pcm_bytes[: len(pcm_bytes) // 4 * 4], dtype="<i2").astype(np.float32)
    return (a[0::2] + a[1::2]) * 0.5


class locator:
    """Finds where a probe of the player's PCM sits in the reference (sample index)."""

    def __init__(self, ref):
        self.ref = ref
        c = np.concatenate(([0.0], np.cumsum(ref.astype(np.float64) ** 2)))
        self.energy = c  # energy of ref[a:b] = c[b] - c[a]

    def search(self, probe, lo, hi):
        lo, hi = max(0, lo), min(len(self.ref), hi + len(probe))
        if hi - lo < len(probe):
            return None, 0.0
        region = self.ref[lo:hi]
        n = 1 << int(np.ceil(np.log2(len(region) + len(probe))))
        c = np.fft.irfft(np.fft.rfft(region, n) * np.conj(np.fft.rfft(probe, n)), n)
        lags = len(region) - len(probe) + 1
        c = c[:lags]
        e = self.energy[lo + len(probe): lo + len(probe) + lags] - self.energy[lo: lo + lags]
        pe = float(np.dot(probe, probe))
        score = c / np.sqrt(np.maximum(e, 1e-9) * pe)
        i = int(np.argmax(score))
        return lo + i, float(score[i])

    def locate(self, probe, guess):
        if float(np.dot(probe, probe)) < len(probe) * 100.0:  # near silence: cannot tell
            return None, 0.0
        if guess is not None:
            r, s = self.search(probe, guess - RATE, guess + RATE)
            if s >= MIN_SCORE:
                return r, s
        best = (None, 0.0)
        chunk = 1 << 20
        for lo in range(0, len(self.ref), chunk):
            r, s = self.search(probe, lo, lo + chunk)
            if s > best[1]:
                best = (r, s)
        return best if best[1] >= MIN_SCORE else (None, best[1])


def probe_map(out, loc):
    """[(output index, reference index)] every STEP samples where a probe was located."""
    pts, guess, last = [], None, None
    for i in range(0, len(out) - PROBE + 1, STEP):
        if last is not None:
            guess = last[1] + (i - last[0])
        r, _ = loc.locate(out[i: i + PROBE], guess)
        if r is not None:
            pts.append((i, r))
            last = (i, r)
    return pts


def run(a, cmd):
    work = a.work or tempfile.mkdtemp(prefix="live_measure_")
    os.makedirs(work, exist_ok=True)
    empty = os.path.join(work, "www")
    os.makedirs(empty, exist_ok=True)
    log = os.path.join(work, "serve.log")
    dur = extinf_us(a.vod)
    tl = timeline(dur, a.parts)
    ref = mono(open(a.ref, "rb").read())
    loc = locator(ref)

    sargs = [a.serve, empty, "--live", f"/live/radio.m3u8={a.vod}", "--live-window", str(a.window),
             "--log", log]
    if a.parts:
        sargs += ["--live-ll-parts", str(a.parts)]
    server = subprocess.Popen(sargs, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    res = {"name": a.name, "vod": os.path.basename(a.vod), "parts": a.parts, "phase": a.phase}
    peer = None
    try:
        line = server.stdout.readline()  # the port, written once the live stream exists
        if not line.strip().isdigit():
            raise RuntimeError(f"kithara_serve did not start (exit {server.wait()})")
        port = int(line)
        url = f"http://127.0.0.1:{port}/live/radio.m3u8"
        with urllib.request.urlopen(url, timeout=5) as r:
            first_msn, first_pdt = parse_pdt(r.read().decode())
        epoch = first_pdt - tl.seg_start(first_msn) / 1e6  # unix time of media position 0
        initial = a.window  # segments published at the server's start
        t0_unix = epoch + tl.seg_end(initial - 1) / 1e6
        # Unix <-> monotonic: one offset for the run (a minute; no NTP step expected).
        off = time.time() - time.monotonic()

        # Spawn at the phase: one timed wait (a schedule, not a poll).
        start_at = t0_unix + a.phase * dur[initial % len(dur)] / 1e6
        delay = start_at - (time.monotonic() + off)
        if delay > 0:
            time.sleep(delay)
        cache = os.path.join(work, "cache")
        c = [x.replace("@URL@", url).replace("@CACHE@", cache) for x in cmd]
        errf = open(os.path.join(work, "stderr.txt"), "wb")
        t_spawn = time.monotonic()
        try:
            peer = subprocess.Popen(c, stdout=subprocess.PIPE, stderr=errf,
                                    start_new_session=True)
        except OSError as e:
            res.update(start_ms=None, error=f"cannot run {c[0]}: {e.strerror}")
            return res
        times, cum, chunks, total = [], [], [], 0
        deadline = t_spawn + a.seconds
        fd = peer.stdout.fileno()
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            b = os.read(fd, 1 << 16)
            now = time.monotonic()
            if not b:
                break
            if total + len(b) > MAX_BYTES:  # a player gone wild: keep what fits, stop
                res["capped"] = True
                break
            total += len(b)
            times.append(now)
            cum.append(total)
            chunks.append(b)
        res["exit"] = peer.poll()
    finally:
        if peer is not None:
            try:
                os.killpg(peer.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            peer.wait()
        server.send_signal(signal.SIGTERM)  # it writes its request log, then exits
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    res["bytes"] = total
    err = open(os.path.join(work, "stderr.txt"), "rb").read().decode(errors="replace").strip()
    res["stderr"] = err[-300:]
    res.update(server_log(log))
    if not total:
        res["start_ms"] = None
        return res
    res["start_ms"] = round((times[0] - t_spawn) * 1000, 1)

    out = mono(b"".join(chunks))
    pts = probe_map(out, loc)
    res["probes"] = len(pts)
    res["probes_expected"] = max(0, (len(out) - PROBE) // STEP + 1)
    if not pts:
        res["error"] = "PCM not found in the reference"
        return res
    # Continuous stretches of the probe map.
    stretches, jumps = [[pts[0]]], []
    for p, q in zip(pts, pts[1:]):
        d = (q[1] - p[1]) - (q[0] - p[0])
        if abs(d) <= 3:
            stretches[-1].append(q)
        else:
            jumps.append(round(d / RATE * 1000))
            stretches.append([q])
    res["jumps_ms"] = jumps
    cum_a, times_a = np.array(cum), np.array(times)

    def out_time(n):  # monotonic time the read that brought output sample n ended
        i = int(np.searchsorted(cum_a, (n + 1) * 4))
        return times_a[i] if i < len(times_a) else None

    def out_index(r):  # output sample carrying reference sample r, inside a stretch
        for s in stretches:
            i0, r0 = s[0]
            i1, r1 = s[-1]
            if r0 <= r <= r1 + STEP:
                n = i0 + (r - r0)
                return n if n < len(out) else None
        return None

    src_samples = int(round(tl.cycle * RATE / 1e6))
    i0, r0 = pts[0]
    first_media = (r0 - i0) / RATE  # media position (s) of output sample 0 (the first cycle)
    res["first_media_s"] = round(first_media, 3)
    res["first_probe_s"] = round(i0 / RATE, 3)  # > 0: the PCM began with what no probe located

    def unix(mono_t):
        return mono_t + off

    def edge(t_unix):  # media us of the newest published piece at a unix time
        k = initial - 1
        while epoch + tl.seg_end(k + 1) / 1e6 <= t_unix:
            k += 1
        e = tl.seg_end(k)
        if a.parts:
            j = 0
            while j < a.parts - 1 and epoch + tl.unit(k + 1, j)[1] / 1e6 <= t_unix:
                e = tl.unit(k + 1, j)[1]
                j += 1
        return e

    res["behind_s"] = round(edge(unix(times[0])) / 1e6 - first_media, 3)
    lat = []
    k = initial
    t_end_unix = unix(times[-1])
    while epoch + tl.seg_end(k) / 1e6 <= t_end_unix:
        for j in (range(a.parts) if a.parts else [None]):
            start_us, pub_us = tl.unit(k, j)
            pub = epoch + pub_us / 1e6
            if pub <= unix(t_spawn):
                continue
            r = int(round(start_us * RATE / 1e6)) % src_samples
            n = out_index(r)
            if n is None:
                continue
            t = out_time(n)
            if t is None:
                continue
            lat.append([k if j is None else f"{k}.{j}", round((unix(t) - pub) * 1000, 1)])
        k += 1
    res["latency_ms"] = lat
    return res


def server_log(path):
    """Counts from kithara_serve's request log, the player's requests only (the first is the
    bench's own playlist read, before the player starts)."""
    req = parts = held = errors = 0
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return {"log": "missing"}
    for line in lines[1:]:
        f = line.split()
        if len(f) < 3:
            continue
        req += 1
        kv = dict(x.split("=", 1) for x in f[2:] if "=" in x)
        if re.search(r"\.p\d+\.[a-z0-9]+$", f[1]):
            parts += 1
        if int(kv.get("status", 0)) >= 400:
            errors += 1
        s, e = float(kv.get("start_ms", -1)), float(kv.get("end_ms", -1))
        if f[1].endswith(".m3u8") and e >= 0 and e - s > 100:
            held += 1
    return {"requests": req, "part_requests": parts, "held_playlists": held, "errors": errors}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["run"])
    ap.add_argument("--serve", required=True)
    ap.add_argument("--vod", required=True)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--parts", type=int, default=0)
    ap.add_argument("--window", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=14)
    ap.add_argument("--phase", type=float, default=0.5)
    ap.add_argument("--work")
    ap.add_argument("--name", default="")
    argv = sys.argv[1:]
    sep = argv.index("--")
    a = ap.parse_args(argv[:sep])
    res = run(a, argv[sep + 1:])
    with open(a.out, "w") as f:
        json.dump(res, f)
    lat = [x[1] for x in res.get("latency_ms", [])]
    print(f"{a.name}: start={res.get('start_ms')} ms behind={res.get('behind_s')} s "
          f"latency median={np.median(lat) if lat else None} ms ({len(lat)} units) "
          f"jumps={res.get('jumps_ms')} parts={res.get('part_requests')} "
          f"held={res.get('held_playlists')} exit={res.get('exit')}")


main()
