/**
 * The interop harness: real, unmodified ffmpeg and ffprobe on 127.0.0.1.
 *
 * Every process is bounded in time and killed when its time is up; its
 * stderr is kept for failure messages. A player decodes every frame and
 * counts it ("it connected" is no pass): `-f framecrc` prints one line per
 * decoded frame, `stream, dts, pts, duration, size, crc`, after header lines
 * such as `#dimensions 0: 320x240` and `#sample_rate 1: 44100`. A player
 * must also get timestamps that never step back on a stream: a warning of
 * ffmpeg's about one fails it ({@link assertMonotonicTimestamps}).
 *
 * ```ts ignore
 * await using pub = publishTestSignal("rtmp://127.0.0.1:1935/live/test", { seconds: 5 });
 * const play = await playAndCount("rtmp://127.0.0.1:1935/live/test", { frames: 50, timeoutMs: 10_000 });
 * assert.equal(play.video?.frames, 50, play.stderr);
 * ```
 */
import assert from "node:assert/strict";
import { spawn } from "./process.ts";

/** Options of {@link publishTestSignal}. */
export interface PublishOptions {
  /** Length of the signal; ffmpeg stops after it (`-t`). @default {10} */
  seconds?: number;
  /** @default {320} */
  width?: number;
  /** @default {240} */
  height?: number;
  /** @default {25} */
  fps?: number;
  /** Frames from one keyframe to the next. @default fps (one per second) */
  gop?: number;
  /** @default {"h264"} */
  video?: "h264" | "hevc";
  /**
   * H.264 B-frames between references (`-bf`), as ffmpeg's and OBS's x264
   * defaults send: a keyframe is then shown after the audio that follows it
   * on the wire. @default {0}
   */
  bFrames?: number;
  /** @default {"aac"} */
  audio?: "aac" | "none" | "mp3" | "pcma" | "pcmu" | "opus";
  /** `flv` for RTMP URLs and `.flv` files, `rtsp` for ANNOUNCE/RECORD. @default {"flv"} */
  format?: "flv" | "rtsp";
  /** `-rtsp_transport` when publishing over RTSP. @default ffmpeg's (udp) */
  rtspTransport?: "tcp" | "udp";
  /** Send at the signal's own pace (`-re`), as a live encoder does. @default {true} */
  realtime?: boolean;
  /** Output options after Sluice's own (a later `-f` wins). @default {[]} */
  extraArgs?: string[];
  /** Kill the process after this long. @default seconds × 1000 + 15 000 */
  timeoutMs?: number;
}

/** A running ffmpeg publisher; `await using` stops it at the end of a scope. */
export interface Publisher extends AsyncDisposable {
  process: Deno.ChildProcess;
  /** Asks ffmpeg to finish (SIGINT), then kills it if it lingers. */
  stop(): Promise<void>;
  /** The kept stderr, for failure messages. */
  stderr(): string;
  /** Settles once ffmpeg exited and its output was read. */
  status: Promise<Deno.CommandStatus>;
}

/** Audio encoder arguments and the sample rate the sine source is made at. */
const AUDIO: Record<Exclude<PublishOptions["audio"], "none" | undefined>, {
  args: string[];
  sampleRate: number;
}> = {
  aac: { args: ["-c:a", "aac", "-b:a", "64k"], sampleRate: 44100 },
  mp3: { args: ["-c:a", "libmp3lame", "-b:a", "64k"], sampleRate: 44100 },
  pcma: { args: ["-c:a", "pcm_alaw"], sampleRate: 8000 },
  pcmu: { args: ["-c:a", "pcm_mulaw"], sampleRate: 8000 },
  opus: { args: ["-c:a", "libopus", "-b:a", "32k"], sampleRate: 48000 },
};

/**
 * Publishes ffmpeg's `testsrc2` picture and a sine tone to `url` (an RTMP or
 * RTSP URL, or a plain file path).
 */
