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
export async function gstPlayAndCount(
  url: string,
  options: {
    source: "rtmp2src" | "rtmpsrc";
    frames: number;
    timeoutMs: number;
  },
): Promise<GstPlayResult> {
  let frames = 0;
  const sizes = new Set<number>();
  const pipeline = [
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
    ...[
      "h264parse",
      "!",
      "avdec_h264",
      "!",
      "videoconvert",
      "!",
      "video/x-raw,format=I420",
      "!",
    ],
    ...[
      "fakesink",
      "silent=false",
      "sync=false",
      `num-buffers=${options.frames}`,
    ],
  ];
  const run = spawn("gst-launch-1.0", ["-v", ...pipeline], {
    timeoutMs: options.timeoutMs,
    onStdoutLine: (line) => {
      const m = /last-message = chain .*?\((\d+) bytes/.exec(line);
      if (m === null) return;
      frames++;
      sizes.add(Number(m[1]));
    },
  });
  const status = await run.status;
  return { frames, sizes, code: status.code, stderr: run.stderr() };
}
