/**
 * Reading recordings with real tools: ffprobe counts every frame of a file
 * and reads its duration; gst-discoverer-1.0 reads its duration and
 * streams.
 */
import { spawn } from "./process.ts";

/** What ffprobe read of a file. */
export interface FileProbe {
  /** `format.duration`, seconds. */
  duration: number;
  /** Per stream: codec and frames decoded (`-count_frames`). */
  streams: { codec: string; type: string; frames: number }[];
  code: number;
  stderr: string;
}

/** Decodes every frame of `file` with ffprobe (`-count_frames`), errors shown. */
export async function probeFile(
  file: string,
  timeoutMs = 20_000,
): Promise<FileProbe> {
  const lines: string[] = [];
  const run = spawn("ffprobe", [
    ...["-v", "error", "-count_frames"],
    ...[
      "-show_entries",
      "format=duration:stream=codec_name,codec_type,nb_read_frames",
    ],
    ...["-of", "json", file],
  ], { timeoutMs, onStdoutLine: (l) => void lines.push(l) });
  const status = await run.status;
  let duration = NaN;
  let streams: FileProbe["streams"] = [];
  try {
    const j = JSON.parse(lines.join("\n")) as {
      format?: { duration?: string };
      streams?: {
        codec_name?: string;
        codec_type?: string;
        nb_read_frames?: string;
      }[];
    };
    duration = Number(j.format?.duration);
    streams = (j.streams ?? []).map((s) => ({
      codec: s.codec_name ?? "",
      type: s.codec_type ?? "",
      frames: Number(s.nb_read_frames ?? 0),
    }));
  } catch {
    // stderr says why
  }
  return { duration, streams, code: status.code, stderr: run.stderr() };
}

/** What gst-discoverer-1.0 read of a file. */
export interface Discovered {
  /** Seconds, from its `Duration: h:mm:ss.nnnnnnnnn` line. */
  duration: number;
  /** Its whole output. */
  text: string;
  code: number;
}

/** Runs gst-discoverer-1.0 on `file`. */
export async function discover(
  file: string,
  timeoutMs = 20_000,
): Promise<Discovered> {
  const lines: string[] = [];
  const run = spawn("gst-discoverer-1.0", ["-v", file], {
    timeoutMs,
    onStdoutLine: (l) => void lines.push(l),
  });
  const status = await run.status;
  const text = `${lines.join("\n")}\n${run.stderr()}`;
  const m = /Duration: (\d+):(\d+):(\d+\.\d+)/.exec(text);
  const duration = m === null
    ? NaN
    : Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return { duration, text, code: status.code };
}

/** Every regular file below `dir` with one of `extensions`, sorted. */
export async function filesBelow(
  dir: string,
  extensions: string[],
): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const f = `${d}/${e.name}`;
      if (e.isDirectory) await walk(f);
      else if (e.isFile && extensions.some((x) => e.name.endsWith(`.${x}`))) {
        out.push(f);
      }
    }
  };
  await walk(dir).catch(() => {});
  return out.sort();
}
