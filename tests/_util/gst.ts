/**
 * GStreamer as an interop peer: `gst-launch-1.0` pipelines that publish a
 * test signal or play a stream and count the frames they decode.
 */
import { spawn, type Spawned } from "./process.ts";

/** Options of {@link gstPublish}. */
export interface GstPublishOptions {
  /** `rtmp2sink` (GStreamer's own RTMP) or `rtmpsink` (librtmp, the stack OBS grew from). */
  sink: "rtmp2sink" | "rtmpsink";
  seconds: number;
  width?: number;
  height?: number;
  fps?: number;
}

/** Publishes H.264 + AAC test video to an RTMP URL with GStreamer. */
export function gstPublish(url: string, options: GstPublishOptions): Spawned {
  const { width = 320, height = 240, fps = 25, seconds } = options;
  const frames = seconds * fps;
  const audioBuffers = Math.ceil((seconds * 44100) / 1024);
  const pipeline = [
    ...["videotestsrc", "is-live=true", `num-buffers=${frames}`, "!"],
    `video/x-raw,format=I420,width=${width},height=${height},framerate=${fps}/1`,
    ...[
      "!",
      "x264enc",
      "tune=zerolatency",
      "speed-preset=ultrafast",
      `key-int-max=${fps}`,
      "!",
      "h264parse",
      "!",
    ],
    ...[
      "flvmux",
      "name=m",
      "streamable=true",
      "!",
      options.sink,
      `location=${url}`,
    ],
    ...[
      "audiotestsrc",
      "is-live=true",
      `num-buffers=${audioBuffers}`,
      "samplesperbuffer=1024",
      "!",
    ],
    ...["audioconvert", "!", "avenc_aac", "!", "aacparse", "!", "m."],
  ];
  return spawn("gst-launch-1.0", ["-q", ...pipeline], {
    timeoutMs: seconds * 1000 + 15_000,
  });
}

/** Frames a GStreamer player decoded. */
export interface GstPlayResult {
  frames: number;
  /** Sizes in bytes of the decoded frames (I420: width × height × 1.5). */
  sizes: Set<number>;
  code: number;
  stderr: string;
}

/** Plays an RTMP URL with GStreamer and counts decoded I420 video frames. */
export function gstPlayAndCount(
  url: string,
  options: {
    source: "rtmp2src" | "rtmpsrc";
    frames: number;
    timeoutMs: number;
  },
): Promise<GstPlayResult> {
  return countDecoded([
    ...[
      options.source,
      `location=${url}`,
      "!",
      "flvdemux",
      "name=d",
      "d.video",
      "!",
      "queue",
      "!",
    ],
    "h264parse",
  ], options);
}

/** Plays an RTSP URL with GStreamer's rtspsrc over TCP or UDP and counts decoded I420 video frames. */
export function gstRtspPlayAndCount(
  url: string,
  options: { transport: "tcp" | "udp"; frames: number; timeoutMs: number },
): Promise<GstPlayResult> {
  return countDecoded([
    ...[
      "rtspsrc",
      `location=${url}`,
      `protocols=${options.transport}`,
      "name=src",
    ],
    ...["src.", "!", "application/x-rtp,media=audio", "!", "fakesink"],
    ...[
      "src.",
      "!",
      "application/x-rtp,media=video",
      "!",
      "rtph264depay",
      "!",
      "h264parse",
    ],
  ], options);
}

/**
 * Runs `source` (ending in an H.264 parser), decodes to I420 and counts the
 * frames; once it has `frames` it stops the player (SIGINT: a clean
 * TEARDOWN), since a live source never ends by itself.
 */
async function countDecoded(
  source: string[],
  options: { frames: number; timeoutMs: number },
): Promise<GstPlayResult> {
  let frames = 0;
  const sizes = new Set<number>();
  const pipeline = [
    ...source,
    ...[
      "!",
      "avdec_h264",
      "!",
      "videoconvert",
      "!",
      "video/x-raw,format=I420",
      "!",
    ],
    ...["fakesink", "silent=false", "sync=false"],
  ];
  const run = spawn("gst-launch-1.0", ["-v", ...pipeline], {
    timeoutMs: options.timeoutMs,
    onStdoutLine: (line) => {
      const m = /last-message = chain .*?\((\d+) bytes/.exec(line);
      if (m === null || frames >= options.frames) return;
      frames++;
      sizes.add(Number(m[1]));
      if (frames === options.frames) void run.stop();
    },
  });
  const status = await run.status;
  return { frames, sizes, code: status.code, stderr: run.stderr() };
}
