/**
 * VLC plays RTMP from Sluice: it decodes to raw I420 frames in a file, and
 * the file's size counts the frames. (Debian's VLC has no live555, so its
 * rtsp:// goes to a RealNetworks module that no standard server can serve.)
 */
import assert from "node:assert/strict";
import { publishTestSignal } from "../_util/ffmpeg.ts";
import { spawn } from "../_util/process.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("cvlc");

Deno.test(
  "RTMP: VLC plays what ffmpeg publishes, decoding every frame at 320x240",
  {
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtmpUrl("live/vlc"), {
      seconds: 20,
      width: 320,
      height: 240,
    });
    await s.published("live/vlc");
    const dir = await Deno.makeTempDir();
    await Deno.chmod(dir, 0o777);
    const out = `${dir}/frames.raw`;
    const vlcArgs = [
      ...[
        "-q",
        "--no-audio",
        "--play-and-exit",
        "--run-time=4",
        s.rtmpUrl("live/vlc"),
      ],
      "--sout",
      `#transcode{vcodec=I420,acodec=none}:std{access=file,mux=raw,dst=${out}}`,
    ];
    // VLC refuses to run as root; CI runs as root, so it plays as nobody there.
    const run = spawn("cvlc", vlcArgs, {
      timeoutMs: 20_000,
      env: { HOME: dir },
      ...(Deno.uid() === 0 ? { asUser: "nobody" } : {}),
    });
    const status = await run.status;
    assert.equal(status.code, 0, run.stderr());
    const size = (await Deno.stat(out)).size;
    const frame = 320 * 240 * 3 / 2;
    assert.equal(
      size % frame,
      0,
      `${size} bytes is a whole number of 320x240 I420 frames`,
    );
    assert.ok(size / frame >= 75, `VLC decoded ${size / frame} frames in 4 s`);
    await Deno.remove(dir, { recursive: true });
  },
);
