/**
 * The recordings index: every segment of every path with its start and
 * length, kept as segments are written and built once from the folder at
 * start-up, so listing never scans the disk.
 *
 * @module
 */

/** One segment file. */
export interface SegmentEntry {
  path: string;
  /** Absolute file name. */
  file: string;
  format: "fmp4" | "flv";
  /** Wall-clock start, ms since the epoch (UTC). */
  startMs: number;
  /** Media on disk so far, ms. */
  durationMs: number;
  /** Still being written. */
  open: boolean;
}

/** A stretch of recorded time: consecutive segments merged. */
export interface Timespan {
  startMs: number;
  durationMs: number;
}

/** Segments within this much of each other count as one stretch. */
export const MERGE_TOLERANCE_MS = 1000;

/** Segments by path, each list ordered by start. */
export class RecordIndex {
  readonly #paths = new Map<string, SegmentEntry[]>();

  /** Adds a segment (kept in start order). */
  add(entry: SegmentEntry): void {
    let list = this.#paths.get(entry.path);
    if (list === undefined) this.#paths.set(entry.path, list = []);
    let i = list.length;
    while (i > 0 && list[i - 1]!.startMs > entry.startMs) i--;
    list.splice(i, 0, entry);
  }

  /** Removes a segment. */
  remove(entry: SegmentEntry): void {
    const list = this.#paths.get(entry.path);
    if (list === undefined) return;
    const i = list.indexOf(entry);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) this.#paths.delete(entry.path);
  }

  /** Paths with recordings. */
  paths(): string[] {
    return [...this.#paths.keys()].sort();
  }

  /** Segments of `path` that overlap `[startMs, endMs)`, in start order. */
  segments(
    path: string,
    startMs = -Infinity,
    endMs = Infinity,
  ): SegmentEntry[] {
    return (this.#paths.get(path) ?? []).filter((s) =>
      s.startMs < endMs && s.startMs + s.durationMs > startMs
    );
  }

  /** Every segment, for clean-up. */
  all(): SegmentEntry[] {
    return [...this.#paths.values()].flat();
  }

  /**
   * The recorded stretches of `path` within `[startMs, endMs)`: segments
   * that meet (within {@link MERGE_TOLERANCE_MS}) are one stretch; a gap
   * stays a gap. Stretches are clipped to the window.
   */
  timespans(path: string, startMs = -Infinity, endMs = Infinity): Timespan[] {
    const out: Timespan[] = [];
    let cur: { start: number; end: number } | undefined;
    for (const s of this.segments(path, startMs, endMs)) {
      if (s.durationMs <= 0) continue;
      const end = s.startMs + s.durationMs;
      if (cur !== undefined && s.startMs <= cur.end + MERGE_TOLERANCE_MS) {
        cur.end = Math.max(cur.end, end);
        continue;
      }
      if (cur !== undefined) out.push(clip(cur, startMs, endMs));
      cur = { start: s.startMs, end };
    }
    if (cur !== undefined) out.push(clip(cur, startMs, endMs));
    return out;
  }
}

function clip(
  span: { start: number; end: number },
  startMs: number,
  endMs: number,
): Timespan {
  const start = Math.max(span.start, startMs);
  const end = Math.min(span.end, endMs);
  return { startMs: start, durationMs: end - start };
}
