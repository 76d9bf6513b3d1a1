#!/usr/bin/env python3
"""examples/play end to end: any URL through one kithara::context.

    play_cli.py <play> <kithara_serve> <file-media-dir> <hls-fixtures-dir>

kithara_serve serves the progressive fixtures and the HLS fixtures on loopback. play writes
- an MP3's PCM: 20 s at 44.1 kHz stereo (gapless: the exact frame count), a loud chirp;
- an HLS stream's PCM: equal to its reference.json (sample count and SHA-256);
then plays both again from its cache (XDG_CACHE_HOME) and the servers see no media request.
Usage errors exit 2, a 404 exits 1 with the status in the message.
"""
import atexit
import hashlib
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from serve_process import served

play, serve, file_dir, hls_dir = sys.argv[1:5]
work = tempfile.mkdtemp(prefix="kithara-play-")
atexit.register(shutil.rmtree, work, True)
env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))


def server(root, name):
    return served(serve, root, os.path.join(work, name + ".log"))


def run(*args, expect=0):
    p = subprocess.run([play, *args], env=env, capture_output=True, timeout=90)
    if p.returncode != expect:
        sys.exit(f"FAIL: play {' '.join(args)} exited {p.returncode}, expected {expect}:\n"
                 f"{p.stderr.decode()}")
    return p.stderr.decode()


def pcm(name):
    with open(os.path.join(work, name), "rb") as f:
        return f.read()


def check_file(out):
    data = pcm(out)
    frames = len(data) // 8
    if frames != 20 * 44100:
        sys.exit(f"FAIL: {out}: {frames} frames, expected {20 * 44100}")
    samples = struct.unpack(f"<{len(data) // 4}f", data)
    rms = math.sqrt(sum(s * s for s in samples[::97]) / len(samples[::97]))
    if not 0.25 < rms < 0.4:
        sys.exit(f"FAIL: {out}: RMS {rms:.3f}, expected the chirp's ~0.32")


with open(os.path.join(hls_dir, "ts_aac", "reference.json")) as f:
    ref = [v for v in json.load(f)["variants"] if v["playlist"] == "index.m3u8"][0]


def check_hls(out):
    data = pcm(out)
    if hashlib.sha256(data).hexdigest() != ref["pcm_sha256"]:
        sys.exit(f"FAIL: {out}: {len(data) // 4} samples, not the reference PCM "
                 f"({ref['pcm_samples']} frames)")


files = server(file_dir, "files")
hls = server(hls_dir, "hls")
err = run(files.url("long.mp3"), os.path.join(work, "file1.f32"))
if "file, mp3" not in err or "44100 Hz, 2 channels" not in err:
    sys.exit(f"FAIL: the format line names no mp3 file at 44100 Hz stereo:\n{err}")
check_file("file1.f32")
err = run(hls.url("ts_aac/index.m3u8"), os.path.join(work, "hls1.f32"))
if "hls, hls" not in err:
    sys.exit(f"FAIL: the format line names no HLS stream:\n{err}")
check_hls("hls1.f32")

# Again, from the cache: no media request.
run(files.url("long.mp3"), os.path.join(work, "file2.f32"))
run(hls.url("ts_aac/index.m3u8"), os.path.join(work, "hls2.f32"))
check_file("file2.f32")
check_hls("hls2.f32")

run(expect=2)
err = run(files.url("missing"), os.path.join(work, "none.f32"), expect=1)
if "404" not in err:
    sys.exit(f"FAIL: a 404 is not named in the error: {err}")


def field(line, name):
    return [f.split("=", 1)[1] for f in line if f.startswith(name + "=")][0]


segs = [line[1] for line in hls.log() if line[1].endswith(".ts")]
if len(segs) != 5 or len(set(segs)) != 5:
    sys.exit(f"FAIL: the segments were not requested once each over both plays: {segs}")
# The complete MP3 has no freshness headers: the second play revalidates it (If-Range) and
# never downloads it again.
sent = sum(int(field(line, "bytes")) for line in files.log() if line[1] == "/long.mp3")
size = os.path.getsize(os.path.join(file_dir, "long.mp3"))
if sent > size + 4096:
    sys.exit(f"FAIL: long.mp3 sent {sent} bytes over both plays, it has {size}")

print("ok: play plays a file and an HLS stream, from the network and from its cache")
