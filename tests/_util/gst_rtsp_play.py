#!/usr/bin/python3
"""A GStreamer RTSP player for the interop tests (tests/_util/gst.ts).

rtspsrc (over TCP or UDP, as GStreamer players use it; rtsps:// and rtspsh:// with
tls-validation-flags=0) -> rtph264depay ->
h264parse -> avdec_h264 -> videoconvert -> I420 -> fakesink; the audio pad
goes to a fakesink of its own. The pads are linked here by their media type
when rtspsrc adds them, as a GStreamer application links them: gst-launch's
delayed linking races when the audio and video pads appear at the same
instant from two streaming threads, and can leave video unlinked.

    /usr/bin/python3 tests/_util/gst_rtsp_play.py URL tcp|udp FRAMES

Prints "frame BYTES" for every decoded video frame; after FRAMES of them it
stops the pipeline (rtspsrc sends TEARDOWN) and exits 0. Errors from the
pipeline go to stderr with exit 1. SIGINT and SIGTERM stop it cleanly.
"""

import signal
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def make(factory, **props):
    element = Gst.ElementFactory.make(factory, None)
    if element is None:
        sys.exit(f"missing GStreamer element {factory}")
    for key, value in props.items():
        Gst.util_set_object_arg(element, key.replace("_", "-"), str(value))
    return element


def main():
    url, transport, wanted = sys.argv[1], sys.argv[2], int(sys.argv[3])
    Gst.init(None)
    loop = GLib.MainLoop()
    pipeline = Gst.Pipeline.new("player")

    source = make("rtspsrc", location=url, protocols=transport)
    if url.startswith(("rtsps://", "rtspsh://")):
        # The tests' certificate is self-signed: take it as ffmpeg does.
        source.set_property("tls-validation-flags", 0)
    video = [
        make("rtph264depay"),
        make("h264parse"),
        make("avdec_h264"),
        make("videoconvert"),
        make("capsfilter", caps="video/x-raw,format=I420"),
        make("fakesink", sync="false", signal_handoffs="true"),
    ]
    audio = make("fakesink", sync="false")
    for element in [source, *video, audio]:
        pipeline.add(element)
    for a, b in zip(video, video[1:]):
        a.link(b)

    lock = threading.Lock()
    frames = 0
    stopping = False
    exit_code = 0

    def stop(code=0):
        nonlocal stopping, exit_code
        if stopping:
            return False
        stopping = True
        exit_code = code
        pipeline.set_state(Gst.State.NULL)
        loop.quit()
        return False

    def on_frame(_sink, buffer, _pad):
        nonlocal frames
        with lock:
            if frames >= wanted:
                return
            frames += 1
            print(f"frame {buffer.get_size()}", flush=True)
            if frames == wanted:
                GLib.idle_add(stop)

    def on_pad(_src, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        media = caps.get_structure(0).get_string("media") if caps else None
        if media not in ("video", "audio"):
            return
        with lock:
            sink = video[0] if media == "video" else audio
            target = sink.get_static_pad("sink")
            if target.is_linked():
                return
            result = pad.link(target)
            if result != Gst.PadLinkReturn.OK:
                print(f"cannot link the {media} pad: {result}", file=sys.stderr)

    def on_message(_bus, message):
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            print(f"ERROR: {error.message}\n{debug}", file=sys.stderr, flush=True)
            stop(1)
        elif message.type == Gst.MessageType.EOS:
            stop(0)

    video[-1].connect("handoff", on_frame)
    source.connect("pad-added", on_pad)
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, stop)

    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        print("the pipeline did not start", file=sys.stderr)
        return 1
    loop.run()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