export function publishTestSignal(
  url: string,
  options: PublishOptions = {},
): Publisher {
  const seconds = options.seconds ?? 10;
  const width = options.width ?? 320;
  const height = options.height ?? 240;
  const fps = options.fps ?? 25;
  const gop = options.gop ?? fps;
  const audio = options.audio ?? "aac";
  const format = options.format ?? "flv";
  const re = (options.realtime ?? true) ? ["-re"] : [];
  const args = [
    ...re,
    ...["-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=${fps}`],
  ];
  if (audio !== "none") {
    const rate = AUDIO[audio].sampleRate;
    args.push(
      ...re,
      "-f",
      "lavfi",
      "-i",
      `sine=frequency=440:sample_rate=${rate}`,
    );
  }
  args.push("-t", String(seconds), "-map", "0:v");
  if (options.video === "hevc") {
    args.push(
      ...["-c:v", "libx265", "-preset", "ultrafast", "-tune", "zerolatency"],
      ...[
        "-x265-params",
        `log-level=error:keyint=${gop}:min-keyint=${gop}:scenecut=0`,
      ],
    );
  } else {
    args.push(
      ...["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"],
      ...["-keyint_min", String(gop), "-sc_threshold", "0"],
      ...["-bf", String(options.bFrames ?? 0)],
    );
  }
  args.push("-pix_fmt", "yuv420p", "-g", String(gop));
  if (audio !== "none") args.push("-map", "1:a", ...AUDIO[audio].args);
  if (format === "rtsp") {
    args.push("-f", "rtsp");
    if (options.rtspTransport) {
      args.push("-rtsp_transport", options.rtspTransport);
    }
  } else {
    // A live FLV output cannot seek back to fill in duration and size.
    args.push("-f", "flv", "-flvflags", "no_duration_filesize");
  }
  args.push(...options.extraArgs ?? [], url);
  const run = spawn("ffmpeg", args, {
    timeoutMs: options.timeoutMs ?? seconds * 1000 + 15_000,
  });
  return {
    process: run.process,
    stop: run.stop,
    stderr: run.stderr,
    status: run.status,
    [Symbol.asyncDispose]: run.stop,
  };
}

/**
 * What ffmpeg prints when a stream's timestamps step back: its muxer refusing
 * a dts ("Application provided invalid, non monotonically increasing dts to
 * muxer"), ffmpeg moving one forward ("Non-monotonous DTS in output stream
 * 0:1; previous: …, current: …; changing to …"), an "Invalid DTS" replaced
 * by a guess, and the audio resampler's "Queue input is backward in time".
 */
const TIMESTAMP_WARNING =
  /non monotonically increasing dts|non-monotonous dts|invalid dts|queue input is backward in time/i;

/** Options of {@link playAndCount}. */
export interface PlayOptions {
  /** Stop after this many video frames (`-frames:v`). @default until the input ends */
  frames?: number;
  /** Stop after this much media time (`-t`). @default until the input ends */
  seconds?: number;
  /** Kill ffmpeg after this long, and report what was counted. */
  timeoutMs: number;
  /** Input options before `-i` (`-rtsp_transport tcp`). @default {[]} */
  inputArgs?: string[];
}

/** What a player decoded. */
export interface PlayResult {
  /** The first video stream, if the input had one. */
  video?: { codec: string; width: number; height: number; frames: number };
  /** The first audio stream, if the input had one. */
  audio?: {
    codec: string;
    sampleRate: number;
    channels: number;
    frames: number;
  };
  /** The kept stderr, for failure messages. */
  stderr: string;
  /** ffmpeg's lines about timestamps that stepped back (none, or playAndCount threw). */
  timestampWarnings: string[];
  /** ffmpeg's exit code; 255 after our SIGINT. */
  code: number;
  /** Whether ffmpeg was stopped because `timeoutMs` passed. */
  timedOut: boolean;
}

/**
 * Asserts that ffmpeg exited cleanly after decoding H.264 of `width` ×
 * `height` (320 × 240 unless said) and AAC, at least `video` and `audio`
 * frames of each, with timestamps that never stepped back; `context`
 * (another process's output) joins the messages.
 */
export function assertDecodedH264Aac(
  r: PlayResult,
  min: {
    video: number;
    audio?: number;
    width?: number;
    height?: number;
    context?: string;
  },
): void {
  const { audio = 1, width = 320, height = 240, context = "" } = min;
  const why = context === "" ? r.stderr : `${r.stderr}\n${context}`;
  assert.equal(r.code, 0, why);
  assertMonotonicTimestamps(r.timestampWarnings, why);
  assert.deepEqual(
    [r.video?.codec, r.video?.width, r.video?.height],
    ["h264", width, height],
    why,
  );
  assert.ok(r.video!.frames >= min.video, `decoded ${r.video!.frames} frames`);
  assert.equal(r.audio?.codec, "aac", why);
  assert.ok(
    r.audio!.frames >= audio,
    `decoded ${r.audio!.frames} audio frames`,
  );
}

const CHANNELS: Record<string, number> = {
  mono: 1,
  stereo: 2,
  "2.1": 3,
  "3.0": 3,
  quad: 4,
  "4.0": 4,
  "5.0": 5,
  "5.1": 6,
  "7.1": 8,
};

/**
 * Fails with ffmpeg's lines about timestamps that stepped back, if any:
 * every player, whatever the protocol, must get monotonic timestamps.
 */
export function assertMonotonicTimestamps(
  warnings: readonly string[],
  context = "",
): void {
  if (warnings.length === 0) return;
  const lines = warnings.join("\n");
  assert.fail(
    `ffmpeg saw timestamps step back ${warnings.length} times:\n${lines}${
      context === "" ? "" : `\n${context}`
    }`,
  );
}

/**
 * Plays `url` with ffmpeg, decoding the first video and audio stream, and
 * counts the decoded frames; every raw video frame must be width × height of
 * yuv420p, and the timestamps of each stream must never step back.
 *
 * @throws {Error} when a decoded video frame has the wrong size
 * @throws {assert.AssertionError} when ffmpeg saw timestamps step back
 */
export async function playAndCount(
  url: string,
  options: PlayOptions,
): Promise<PlayResult> {
  const args = [
    ...options.inputArgs ?? [],
    "-i",
    url,
    "-map",
    "0:v:0?",
    "-map",
    "0:a:0?",
  ];
  // One known pixel format makes the raw frame size checkable.
  args.push("-pix_fmt:v", "yuv420p");
  if (options.frames !== undefined) {
    args.push("-frames:v", String(options.frames));
  }
  if (options.seconds !== undefined) args.push("-t", String(options.seconds));
  args.push("-f", "framecrc", "-");

  const counter = new FrameCounter();
  const warnings: string[] = [];
  const run = spawn("ffmpeg", args, {
    timeoutMs: options.timeoutMs,
    onStdoutLine: (line) => counter.line(line),
    // Every line, not the kept text: a long run's middle may be cut from it.
    onStderrLine: (line) => {
      if (TIMESTAMP_WARNING.test(line)) warnings.push(line);
    },
  });
  const status = await run.status;
  const stderr = run.stderr();
  if (counter.badFrame !== undefined) {
    throw new Error(
      `Cannot count frames of ${url}: ${counter.badFrame}\n${stderr}`,
    );
  }
  assertMonotonicTimestamps(warnings, `playing ${url}\n${stderr}`);
  const codecs = sourceCodecs(stderr);
  const result: PlayResult = {
    stderr,
    timestampWarnings: warnings,
    code: status.code,
    timedOut: run.timedOut(),
  };
  const { video, audio } = counter;
  if (video !== undefined) {
    result.video = {
      codec: codecs.get(video.index) ?? "unknown",
      width: video.width,
      height: video.height,
      frames: video.frames,
    };
  }
  if (audio !== undefined) {
    result.audio = {
      codec: codecs.get(audio.index) ?? "unknown",
      sampleRate: audio.sampleRate,
      channels: audio.channels,
      frames: audio.frames,
    };
  }
  return result;
}

/** One stream of `ffprobe -show_streams` (the fields tests read most). */
export interface ProbeStream {
  index: number;
  codec_type: "video" | "audio" | "data" | "subtitle" | string;
  codec_name?: string;
  width?: number;
  height?: number;
  /** A string in ffprobe's JSON. */
  sample_rate?: string;
  channels?: number;
  [field: string]: unknown;
}

/** What {@link probe} found. */
export interface ProbeResult {
  streams: ProbeStream[];
  stderr: string;
  code: number;
  timedOut: boolean;
}

/** Describes the streams at `url` with `ffprobe -show_streams -of json`. */
export async function probe(
  url: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  const lines: string[] = [];
  const run = spawn("ffprobe", [
    "-v",
    "error",
    "-show_streams",
    "-of",
    "json",
    url,
  ], {
    timeoutMs,
    onStdoutLine: (line) => void lines.push(line),
  });
  const status = await run.status;
  let streams: ProbeStream[] = [];
  try {
    streams =
      (JSON.parse(lines.join("\n")) as { streams?: ProbeStream[] }).streams ??
        [];
  } catch {
    // killed or failed before printing: no streams, stderr tells why
  }
  return {
    streams,
    stderr: run.stderr(),
    code: status.code,
    timedOut: run.timedOut(),
  };
}

/** One demuxed packet, as ffprobe saw it (times in the stream's time base). */
export interface ProbePacket {
  codecType: string;
  pts: number;
  dts: number;
}

/** The packets of the first `seconds` at `url`, demuxed, not decoded (`ffprobe -show_packets`). */
export async function probePackets(
  url: string,
  seconds: number,
  timeoutMs: number,
): Promise<{ packets: ProbePacket[]; stderr: string; code: number }> {
  const packets: ProbePacket[] = [];
  const run = spawn("ffprobe", [
    ...["-v", "error", "-read_intervals", `%+${seconds}`],
    ...["-show_entries", "packet=codec_type,pts,dts", "-of", "csv=p=0"],
    url,
  ], {
    timeoutMs,
    onStdoutLine: (line) => {
      const [codecType, pts, dts] = line.split(",");
      if (codecType === undefined || pts === undefined || dts === undefined) {
        return;
      }
      packets.push({ codecType, pts: Number(pts), dts: Number(dts) });
    },
  });
  const status = await run.status;
  return { packets, stderr: run.stderr(), code: status.code };
}

interface VideoCount {
  index: number;
  width: number;
  height: number;
  frames: number;
}

interface AudioCount {
  index: number;
  sampleRate: number;
  channels: number;
  frames: number;
}

/** Reads `-f framecrc` output line by line. */
class FrameCounter {
  video?: VideoCount;
  audio?: AudioCount;
  /** The first wrong-sized video frame, described. */
  badFrame?: string;
  readonly #media = new Map<number, string>();

  line(line: string): void {
    const header = /^#(\w+) (\d+): (.*)$/.exec(line);
    if (header !== null) {
      return this.#header(header[1]!, Number(header[2]), header[3]!.trim());
    }
    const fields = line.split(",").map((f) => f.trim());
    if (fields.length < 6 || line.startsWith("#")) return;
    const index = Number(fields[0]);
    const duration = Number(fields[3]);
    const size = Number(fields[4]);
    if (this.video?.index === index) {
      const v = this.video;
      v.frames++;
      const expected = v.width * v.height +
        2 * Math.ceil(v.width / 2) * Math.ceil(v.height / 2);
      if (size !== expected && this.badFrame === undefined) {
        this.badFrame =
          `video frame ${v.frames} has ${size} bytes, expected ${expected} ` +
          `for ${v.width}x${v.height} yuv420p`;
      }
    } else if (this.audio?.index === index) {
      const a = this.audio;
      a.frames++;
      // pcm_s16le: 2 bytes per sample per channel; the duration is in samples.
      if (a.channels === 0 && duration > 0) {
        a.channels = Math.round(size / (2 * duration));
      }
    }
  }

  #header(name: string, index: number, value: string): void {
    if (name === "media_type") {
      this.#media.set(index, value);
      if (value === "video" && this.video === undefined) {
        this.video = { index, width: 0, height: 0, frames: 0 };
      } else if (value === "audio" && this.audio === undefined) {
        this.audio = { index, sampleRate: 0, channels: 0, frames: 0 };
      }
    } else if (name === "dimensions" && this.video?.index === index) {
      const [w, h] = value.split("x").map(Number);
      this.video.width = w ?? 0;
      this.video.height = h ?? 0;
    } else if (name === "sample_rate" && this.audio?.index === index) {
      this.audio.sampleRate = Number(value);
    } else if (name === "channel_layout_name" && this.audio?.index === index) {
      this.audio.channels = CHANNELS[value] ?? 0;
    }
  }
}

/**
 * Output stream index → codec of the input stream it was decoded from, from
 * `Stream #0:1 -> #0:0 (h264 (native) -> rawvideo (native))` lines.
 */
function sourceCodecs(stderr: string): Map<number, string> {
  const codecs = new Map<number, string>();
  for (const m of stderr.matchAll(/Stream #\d+:\d+ -> #0:(\d+) \((\w+)/g)) {
    codecs.set(Number(m[1]), m[2]!);
  }
  return codecs;
}
