#!/usr/bin/env python3
"""hls_playback's command line, checked by content on the generated `demo` HLS stream (four
variants, 59.5 s; tests/media/hls/generate_hls.sh) served by kithara_serve on loopback, against
its reference.json.

    hls_playback_cli.py <hls_playback> <kithara_serve> <demo-dir> <case>

cases: demo (no URL: the built-in demo), abr (the adaptive-bitrate record in --stats-json,
--max-bandwidth, --abr fixed, --realtime --speed), variants (each variant's PCM length and the
s16le stdout pipe), trim (--seek/--duration exact and equal to the same window of the full
decode), list, offline (after a full play: zero requests in the server log), cached (a second
online play takes every segment from the cache: no segment request), pin (--pin downloads
without decoding, then --offline plays every sample with zero requests), gaps_on_error (a
missing segment ends the run, or with --gaps-on-error becomes one gap), usage (exit 2),
not_found (a 404 URL exits 1 naming the status), audio (--list shows renditions; --audio picks
one by NAME or language).
"""
import atexit
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from serve_process import served

player, serve, demo_dir, case = sys.argv[1:5]
work = tempfile.mkdtemp(prefix="kithara-hls-cli-")
atexit.register(shutil.rmtree, work, True)
with open(os.path.join(demo_dir, "reference.json")) as f:
    reference = json.load(f)


def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")


def path(name):
    return os.path.join(work, name)


def run(*args, expect=0):
    p = subprocess.run([player, *args], capture_output=True, timeout=120)
    if p.returncode != expect:
        sys.exit(f"hls_playback {' '.join(args)}: exit {p.returncode}, expected {expect}\n"
                 f"{p.stderr.decode(errors='replace')}")
    return p


def stats(*args):
    """Runs with --stats-json and returns the statistics."""
    run(*args, "--quiet", "--stats-json", path("stats.json"))
    with open(path("stats.json")) as f:
        return json.load(f)


class server(served):
    """kithara_serve over the demo directory; log() stops it and returns the request log."""

    def __init__(self, root=demo_dir):
        super().__init__(serve, root, path(f"server-{len(os.listdir(work))}.log"))


