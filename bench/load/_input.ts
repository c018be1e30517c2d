/**
 * The stream every fan-out run plays: an FLV file encoded once into
 * bench/load/.peers, its bit rate, a long copy for servers that read a file
 * once (gst-rtsp-server), and the ffmpeg that publishes it over RTMP.
 *
 * @module
 */

import { type Running, spawn } from "./_proc.ts";

/** The input of a run. */
export interface Input {
  /** The FLV file. */
  path: string;
  /** Its bit rate: file size × 8 / duration, so FLV tag headers count. */
  bitsPerSecond: number;
  /** The same file copied end to end, at least as long as a run (only made when a server needs it). */
  longPath?: string;
}

/** Encodes the benchmark input once: 30 s, 960x540 H.264 at ~2.3 Mbit/s CBR, GOP 2 s, AAC 128 kbit/s. */
export async function ensureInput(peers: string): Promise<string> {
  const path = `${peers}/input_960x540_2300k_gop50.flv`;
  if (hasFile(path)) return path;
  Deno.mkdirSync(peers, { recursive: true });
  await ffmpegToFile(path, "encode the input", 300_000, [
    "-f",
    "lavfi",
    // Temporal noise keeps the encoder at its rate instead of far below it.
    "-i",
    "testsrc2=size=960x540:rate=25,noise=alls=12:allf=t",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:sample_rate=44100",
    "-t",
    "30",
    "-map",
    "0:v",
    "-map",
    "1:a",
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-profile:v",
    "high",
    "-pix_fmt",
    "yuv420p",
    "-g",
    "50",
    "-keyint_min",
    "50",
    "-sc_threshold",
    "0",
    "-b:v",
    "2300k",
    "-maxrate",
    "2300k",
    "-bufsize",
    "2300k",
    "-x264-params",
    "nal-hrd=cbr",
    "-c:a",
    "aac",
    "-b:a",
    "128k",
    "-ac",
    "2",
    "-f",
    "flv",
  ]);
  return path;
}

/**
 * The input copied end to end into one file of at least `seconds`
 * (`ffmpeg -stream_loop K -c copy`: timestamps keep increasing across the
 * copies). gst-rtsp-server plays a file once: flvdemux stops at the second
 * FLV header that `multifilesrc loop=true` would feed it.
 */
export async function ensureLongInput(
  input: string,
  seconds: number,
): Promise<string> {
  const path = input.replace(/\.flv$/, `_${seconds}s.flv`);
  if (hasFile(path)) return path;
  const { seconds: once } = await probeInput(input);
  await ffmpegToFile(path, "make the long input", 120_000, [
    "-stream_loop",
    String(Math.ceil(seconds / once)),
    "-i",
    input,
    "-c",
    "copy",
    "-t",
    String(seconds),
    "-f",
    "flv",
  ]);
  return path;
}

/** Duration (s) and bit rate (bit/s, all streams and FLV overhead) of `input`, by ffprobe. */
export async function probeInput(
  input: string,
): Promise<{ seconds: number; bitsPerSecond: number }> {
  const out = await new Deno.Command("ffprobe", {
    args: [
      "-v",
      "error",
      "-show_entries",
      "format=duration,size",
      "-of",
      "json",
      input,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const f = JSON.parse(new TextDecoder().decode(out.stdout)).format as {
    duration: string;
    size: string;
  };
  const seconds = Number(f.duration);
  return { seconds, bitsPerSecond: (Number(f.size) * 8) / seconds };
}

/** `ffmpeg -re -stream_loop -1 -i input -c copy -f flv rtmp://…`: publishes without re-encoding. */
export function startPublisher(
  input: string,
  url: string,
  logPath: string,
): Running {
  return spawn("ffmpeg", [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "warning",
    "-re",
    "-stream_loop",
    "-1",
    "-i",
    input,
    "-c",
    "copy",
    "-f",
    "flv",
    url,
  ], logPath);
}

/** Whether `path` is a file with something in it. */
function hasFile(path: string): boolean {
  try {
    return Deno.statSync(path).size > 0;
  } catch {
    return false; // not there yet
  }
}

/**
 * `ffmpeg … ARGS <path>.tmp.flv`, renamed to `path` once ffmpeg succeeded, so
 * an interrupted run leaves no half-written `path`; throws "Cannot `what`: …".
 */
async function ffmpegToFile(
  path: string,
  what: string,
  timeoutMs: number,
  args: string[],
): Promise<void> {
  const tmp = `${path}.tmp.flv`;
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-y",
      ...args,
      tmp,
    ],
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!out.success) {
    throw new Error(`Cannot ${what}: ${new TextDecoder().decode(out.stderr)}`);
  }
  Deno.renameSync(tmp, path);
}
