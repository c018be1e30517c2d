#!/usr/bin/python3
"""The GStreamer peer of the RTSP fan-out (bench/load/fanout.ts --protocol rtsp-tcp|rtsp-udp).

gst-rtsp-server through python3-gst (PyGObject): ONE shared media factory at
/live/bench whose pipeline plays an FLV file (H.264 + AAC) at real time, over
RTP/AVP on UDP and on TCP interleaved.

    /usr/bin/python3 bench/load/gst_rtsp_server.py PORT FILE [--backlog 1024]

Prints "ready PORT" on stdout once it serves, and stops on SIGTERM or SIGINT.

The file is read once, start to end: flvdemux does not read a second FLV
header in the same stream, so `multifilesrc loop=true` stops after the first
pass. The benchmark gives it a file long enough for a run instead, made with
`ffmpeg -stream_loop K -c copy`, whose timestamps keep increasing across the
copies. The pipeline is not live: the RTP sinks of gst-rtsp-server wait for
the clock (basesink sync), which paces the file at real time.
"""

import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

MOUNT = "/live/bench"


def launch_line(path):
    """One pipeline for every client: shared, so the file is demuxed and payloaded once."""
    loc = path.replace("\\", "\\\\").replace('"', '\\"')
    return (
        f'( filesrc location="{loc}" ! flvdemux name=d '
        "d.video ! queue ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 "
        "d.audio ! queue ! aacparse ! rtpmp4gpay name=pay1 pt=97 )"
    )


def main(argv):
    if len(argv) < 3:
        print("usage: gst_rtsp_server.py PORT FILE [--backlog N]", file=sys.stderr)
        return 2
    port = int(argv[1])
    path = argv[2]
    backlog = 1024
    if "--backlog" in argv:
        backlog = int(argv[argv.index("--backlog") + 1])
    Gst.init(None)

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    # The default backlog is 5: a wave of 50 connects would see SYNs dropped and
    # retried a second later, which is the listen queue, not the server, at work.
    server.set_backlog(backlog)

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch_line(path))
    factory.set_shared(True)
    factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.TCP)
    server.get_mount_points().add_factory(MOUNT, factory)

    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()

    def stop(*_):
        loop.quit()
        return GLib.SOURCE_REMOVE

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, stop)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, stop)
    print(f"ready {port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
