/**
 * One track's sample table for a progressive MP4, kept compact while frames
 * stream past: sizes in a growing `Uint32Array`, durations and composition
 * offsets run-length coded as `stts`/`ctts` want them, sync sample numbers,
 * and chunks (runs of consecutive samples of this track in the `mdat`).
 * About 4 bytes per sample plus 12 per run and chunk.
 *
 * @module
 */

import { ByteWriter } from "../binary.ts";
import { fields, fullBox, u32, writeU64 } from "./box.ts";

/** A list of unsigned integers in a typed array that doubles as it fills. */
class Numbers {
  #data: Uint32Array | Float64Array;
  length = 0;
  constructor(wide: boolean) {
    this.#data = wide ? new Float64Array(64) : new Uint32Array(64);
  }
  push(v: number): void {
    if (this.length === this.#data.length) {
      const bigger = new (this.#data.constructor as Uint32ArrayConstructor)(
        this.#data.length * 2,
      );
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.length++] = v;
  }
  at(i: number): number {
    return this.#data[i]!;
  }
  /** Adds `v` to the last element. */
  bumpLast(v: number): void {
    this.#data[this.length - 1]! += v;
  }
}

/** Run-length pairs (count, value). */
class Runs {
  readonly counts = new Numbers(false);
  readonly values: number[] = [];
  push(value: number): void {
    const n = this.values.length;
    if (n > 0 && this.values[n - 1] === value) this.counts.bumpLast(1);
    else {
      this.values.push(value);
      this.counts.push(1);
    }
  }
}

/** The sample table of one track. */
export class SampleIndex {
  readonly #sizes = new Numbers(false);
  readonly #durations = new Runs();
  readonly #offsets = new Runs();
  readonly #sync: number[] = [];
  /** Chunk offsets relative to the start of the mdat payload. */
  readonly #chunkOffsets = new Numbers(true);
  readonly #chunkSamples = new Numbers(false);
  #timed = 0;
  #nonSync = false;
  #negative = false;
  /** Sum of durations. */
  duration = 0;
  /** Decode time of the first sample, and earliest presentation time. */
  firstDecodeTime: number | undefined;
  minPresentationTime = Infinity;

  /** Samples added. */
  get count(): number {
    return this.#sizes.length;
  }

  /** Size of sample `i` (0-based). */
  size(i: number): number {
    return this.#sizes.at(i);
  }

  /** Largest chunk offset relative to the mdat payload, or -1. */
  get lastChunkOffset(): number {
    const n = this.#chunkOffsets.length;
    return n === 0 ? -1 : this.#chunkOffsets.at(n - 1);
  }

  /** A sample of `size` bytes at `offset` in the mdat payload; `newChunk` when the sample before in the mdat was another track's. */
  add(
    size: number,
    offset: number,
    newChunk: boolean,
    keyframe: boolean,
  ): void {
    this.#sizes.push(size);
    if (keyframe) this.#sync.push(this.#sizes.length);
    else this.#nonSync = true;
    if (newChunk || this.#chunkSamples.length === 0) {
      this.#chunkOffsets.push(offset);
      this.#chunkSamples.push(1);
    } else this.#chunkSamples.bumpLast(1);
  }

  /** The timing of the next sample in order (durations come one frame late). */
  time(decodeTime: number, duration: number, compositionOffset: number): void {
    if (this.#timed >= this.#sizes.length) {
      throw new RangeError("Cannot time a sample that was not added");
    }
    this.#timed++;
    this.firstDecodeTime ??= decodeTime;
    this.duration += duration;
    this.minPresentationTime = Math.min(
      this.minPresentationTime,
      decodeTime + compositionOffset,
    );
    this.#durations.push(duration);
    this.#offsets.push(compositionOffset);
    if (compositionOffset < 0) this.#negative = true;
  }

  /** `stts`, `ctts`, `stss`, `stsz`, `stsc` and `stco`/`co64` (chunk offsets + `base`). */
  tables(base: number, wide: boolean): Uint8Array[] {
    const out: Uint8Array[] = [this.#runs("stts", this.#durations, 0)];
    const o = this.#offsets;
    if (o.values.length > 1 || (o.values[0] ?? 0) !== 0) {
      out.push(this.#runs("ctts", o, this.#negative ? 1 : 0));
    }
    if (this.#nonSync) {
      out.push(
        fullBox(
          "stss",
          0,
          0,
          u32(this.#sync.length),
          numbers(this.#sync.length, (i) => this.#sync[i]!),
        ),
      );
    }
    const n = this.#sizes.length;
    out.push(
      fullBox(
        "stsz",
        0,
        0,
        u32(0),
        u32(n),
        numbers(n, (i) => this.#sizes.at(i)),
      ),
    );
    out.push(this.#stsc());
    const chunks = this.#chunkOffsets.length;
    if (wide) {
      out.push(fullBox(
        "co64",
        0,
        0,
        u32(chunks),
        fields(8 * chunks, (w) => {
          for (let i = 0; i < chunks; i++) {
            writeU64(w, base + this.#chunkOffsets.at(i));
          }
        }),
      ));
    } else {
      out.push(
        fullBox(
          "stco",
          0,
          0,
          u32(chunks),
          numbers(chunks, (i) => base + this.#chunkOffsets.at(i)),
        ),
      );
    }
    return out;
  }

  #runs(type: string, runs: Runs, version: number): Uint8Array {
    const n = runs.values.length;
    return fullBox(
      type,
      version,
      0,
      u32(n),
      fields(8 * n, (w) => {
        for (let i = 0; i < n; i++) {
          w.u32(runs.counts.at(i));
          if (version === 1) {
            w.view.setInt32(w.pos, runs.values[i]!), w.pos += 4;
          } else w.u32(runs.values[i]!);
        }
      }),
    );
  }

  /** `stsc` (§8.7.4): a new entry only where samples per chunk change. */
  #stsc(): Uint8Array {
    const entries: number[] = [];
    const chunks = this.#chunkSamples.length;
    for (let i = 0; i < chunks; i++) {
      const n = this.#chunkSamples.at(i);
      if (entries.length === 0 || entries[entries.length - 1] !== n) {
        entries.push(i + 1, n);
      }
    }
    const count = entries.length / 2;
    return fullBox(
      "stsc",
      0,
      0,
      u32(count),
      fields(12 * count, (w) => {
        for (let i = 0; i < entries.length; i += 2) {
          w.u32(entries[i]!).u32(entries[i + 1]!).u32(1);
        }
      }),
    );
  }
}

function numbers(n: number, value: (i: number) => number): Uint8Array {
  const w = new ByteWriter(4 * n);
  for (let i = 0; i < n; i++) w.u32(value(i));
  return w.bytes;
}
