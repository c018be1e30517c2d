#!/usr/bin/python3
"""A GStreamer RTSP server for the relay tests (tests/interop/gst_rtsp_source_test.ts).

gst-rtsp-server through python3-gst (PyGObject) serves a generated live
stream at one mount point: videotestsrc -> x264enc (tune=zerolatency, a
keyframe every second) -> rtph264pay pt=96, and audiotestsrc -> AAC
(avenc_aac, or voaacenc when libav is missing) -> rtpmp4gpay pt=97, over
RTP/AVP on UDP and on TCP interleaved.

    /usr/bin/python3 tests/_util/gst_rtsp_server.py --port P [--path /test]
        [--width 320] [--height 240] [--auth digest|basic --user U --password W]

Prints "ready PORT" once it serves, then one line per event the tests count:
"connected" (a TCP connection), "closed" (it ended), "play" (a PLAY request).
Stops on SIGTERM or SIGINT, and by itself after --max-seconds (default 120),
so a lost process cannot outlive a test run for long.
"""

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

ROLE = "sluice-test"


def say(text):
    print(text, flush=True)


def audio_encoder():
    for name in ("avenc_aac", "voaacenc"):
        if Gst.ElementFactory.find(name) is not None:
            return name
    raise SystemExit("no AAC encoder: install gstreamer1.0-libav")


def launch_line(width, height, fps):
    return (
        "( videotestsrc is-live=true pattern=ball ! "
        f"video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 ! "
        f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} ! "
        "video/x-h264,profile=constrained-baseline ! "
        "rtph264pay name=pay0 pt=96 config-interval=-1 "
        "audiotestsrc is-live=true wave=sine freq=440 samplesperbuffer=1024 ! "
        "audioconvert ! audioresample ! audio/x-raw,rate=44100,channels=2 ! "
        f"{audio_encoder()} bitrate=64000 ! aacparse ! "
        "rtpmp4gpay name=pay1 pt=97 )"
    )


def add_auth(server, factory, method, user, password):
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
    if method == "basic":
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    else:
        # Since 1.16 Digest must be switched on and its users added one by one.
        auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
        auth.add_digest(user, password, token)
    server.set_auth(auth)
    # add_role() is variadic (not introspectable): the structure form does the same.
    factory.add_role_from_structure(
        Gst.Structure.new_from_string(
            f"{ROLE}, media.factory.access=(boolean)true, "
            "media.factory.construct=(boolean)true"
        )
    )


def main(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/test")
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--fps", type=int, default=25)
    p.add_argument("--auth", choices=["digest", "basic"])
    p.add_argument("--user", default="user")
    p.add_argument("--password", default="secret")
    p.add_argument("--max-seconds", type=int, default=120)
    args = p.parse_args(argv[1:])
    Gst.init(None)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(args.width, args.height, args.fps))
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.TCP)
    if args.auth is not None:
        add_auth(server, factory, args.auth, args.user, args.password)
    server.get_mount_points().add_factory(args.path, factory)

    def on_client(_server, client):
        say("connected")
        client.connect("closed", lambda _c: say("closed"))
        client.connect("play-request", lambda _c, _ctx: say("play"))

    server.connect("client-connected", on_client)

    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{args.port}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()

    def stop(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, stop)
    GLib.timeout_add_seconds(args.max_seconds, stop)
    say(f"ready {args.port}")
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
