/**
 * Rebuilding the recordings index at start-up: one walk of the recordings
 * root (links are not followed), each file the pattern names measured from
 * its own structure: fMP4 fragments' decode times and sample durations, or
 * FLV tag timestamps. A file cut short counts up to its last whole part.
 *
 * @module
 */

import type { RecordPathPattern } from "./path_pattern.ts";
import type { SegmentEntry } from "./record_index.ts";
import { fmp4Duration } from "./fmp4_read.ts";

/** Deepest folder level walked below the root. */
const MAX_DEPTH = 16;
/** Most files indexed at start-up (a bound on the walk, not on recording). */
const MAX_FILES = 1_000_000;

/** Every segment below the pattern's root, with its duration read from the file. */
export async function scanRecordings(
  pattern: RecordPathPattern,
): Promise<SegmentEntry[]> {
  const out: SegmentEntry[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH || out.length >= MAX_FILES) return;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return; // no root yet, or unreadable
    }
    for (const e of entries) {
      const file = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(file, depth + 1);
      if (!e.isFile) continue; // links are not followed
      const name = pattern.read(file);
      if (name === undefined) continue;
      const durationMs = await measure(file, name.format).catch(() => 0);
      if (durationMs <= 0) continue;
      out.push({ ...name, file, durationMs, open: false });
    }
  };
  await walk(pattern.root, 0);
  return out;
}

async function measure(file: string, format: "fmp4" | "flv"): Promise<number> {
  using f = await Deno.open(file, { read: true });
  return format === "flv" ? await flvDuration(f) : await fmp4Duration(f);
}

/** The last audio or video tag timestamp of an FLV file, ms (tag headers only are read). */
export async function flvDuration(f: Deno.FsFile): Promise<number> {
  const head = new Uint8Array(11);
  let pos = 13;
  let last = 0;
  const fileSize = (await f.stat()).size;
  for (let i = 0; i < 10_000_000; i++) {
    await f.seek(pos, Deno.SeekMode.Start);
    if (!await readFull(f, head)) break;
    const type = head[0]! & 0x1f;
    const size = (head[1]! << 16) | (head[2]! << 8) | head[3]!;
    const ts = ((head[7]! << 24) | (head[4]! << 16) | (head[5]! << 8) |
      head[6]!) >>> 0;
    const end = pos + 11 + size + 4;
    if (end > fileSize) break; // a tag cut short
    if (type === 8 || type === 9) last = Math.max(last, ts);
    pos = end;
  }
  return last;
}

/** Fills `buf` from the file; false at the end of it. */
export async function readFull(
  f: Deno.FsFile,
  buf: Uint8Array,
): Promise<boolean> {
  let done = 0;
  while (done < buf.length) {
    const n = await f.read(buf.subarray(done));
    if (n === null) return false;
    done += n;
  }
  return true;
}