def master_variants():
    """(uri, bandwidth) of each variant of the demo's master playlist, in order."""
    out, bw = [], None
    with open(os.path.join(demo_dir, "master.m3u8")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#EXT-X-STREAM-INF:"):
                bw = int(line.split("BANDWIDTH=")[1].split(",")[0])
            elif line and not line.startswith("#"):
                out.append((line, bw))
    return out


def ref_of(uri):
    for v in reference["variants"]:
        if v["playlist"] == uri:
            return v
    sys.exit(f"FAIL: no reference for {uri}")


def rate_of(ref):
    return ref["decode_parts"][0]["sample_rate"]


def segment_files(uri):
    """The media segment files of a variant playlist of the demo, in order."""
    with open(os.path.join(demo_dir, uri)) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def check_counters(s, what):
    """retries is a count (not null) and every segment is counted once, network or cache."""
    check(isinstance(s["retries"], int) and s["retries"] >= 0, f"{what}: retries {s['retries']!r}")
    n = s["segments_from_network"] + s["segments_from_cache"]
    check(n == s["segments"], f"{what}: {s['segments_from_network']} segments from the network + "
                              f"{s['segments_from_cache']} from the cache, the variant has "
                              f"{s['segments']}")


variants = master_variants()
check(len(variants) >= 4, f"the demo has {len(variants)} variants")
lowest = min(range(len(variants)), key=lambda i: variants[i][1])

if case == "demo":
    # No URL: the built-in demo, the lowest-bandwidth variant (adaptation off: its variants
    # change the sample rate), every sample of it.
    s = stats("--format", "f32le", "--out", path("demo.f32"), "--abr", "fixed")
    ref = ref_of(variants[lowest][0])
    check(s["ok"] and s["variant"] == lowest, f"demo played variant {s.get('variant')}")
    check(s["frames"] == ref["pcm_samples"],
          f"demo: {s['frames']} frames, reference {ref['pcm_samples']}")
    check(os.path.getsize(path("demo.f32")) == ref["pcm_samples"] * 8, "demo f32le size")
    check(s["rate"] == rate_of(ref) and s["channels"] == 2, "demo output format")

elif case == "variants":
    srv = server()
    for i, (uri, bw) in enumerate(variants):
        ref = ref_of(uri)
        # By index, and (for the last) by BANDWIDTH.
        sel = str(bw) if i == len(variants) - 1 else str(i)
        s = stats(srv.url("master.m3u8"), "--variant", sel, "--cache-dir", path("cache"))
        check(s["variant"] == i, f"--variant {sel} played variant {s['variant']}")
        check(s["rate"] == rate_of(ref), f"{uri}: rate {s['rate']}, reference {rate_of(ref)}")
        check(s["frames"] == ref["pcm_samples"],
              f"{uri}: {s['frames']} frames, reference {ref['pcm_samples']}")
    # Raw s16le on stdout, as `| aplay -f S16_LE` or `| ffplay -f s16le` read it: every frame.
    uri = variants[lowest][0]
    p = run(srv.url("master.m3u8"), "--quiet", "--out", "-", "--format", "s16le",
            "--cache-dir", path("cache"))
    check(len(p.stdout) == ref_of(uri)["pcm_samples"] * 4,
          f"s16le on stdout: {len(p.stdout)} bytes, want {ref_of(uri)['pcm_samples'] * 4}")

elif case == "trim":
    srv = server()
    url = srv.url("master.m3u8")
    for i in (lowest, 1):  # an fMP4 and the MPEG-TS variant
        rate = rate_of(ref_of(variants[i][0]))
        run(url, "--quiet", "--variant", str(i), "--format", "f32le", "--out", path("full"),
            "--cache-dir", path("cache"))
        # The start, mid-segment, and mid-stream.
        for seek, dur in ((10.5, 3.25), (0.0, 1.0), (31.7, 0.5)):
            s = stats(url, "--variant", str(i), "--seek", str(seek), "--duration", str(dur),
                      "--format", "f32le", "--out", path("part"), "--cache-dir", path("cache"))
            want = round(dur * rate)
            check(s["frames"] == want, f"--seek {seek} --duration {dur}: {s['frames']} frames, "
                                       f"want {want}")
            check(os.path.getsize(path("part")) == want * 8, "trimmed f32le size")
            # The window is the full decode's samples from round(seek * rate) on.
            first = round(seek * rate)
            with open(path("full"), "rb") as f:
                f.seek(first * 8)
                full = struct.unpack(f"<{want * 2}f", f.read(want * 8))
            with open(path("part"), "rb") as f:
                part = struct.unpack(f"<{want * 2}f", f.read())
            sig = sum(x * x for x in full)
            err = sum((x - y) ** 2 for x, y in zip(full, part))
            snr = math.inf if err == 0 else 10 * math.log10(sig / err)
            check(sig > 0, "the reference window is silent")
            check(snr >= 40, f"variant {i} --seek {seek}: SNR {snr:.1f} dB against the same "
                             "window of the full decode (want >= 40)")

elif case == "list":
    srv = server()
    p = run(srv.url("master.m3u8"), "--list")
    lines = p.stdout.decode().splitlines()
    for i, (uri, bw) in enumerate(variants):
        hits = [ln for ln in lines if ln.split()[:2] == [str(i), f"BANDWIDTH={bw}"]]
        check(len(hits) == 1 and hits[0].endswith(uri), f"--list: no line for variant {i} {uri}:"
                                                        f"\n{p.stdout.decode()}")
    paths = {e[1] for e in srv.log()}
    check(paths == {"/master.m3u8"}, f"--list fetched {sorted(paths)}, want only the master")

elif case == "offline":
    srv = server()
    url = srv.url("master.m3u8")
    first = stats(url, "--variant", "2", "--cache-dir", path("cache"))
    again = stats(url, "--variant", "2", "--cache-dir", path("cache"), "--offline")
    log = srv.log()
    check(first["requests"] > 0 and first["bytes_network"] > 0, "the first play downloaded")
    check(len(log) == first["requests"],  # playlists, init and segments
          f"the server saw {len(log)} requests, the first play made {first['requests']}: the "
          "offline play made the rest")
    check(again["requests"] == 0 and again["bytes_network"] == 0, "offline play requested")
    check(again["frames"] == first["frames"], "offline play is not the whole stream")
    check(again["segments_from_cache"] == again["segments"] and
          again["segments_from_network"] == 0, "offline segments not from the cache")
    check_counters(first, "first play")
    check_counters(again, "offline play")

elif case == "cached":
    # A second online play with the same cache: playlists may be fetched again, segments never.
    srv = server()
    url = srv.url("master.m3u8")
    first = stats(url, "--variant", "0", "--cache-dir", path("cache"))
    again = stats(url, "--variant", "0", "--cache-dir", path("cache"))
    log = srv.log()
    check_counters(first, "first play")
    check_counters(again, "cached play")
    check(first["segments_from_network"] == first["segments"] and first["retries"] == 0,
          f"first play: {first['segments_from_network']} of {first['segments']} segments "
          f"downloaded, {first['retries']} retries")
    check(again["segments_from_cache"] == again["segments"] and
          again["segments_from_network"] == 0, "the cached play downloaded segments")
    check(again["frames"] == first["frames"], "the cached play is not the whole stream")
    check(len(log) == first["requests"] + again["requests"],
          f"the server saw {len(log)} requests, the plays counted {first['requests']} + "
          f"{again['requests']}")
    second = [e[1] for e in log[first["requests"]:]]
    check(all(p.endswith(".m3u8") for p in second),
          f"the cached play requested more than playlists: {second}")
    check(again["bytes_cache"] > 0, "the cached play counted no bytes from the cache")

elif case == "pin":
    # --pin downloads the variant without decoding it; --offline then plays it all, no request.
    srv = server()
    url = srv.url("master.m3u8")
    uri = variants[2][0]
    pinned = stats(url, "--pin", "--variant", "2", "--cache-dir", path("cache"))
    check(pinned["ok"] and pinned["pinned"] and pinned["frames"] == 0, "--pin decoded audio")
    check_counters(pinned, "--pin")
    check(pinned["segments_from_network"] == len(segment_files(uri)),
          f"--pin downloaded {pinned['segments_from_network']} of "
          f"{len(segment_files(uri))} segments")
    check(pinned["requests"] > 0 and pinned["bytes_network"] > 0, "--pin downloaded nothing")
    # A tiny cache budget: the pinned asset is never evicted.
    again = stats(url, "--variant", "2", "--cache-dir", path("cache"), "--offline",
                  "--max-cache", "1K")
    log = srv.log()
    check(len(log) == pinned["requests"],
          f"the server saw {len(log)} requests, --pin made {pinned['requests']}")
    check(again["requests"] == 0 and again["bytes_network"] == 0, "the offline play requested")
    ref = ref_of(uri)
    check(again["frames"] == ref["pcm_samples"],
          f"offline after --pin: {again['frames']} frames, reference {ref['pcm_samples']}")
    check(again["segments_from_cache"] == again["segments"], "offline segments not cached")
    # The server is gone: a failed --pin says so and how to resume.
    p = run(url, "--pin", "--variant", "2", "--cache-dir", path("cache2"), expect=1)
    check(b"--pin again resumes" in p.stderr, f"failed --pin: {p.stderr.decode()}")

elif case == "gaps_on_error":
    # One segment of the lowest variant missing (404): the run fails naming it, unless
    # --gaps-on-error makes it a gap of silence, the rest played.
    root = path("demo")
    shutil.copytree(demo_dir, root)
    uri = variants[lowest][0]
    segs = segment_files(uri)
    missing = segs[len(segs) // 2]
    os.remove(os.path.join(root, os.path.dirname(uri), missing))
    srv = server(root)
    url = srv.url("master.m3u8")
    p = run(url, "--quiet", "--cache-dir", path("cache"), "--abr", "fixed", expect=1)
    check(b"404" in p.stderr and missing.encode() in p.stderr,
          f"the failure does not name {missing} and 404:\n{p.stderr.decode()}")
    s = stats(url, "--cache-dir", path("cache2"), "--gaps-on-error", "--abr", "fixed")
    ref = ref_of(uri)
    rate = rate_of(ref)
    check(s["ok"] and s["gaps"] == 1 and s["failed_segments"] == 1,
          f"--gaps-on-error: ok {s['ok']}, {s['gaps']} gaps, {s['failed_segments']} failed")
    check(abs(s["frames"] - ref["pcm_samples"]) <= rate // 20,
          f"--gaps-on-error: {s['frames']} frames, reference {ref['pcm_samples']}")
    check(s["segments_from_network"] == len(segs) - 1, "the other segments were not played")
    check_counters(s | {"segments": len(segs) - 1}, "--gaps-on-error")
    p = run(url, "--help")
    check(b"--gaps-on-error" in p.stdout, "--help does not list --gaps-on-error")

elif case == "audio":
    # Alternate audio: --list shows the groups and renditions; --audio picks one by NAME or by
    # language (RFC 4647 lookup), and only that rendition's segments are requested.
    root = os.path.join(os.path.dirname(demo_dir), "renditions")
    with open(os.path.join(root, "reference.json")) as f:
        rref = {v["playlist"]: v for v in json.load(f)["variants"]}
    srv = server(root)
    url = srv.url("master.m3u8")
    out = run(url, "--list").stdout.decode()
    for needle in ('GROUP-ID=aac-64 NAME="Deutsch" LANGUAGE=de', 'ASSOC-LANGUAGE=en-GB',
                   'GROUP-ID=aac-128 NAME="English" LANGUAGE=en CHANNELS=2 DEFAULT AUTOSELECT'):
        check(needle in out, f"--list lacks {needle!r}:\n{out}")
    for arg, want in (("Deutsch", "de64"), ("fr,de-AT", "de64"), ("English (mono)", "enmono64")):
        srv = server(root)
        s = stats(srv.url("master.m3u8"), "--audio", arg, "--abr", "fixed", "--cache-dir",
                  path("audio-" + want))
        check(s["ok"] and s["frames"] == rref[want + ".m3u8"]["pcm_samples"],
              f"--audio {arg}: {s['frames']} frames, want {want}'s")
        segs = {os.path.basename(l[1]).split("_")[0] for l in srv.log()
                if l[1].endswith(".m4s")}
        check(segs == {want}, f"--audio {arg}: segments of {sorted(segs)}, want {want}")

elif case == "abr":
    # Adaptive bitrate is the default on a master: the record of what played is complete and
    # consistent; --max-bandwidth is honoured; --abr fixed stays; --speed paces --realtime.
    srv = server()
    url = srv.url("master.m3u8")
    bws = [bw for _, bw in variants]

    def check_record(s, what):
        for k in ("switches", "aborts", "stalls", "stall_events"):
            check(isinstance(s[k], int) and s[k] >= 0, f"{what}: {k} {s[k]!r}")
        for k in ("estimate_bps", "stall_seconds"):
            check(isinstance(s[k], (int, float)) and s[k] >= 0, f"{what}: {k} {s[k]!r}")
        check(s["time_to_first_sample_ms"] > 0, f"{what}: no startup time")
        check(s["variant_bandwidths"] == bws, f"{what}: variant_bandwidths {s['variant_bandwidths']}")
        segs = s["segment_variants"]
        times = [x["time"] for x in segs]
        # A switch between variants cut at other boundaries (44.1 vs 48 kHz) plays the end of the
        # new variant's segment that holds the switch point: one more segment per such switch.
        check(s["segments"] <= len(segs) <= s["segments"] + s["switches"],
              f"{what}: {len(segs)} segment_variants, the stream has {s['segments']} segments "
              f"and {s['switches']} switches")
        check(times == sorted(times) and times[0] == 0, f"{what}: segment times {times}")
        check(all(0 <= x["variant"] < len(bws) for x in segs), f"{what}: variants {segs}")
        runs = [tuple(map(int, r.split(":"))) for r in s["variant_runs"].split(",")]
        check(sum(n for _, n in runs) == len(segs), f"{what}: variant_runs {s['variant_runs']}")
        check(len(s["switch_times"]) == s["switches"],
              f"{what}: {len(s['switch_times'])} switch_times, {s['switches']} switches")
        check(all(r["wall_s"] > 0 for r in s["switch_times"] + s["abr_decisions"]),
              f"{what}: wall times")
        return segs

    s = stats(url, "--cache-dir", path("auto"))
    check(s["ok"] and s["abr"] == "auto" and s["frames"] > 0, f"auto: {s['abr']}, {s['frames']}")
    check_record(s, "auto")
    cap = sorted(bws)[1]  # the second-lowest: the lowest and it may play, nothing above
    s = stats(url, "--cache-dir", path("capped"), "--max-bandwidth", str(cap))
    segs = check_record(s, "capped")
    check(all(bws[x["variant"]] <= cap for x in segs),
          f"--max-bandwidth {cap}: played {s['variant_runs']} (bandwidths {bws})")
    s = stats(url, "--cache-dir", path("fixed"), "--abr", "fixed")
    segs = check_record(s, "fixed")
    check(s["abr"] == "fixed" and s["switches"] == 0 and s["switch_times"] == [] and
          all(x["variant"] == s["variant"] for x in segs), f"--abr fixed: {s['variant_runs']}")
    check(s["frames"] == ref_of(variants[s["variant"]][0])["pcm_samples"], "--abr fixed: frames")
    s = stats(url, "--cache-dir", path("locked"), "--variant", "2")
    check(s["abr"] == "locked" and s["variant_runs"] == f"2:{s['segments']}",
          f"--variant 2: {s['abr']} {s['variant_runs']}")
    # 6 s of audio paced at twice real time: 3 s of waiting, never the 6 s of real time.
    s = stats(url, "--cache-dir", path("fixed"), "--abr", "fixed", "--realtime", "--speed", "2",
              "--duration", "6")
    check(s["speed"] == 2 and 2.8 <= s["wall_s"] < 5.5,
          f"--realtime --speed 2 --duration 6 took {s['wall_s']:.2f} s")
    check(s["output_underruns"] == 0 and s["output_late_s"] == 0,
          f"--realtime from the cache: {s['output_underruns']} underruns")

elif case == "usage":
    for args in (["--bogus"], ["--variant", "-1"], ["--format", "mp3"], ["--pin", "--seek", "1"],
                 ["--max-cache", "lots"], ["--seek", "-2"], ["--quiet", "--verbose"],
                 ["--out", "-", "--stats-json", "-"], ["--abr", "sometimes"], ["--speed", "0"],
                 ["--max-bandwidth", "fast"], ["--max-bandwidth", "0"],
                 ["--variant", "1", "--abr", "auto"]):
        p = run(*args, expect=2)
        check(p.stderr, f"{args}: exit 2 without a message")

elif case == "not_found":
    srv = server()
    p = run(srv.url("missing.m3u8"), "--quiet", "--cache-dir", path("cache"), expect=1)
    check(b"404" in p.stderr, f"the error does not name the status:\n{p.stderr.decode()}")
    # Audio that cannot be had is a failure, never a short exit 0: past the end, and more
    # --duration than the stream holds.
    url = srv.url("master.m3u8")
    p = run(url, "--quiet", "--cache-dir", path("cache"), "--seek", "100", expect=1)
    check(b"past the end" in p.stderr, f"--seek 100: {p.stderr.decode()}")
    p = run(url, "--quiet", "--cache-dir", path("cache"), "--seek", "58", "--duration", "5",
            expect=1)
    check(b"ended after" in p.stderr, f"--seek 58 --duration 5: {p.stderr.decode()}")

else:
    sys.exit(f"unknown case {case}")
print(f"hls_playback {case}: ok")
