#!/usr/bin/python3
"""GStreamer playbin / playbin3 playing an HLS URL in real time, headless, for
bench/hls_abr_vs_peers.sh (run by bench/lib/abr_bench.py; needs python3-gi and
gir1.2-gstreamer-1.0, scripts/install-deps.sh --bench).

    abr_gst.py <playbin|playbin3> <url> <seconds> <out.json>

Audio goes to a fakesink with sync=true (rendered on the pipeline clock, as a sound card would
play it); buffering messages pause and resume the pipeline as gst-launch-1.0 and real players do.
Every buffer rendered (the fakesink's handoff) gives its timestamp: the lag of the media position
behind the wall clock since the first sample only grows (a sound card cannot play a late sample
earlier), and a growth of more than 100 ms between two buffers is a stall (the slack of
hls_playback --realtime's pacer, so the two are measured alike).

Output (JSON): startup_s (process start to the first buffer rendered; init_s of it is Python's
start, Gst.init and the pipeline's creation), stalls, stall_s, the
buffering episodes and their paused seconds, played_s (media seconds rendered), eos, error.
Stops after <seconds> of wall time (from process start) or at the end of the stream.
"""
import json
import os
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def process_start_monotonic():
    """time.monotonic() of this process's start (/proc/self/stat starttime, in clock ticks)."""
    with open("/proc/self/stat") as f:
        ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    return time.monotonic() - age


t_start = process_start_monotonic()
element, url, seconds, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
slack = 0.1
r = {"player": element, "startup_s": None, "stalls": 0, "stall_s": 0.0, "buffering": 0,
     "buffering_s": 0.0, "played_s": 0.0, "eos": False, "error": None}
state = {"first": None, "pts0": None, "lag": 0.0, "buffering_since": None, "prerolled": False}

Gst.init(None)
pipe = Gst.ElementFactory.make(element, None)
if pipe is None:
    sys.exit(f"abr_gst: no element {element}")
sink = Gst.ElementFactory.make("fakesink", "audio")
sink.set_property("sync", True)
sink.set_property("signal-handoffs", True)
pipe.set_property("audio-sink", sink)
pipe.set_property("video-sink", Gst.ElementFactory.make("fakesink", "video"))
pipe.set_property("uri", url)
r["init_s"] = time.monotonic() - t_start  # Python, Gst.init (the plugin registry), the pipeline
loop = GLib.MainLoop()


def on_handoff(_sink, buf, _pad):
    # The streaming thread: plain arithmetic on state the main loop only reads at the end.
    now = time.monotonic()
    if buf.pts == Gst.CLOCK_TIME_NONE:
        return
    pts = buf.pts / Gst.SECOND
    dur = buf.duration / Gst.SECOND if buf.duration != Gst.CLOCK_TIME_NONE else 0.0
    if state["first"] is None:
        state["first"], state["pts0"] = now, pts
        r["startup_s"] = now - t_start
    lag = (now - state["first"]) - (pts - state["pts0"])
    if lag > state["lag"] + slack:
        r["stalls"] += 1
        r["stall_s"] += lag - state["lag"]
    state["lag"] = max(state["lag"], lag)
    r["played_s"] = max(r["played_s"], pts + dur - state["pts0"])


sink.connect("handoff", on_handoff)


def on_message(_bus, msg):
    t = msg.type
    if t == Gst.MessageType.EOS:
        r["eos"] = True
        loop.quit()
    elif t == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        r["error"] = f"{err.message} ({dbg})" if dbg else err.message
        loop.quit()
    elif t == Gst.MessageType.BUFFERING:
        pct = msg.parse_buffering()
        now = time.monotonic()
        if pct < 100 and state["buffering_since"] is None:
            state["buffering_since"] = now
            r["buffering"] += 1
            pipe.set_state(Gst.State.PAUSED)
        elif pct >= 100 and state["buffering_since"] is not None:
            r["buffering_s"] += now - state["buffering_since"]
            state["buffering_since"] = None
            pipe.set_state(Gst.State.PLAYING)
    return True


bus = pipe.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
GLib.timeout_add(max(1, int((seconds - (time.monotonic() - t_start)) * 1000)), loop.quit)
pipe.set_state(Gst.State.PLAYING)
try:
    loop.run()
finally:
    end = time.monotonic()
    pipe.set_state(Gst.State.NULL)
    if state["first"] is not None and not r["eos"]:
        # Silent since the last buffer, at the end of the run: a stall too.
        lag = (end - state["first"]) - r["played_s"]
        if lag > state["lag"] + slack:
            r["stalls"] += 1
            r["stall_s"] += lag - state["lag"]
    if state["buffering_since"] is not None:
        r["buffering_s"] += end - state["buffering_since"]
    r["wall_s"] = end - t_start
    with open(out, "w") as f:
        json.dump(r, f)
