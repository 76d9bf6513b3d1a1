#!/usr/bin/env python3
"""file_playback's command line, checked by content on its built-in demo (a 12 s 44.1 kHz
stereo track served on loopback).

    file_playback_cli.py <file_playback> formats|duration|stats_json|bad_flag|unreachable
"""
import atexit
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

player, case = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="kithara-fp-cli-")
atexit.register(shutil.rmtree, work, True)


def run(*args, expect=0):
    p = subprocess.run([player, *args], capture_output=True, timeout=60)
    if p.returncode != expect:
        sys.exit(f"{' '.join(args)}: exit {p.returncode}, expected {expect}\n"
                 f"{p.stderr.decode(errors='replace')}")
    return p


def out(name):
    return os.path.join(work, name)


def read(name):
    with open(out(name), "rb") as f:
        return f.read()


def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")


if case == "formats":
    # The same 2 s three ways: a float WAV, raw f32le, raw s16le (and s16le on stdout).
    for fmt in ("wav", "f32le", "s16le"):
        run("--quiet", "--duration", "2", "--format", fmt, "--out", out(fmt))
    frames = 2 * 44100
    wav, f32, s16 = read("wav"), read("f32le"), read("s16le")
    check(len(f32) == frames * 2 * 4, f"f32le has {len(f32)} bytes, want {frames * 8}")
    check(len(s16) == frames * 2 * 2, f"s16le has {len(s16)} bytes, want {frames * 4}")
    check(len(wav) == 58 + len(f32), f"wav has {len(wav)} bytes, want 58 + {len(f32)}")
    (riff, riff_size, wave, fmt_id, fmt_size, tag, ch, rate, byte_rate, align, bits, cb,
     fact, fact_size, fact_frames, data, data_size) = struct.unpack("<4sI4s4sIHHIIHHH4sII4sI",
                                                                   wav[:58])
    check((riff, wave, fmt_id, fact, data) == (b"RIFF", b"WAVE", b"fmt ", b"fact", b"data"),
          "wav chunk ids")
    check(riff_size == len(wav) - 8, f"RIFF size {riff_size}, want {len(wav) - 8}")
    check((fmt_size, tag, ch, rate, bits, cb) == (18, 3, 2, 44100, 32, 0),
          f"fmt chunk {(fmt_size, tag, ch, rate, bits, cb)}")
    check((byte_rate, align) == (44100 * 8, 8), "byte rate / block align")
    check(fact_size == 4 and fact_frames == frames, f"fact frames {fact_frames}, want {frames}")
    check(data_size == len(f32), f"data size {data_size}, want {len(f32)}")
    check(wav[58:] == f32, "wav samples differ from f32le")
    floats = struct.unpack(f"<{frames * 2}f", f32)
    ints = struct.unpack(f"<{frames * 2}h", s16)
    worst = 0.0
    for x, i in zip(floats, ints):
        want = min(32767.0, max(-32768.0, x * 32768.0))
        worst = max(worst, abs(i - want))
    check(worst <= 1.0, f"s16le is {worst} LSB from the float samples (allowed: 1)")
    check(max(abs(i) for i in ints) > 1000, "s16le is (near) silence")
    stdout = run("--quiet", "--duration", "2", "--format", "s16le", "--out", "-").stdout
    check(stdout == s16, "s16le on stdout differs from s16le in a file")
    # Resampled and downmixed floats are not 16-bit values: the conversion still within 1 LSB.
    args = ("--quiet", "--duration", "1", "--rate", "48000", "--channels", "1")
    run(*args, "--format", "f32le", "--out", out("r.f32"))
    run(*args, "--format", "s16le", "--out", out("r.s16"))
    floats = struct.unpack("<48000f", read("r.f32"))
    ints = struct.unpack("<48000h", read("r.s16"))
    check(any(x * 32768.0 != round(x * 32768.0) for x in floats), "resampled floats are integral")
    worst2 = max(abs(i - min(32767.0, max(-32768.0, x * 32768.0))) for x, i in zip(floats, ints))
    check(worst2 <= 1.0, f"resampled s16le is {worst2} LSB from the floats (allowed: 1)")
    print(f"formats: wav header ok, wav == f32le, s16le within {worst:.3f} LSB "
          f"({worst2:.3f} resampled), stdout == file")

