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
  /** More properties of the sink, such as `tls-validation-flags=0` for rtmps://. */
  sinkProperties?: string[];
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
      ...options.sinkProperties ?? [],
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

/** Plays an RTMP (or, with `souphttpsrc`, HTTP-FLV) URL with GStreamer and counts decoded I420 video frames. */
export function gstPlayAndCount(
  url: string,
  options: {
    source: "rtmp2src" | "rtmpsrc" | "souphttpsrc";
    frames: number;
    timeoutMs: number;
    /** More properties of the source, such as `tls-validation-flags=0` for rtmps://. */
    sourceProperties?: string[];
  },
): Promise<GstPlayResult> {
  return countDecoded([
    ...[
      options.source,
      `location=${url}`,
      ...options.sourceProperties ?? [],
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

/** The player `gstRtspPlayAndCount` runs (rtspsrc, its pads linked by media type). */
const RTSP_PLAYER = new URL("./gst_rtsp_play.py", import.meta.url).pathname;

/**
 * Plays an RTSP URL with GStreamer's rtspsrc over TCP, UDP or multicast and
 * counts decoded I420 video frames (an `rtsps://` or `rtspsh://` URL with
 * `tls-validation-flags=0`: a self-signed certificate is taken). A small
 * GStreamer application (python3-gst)
 * links rtspsrc's pads: gst-launch's delayed linking races when audio and
 * video pads appear together and can leave video unlinked.
 */
export function gstRtspPlayAndCount(
  url: string,
  options: {
    /** rtspsrc's `protocols`: `udp-mcast` asks for multicast. */
    transport: "tcp" | "udp" | "udp-mcast";
    frames: number;
    timeoutMs: number;
  },
): Promise<GstPlayResult> {
  return countFrames(
    "python3",
    [RTSP_PLAYER, url, options.transport, String(options.frames)],
    /^frame (\d+)$/,
    options,
  );
}

/**
 * Runs `source` (ending in an H.264 parser) in gst-launch, decodes to I420
 * and counts the frames.
 */
function countDecoded(
  source: string[],
  options: { frames: number; timeoutMs: number },
): Promise<GstPlayResult> {
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
  return countFrames(
    "gst-launch-1.0",
    ["-v", ...pipeline],
    /last-message = chain .*?\((\d+) bytes/,
    options,
  );
}

/**
 * Runs a player that prints a line matching `frame` (its group: the bytes)
 * for every decoded frame; once it has `frames` it stops the player (SIGINT:
 * a clean TEARDOWN), since a live source never ends by itself.
 */
async function countFrames(
  tool: "gst-launch-1.0" | "python3",
  args: string[],
  frame: RegExp,
  options: { frames: number; timeoutMs: number },
): Promise<GstPlayResult> {
  let frames = 0;
  const sizes = new Set<number>();
  // Players report progress, state changes and negotiated caps on stdout:
  // the last of those lines explain a run that decoded nothing.
  const progress: string[] = [];
  const run = spawn(tool, args, {
    timeoutMs: options.timeoutMs,
    onStdoutLine: (line) => {
      const m = frame.exec(line);
      if (m === null) {
        if (!line.includes("last-message")) progress.push(line);
        if (progress.length > 80) progress.shift();
        return;
      }
      if (frames >= options.frames) return;
      frames++;
      sizes.add(Number(m[1]));
      if (frames === options.frames) void run.stop();
    },
  });
  const status = await run.status;
  const stderr = frames < options.frames
    ? `${run.stderr()}\n[${tool} stdout, last lines]\n${progress.join("\n")}`
    : run.stderr();
  return { frames, sizes, code: status.code, stderr };
}
