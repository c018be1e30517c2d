#!/usr/bin/python3
"""A GStreamer RTSP player that seeks, for the VOD interop tests.

rtspsrc over TCP -> rtph264depay -> h264parse -> avdec_h264 -> fakesink
(audio to a fakesink of its own). After BEFORE decoded frames it seeks the
pipeline (flushing, to the key unit) to SEEK seconds: rtspsrc sends PAUSE
and PLAY with a Range. Prints "frame PTS_SECONDS" for every decoded frame
(stream time: the file's own time) and "seeked" when the seek was sent; exits 0 after AFTER frames past the
seek, 1 on a pipeline error.

    /usr/bin/python3 tests/_util/gst_rtsp_seek.py URL BEFORE SEEK AFTER
"""

import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def element(factory, **props):
    e = Gst.ElementFactory.make(factory, None)
    if e is None:
        sys.exit(f"missing GStreamer element {factory}")
    for key, value in props.items():
        Gst.util_set_object_arg(e, key.replace("_", "-"), str(value))
    return e


def main():
    url, before, seek_to, after = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    Gst.init(None)
    loop = GLib.MainLoop()
    pipe = Gst.Pipeline.new("seeker")
    src = element("rtspsrc", location=url, protocols="tcp")
    chain = [element("rtph264depay"), element("h264parse"), element("avdec_h264"),
             element("fakesink", sync="true", signal_handoffs="true")]
    audio = element("fakesink", sync="false")
    for e in [src, *chain, audio]:
        pipe.add(e)
    for a, b in zip(chain, chain[1:]):
        a.link(b)
    lock = threading.Lock()
    state = {"n": 0, "seeked": False, "after": 0, "code": 0, "done": False}

    def stop(code=0):
        if state["done"]:
            return False
        state["done"] = True
        state["code"] = code
        pipe.set_state(Gst.State.NULL)
        loop.quit()
        return False

    def do_seek():
        pipe.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT,
                         int(seek_to * Gst.SECOND))
        print("seeked", flush=True)
        return False

    segment = {"seg": None}

    def on_event(_pad, info):
        event = info.get_event()
        if event.type == Gst.EventType.SEGMENT:
            segment["seg"] = event.parse_segment()
        return Gst.PadProbeReturn.OK

    def on_frame(_sink, buf, _pad):
        with lock:
            seg = segment["seg"]
            t = seg.to_stream_time(Gst.Format.TIME, buf.pts) if seg else buf.pts
            print(f"frame {t / Gst.SECOND:.3f}", flush=True)
            if not state["seeked"]:
                state["n"] += 1
                if state["n"] == before:
                    state["seeked"] = True
                    GLib.idle_add(do_seek)
            else:
                state["after"] += 1
                if state["after"] == after:
                    GLib.idle_add(stop)

    def on_pad(_src, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        media = caps.get_structure(0).get_string("media") if caps else None
        if media not in ("video", "audio"):
            return
        target = (chain[0] if media == "video" else audio).get_static_pad("sink")
        if not target.is_linked():
            pad.link(target)

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print(f"ERROR: {err.message}\n{debug}", file=sys.stderr, flush=True)
            stop(1)
        elif msg.type == Gst.MessageType.EOS:
            stop(0)

    chain[-1].connect("handoff", on_frame)
    chain[-1].get_static_pad("sink").add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, on_event)
    src.connect("pad-added", on_pad)
    bus = pipe.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, stop)
    pipe.set_state(Gst.State.PLAYING)
    loop.run()
    return state["code"]


if __name__ == "__main__":
    sys.exit(main())