elif case == "realtime":
    # 2 s paced like a sound card take about 2 s after the first sample; unpaced far less.
    def timing(*extra):
        run("--quiet", "--duration", "2", "--stats-json", out("t.json"), *extra)
        s = json.loads(read("t.json"))
        return s["wall_s"] - s["time_to_first_sample_ms"] / 1000, s
    paced, s = timing("--realtime")
    fast, _ = timing()
    check(1.8 <= paced <= 4.0, f"--realtime took {paced:.3f} s after the first sample for 2 s")
    check(fast < 1.0, f"unpaced took {fast:.3f} s after the first sample")
    check(s["frames"] == 2 * 44100, "realtime frames")
    print(f"realtime: 2 s paced in {paced:.3f} s (unpaced {fast:.3f} s), "
          f"{s['output_underruns']} underruns")

elif case == "duration":
    for args, rate, ch, secs in ((["--duration", "1.2345"], 44100, 2, 1.2345),
                                 (["--duration", "0.5", "--rate", "48000", "--channels", "1"],
                                  48000, 1, 0.5),
                                 (["--seek", "3.25", "--duration", "4.001"], 44100, 2, 4.001)):
        run("--quiet", "--format", "f32le", "--out", out("d"), *args)
        want = round(secs * rate) * ch * 4
        got = len(read("d"))
        check(got == want, f"{args}: {got} bytes, want {want}")
        print(f"duration {args}: exactly {want // (ch * 4)} frames")
    # More than the stream holds: an error, not a silent short result.
    p = run("--quiet", "--duration", "13", "--out", "null", expect=1)
    check(b"before --duration" in p.stderr, "no error naming --duration")

elif case == "stats_json":
    run("--quiet", "--duration", "3", "--stats-json", out("s.json"))
    s = json.loads(read("s.json"))
    for k in ("tool", "url", "ok", "error", "codec", "rate", "channels", "frames", "audio_s",
              "time_to_first_sample_ms", "wall_s", "realtime_factor", "bytes_network",
              "bytes_cache", "requests", "retries", "output_underruns"):
        check(k in s, f"stats JSON lacks {k}")
    check(s["ok"] is True and s["error"] is None, "ok/error")
    check(s["frames"] == 3 * 44100 and s["rate"] == 44100 and s["channels"] == 2,
          f"frames/rate/channels {s['frames']} {s['rate']} {s['channels']}")
    check(s["bytes_network"] > 0 and s["requests"] >= 1, "network bytes and requests")
    check(0 < s["time_to_first_sample_ms"] < s["wall_s"] * 1000, "time to first sample")
    check(s["realtime_factor"] > 1, "realtime factor")
    # On stdout, and on failure too (ok false, the error named).
    s = json.loads(run("--quiet", "--duration", "1", "--stats-json", "-").stdout)
    check(s["frames"] == 44100, "stats on stdout")
    run("http://127.0.0.1:9/none.mp3", "--quiet", "--cache-dir", out("c"), "--stats-json",
        out("f.json"), expect=1)
    s = json.loads(read("f.json"))
    check(s["ok"] is False and "127.0.0.1:9" in s["error"], f"failure stats {s['error']}")
    print("stats_json: fields present and consistent, on success and on failure")

elif case == "bad_flag":
    for args in (["--bogus"], ["--format", "mp3"], ["--duration"], ["--rate", "abc"],
                 ["--duration", "-1"], ["--out", "-", "--stats-json", "-"], ["a", "b"]):
        p = run(*args, expect=2)
        check(p.stderr, f"{args}: no message")
    run("--help")
    print("bad_flag: usage errors exit 2, --help exits 0")

elif case == "unreachable":
    p = run("http://127.0.0.1:9/none.mp3", "--quiet", "--cache-dir", out("c"), expect=1)
    check(b"127.0.0.1:9" in p.stderr, "the error does not name the URL")
    print("unreachable: exit 1 naming the URL")

else:
    sys.exit(f"unknown case {case}")
