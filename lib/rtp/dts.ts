/**
 * Decode timestamps for H.264/H.265 received over RTP, which carries
 * presentation times only. RTMP, FLV and MP4 need both: with B-frames the
 * decode order differs from the presentation order.
 *
 * ## Method
 *
 * Frames arrive in decode order. If a stream reorders at most `D` frames
 * (no frame has more than `D` frames before it in decode order and after it
 * in presentation order), then by the time frame `i` arrives every frame
 * shown at position `i - D` or earlier has arrived. So
 *
 * ```
 * dts[i] = the (i - D)-th smallest pts of the stream
 * ```
 *
 * is known on arrival: it is the smallest of the last `D + 1` pts not yet
 * used, kept in a small sorted list. These dts increase, are at most the
 * frame's pts, and lag pts by `D` frame durations, as an encoder's own do.
 * Only the first `D` frames wait, for frame `D`: they get dts one step apart
 * below the smallest pts. After that frames go out as they come: no added
 * latency. With `D = 0`, dts = pts.
 *
 * `D` is the stream's own declaration where there is one: H.265's
 * sps_max_num_reorder_pics, H.264's VUI max_num_reorder_frames (x264 and
 * most encoders write it), or 0 where H.264 cannot reorder (Baseline,
 * pic_order_cnt_type 2). Where the SPS is silent (many cameras, which rarely
 * use B-frames) it is measured: each frame counts the recent frames with a
 * larger pts, and `D` rises to that count. Measured or declared, `D` never
 * falls, and a frame that proves it too small raises it; that frame (only it
 * and the few after it) gets dts one tick after the last, which may exceed
 * its pts: dts stays monotonic, the composition offset goes negative once.
 *
 * Picture order counts would tell the same from slice headers, but need the
 * PPS and slice header of every picture; the pts already are the output
 * order, so this reads only the SPS.
 *
 * @module
 */

import { type Sink, type StageCore, StageStream } from "../stage.ts";
import { ProtocolError } from "../errors.ts";
import type { Frame, ParameterSets, VideoCodec } from "../media/mod.ts";
import { H264_NAL_TYPE, h264NalType } from "../codec/h264/nal.ts";
import { H265_NAL_TYPE, h265NalType } from "../codec/h265/nal.ts";
import { h264ReorderDepth } from "../codec/h264/reorder.ts";
import { h265ReorderDepth } from "../codec/h265/reorder.ts";

/** Options of {@link DtsRebuilder}. */
export interface DtsRebuilderOptions {
  /** Parameter sets known before the first frame (SDP `sprop-…`); in-band ones update them. */
  parameterSets?: ParameterSets;
  /** The reorder depth to use instead of the SPS's; frames that prove it small still raise it. */
  reorderDepth?: number;
  /** Largest reorder depth measured or believed (H.264 and H.265 allow 16). @default {16} */
  maxReorderDepth?: number;
  /**
   * A pts this far (in ticks) behind the last dts starts a new timeline (a
   * restarted sender); the dts then jump back with it.
   * @default {10 * 90000}
   */
  maxBackwardJump?: number;
}

/**
 * Frames in decode order with presentation times only (dts ignored) →
 * the same frames with decode times: increasing, at most pts, lagging pts
 * by the stream's reorder depth. See the module documentation for the method.
 *
 * @example Rebuild dts of I P B B in decode order
 * ```ts
 * import assert from "node:assert/strict";
 * import { DtsRebuilder } from "./mod.ts";
 * import type { Frame } from "../media/mod.ts";
 *
 * const frame = (pts: number): Frame => ({ trackId: 0, dts: pts, pts, keyframe: false, units: [] });
 * const out: Frame[] = [];
 * const rebuilder = new DtsRebuilder("H264", { reorderDepth: 1 });
 * for (const pts of [0, 3000, 1000, 2000, 6000]) rebuilder.push(frame(pts), { enqueue: (f) => out.push(f) });
 * assert.deepEqual(out.map((f) => f.dts), [-3000, 0, 1000, 2000, 3000]); // step guessed from 0 and 3000
 * ```
 */
export class DtsRebuilder implements StageCore<Frame, Frame> {
  readonly #codec: VideoCodec;
  readonly #forced: number | undefined;
  readonly #max: number;
  readonly #maxBackwardJump: number;
  #depth = 0;
  #declared: number | undefined;
  #lastSps: Uint8Array | undefined;
  /** Pts seen but not yet used as a dts, ascending. */
  #pending: number[] = [];
  /** The last `#max` pts, for measuring the reorder depth. */
  #recent: number[] = [];
  /** Frames waiting for the first dts. */
  #waiting: Frame[] = [];
  #lastDts: number | undefined;
  /** Times a frame showed more reordering than believed. */
  depthIncreases = 0;
  /** New timelines started after a backward jump. */
  resets = 0;

  constructor(codec: VideoCodec, options: DtsRebuilderOptions = {}) {
    this.#codec = codec;
    this.#max = options.maxReorderDepth ?? 16;
    this.#forced = options.reorderDepth === undefined
      ? undefined
      : Math.min(options.reorderDepth, this.#max);
    this.#maxBackwardJump = options.maxBackwardJump ?? 10 * 90000;
    const sps = options.parameterSets?.sps[0];
    if (sps) this.#readSps(sps);
    this.#depth = this.#forced ?? this.#declared ?? 0;
  }

  /** The reorder depth in use: frames of delay between dts and pts. */
  get reorderDepth(): number {
    return this.#depth;
  }

  push(frame: Frame, out: Sink<Frame>): void {
    const pts = frame.pts;
    if (
      this.#lastDts !== undefined && pts < this.#lastDts - this.#maxBackwardJump
    ) {
      this.resets++;
      this.#reset();
    }
    if (frame.keyframe) this.#inBandSps(frame.units);
    this.#measure(pts);
    insertSorted(this.#pending, pts);
    if (this.#lastDts === undefined) {
      this.#waiting.push(frame);
      if (this.#pending.length > this.#depth) this.#release(out);
      return;
    }
    const dts = this.#pending.length > this.#depth
      ? this.#pending.shift()!
      : -Infinity;
    this.#emit(frame, Math.max(dts, this.#lastDts + 1), out);
  }

  /** Emits frames still waiting for the first dts. */
  end(out: Sink<Frame>): void {
    if (this.#waiting.length > 0) this.#release(out);
  }

  #reset(): void {
    this.#pending = [];
    this.#recent = [];
    this.#lastDts = undefined;
  }

  /** The first dts: the smallest pts for the newest waiting frame, steps below it for the others. */
  #release(out: Sink<Frame>): void {
    const base = this.#pending.shift()!;
    let step = Infinity;
    let prev = base;
    for (const p of this.#pending) {
      if (p > prev) step = Math.min(step, p - prev);
      prev = p;
    }
    if (step === Infinity) step = 1;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (let k = 0; k < waiting.length; k++) {
      this.#emit(waiting[k]!, base - (waiting.length - 1 - k) * step, out);
    }
  }

  #emit(frame: Frame, dts: number, out: Sink<Frame>): void {
    this.#lastDts = dts;
    out.enqueue(frame.dts === dts ? frame : { ...frame, dts });
  }

  /** Raises the depth to the number of recent frames shown after this one. */
  #measure(pts: number): void {
    let later = 0;
    for (const p of this.#recent) if (p > pts) later++;
    this.#recent.push(pts);
    if (this.#recent.length > this.#max) this.#recent.shift();
    if (later > this.#depth) {
      this.#depth = Math.min(later, this.#max);
      this.depthIncreases++;
    }
  }

  #inBandSps(units: readonly Uint8Array[]): void {
    for (const u of units) {
      const isSps = this.#codec === "H264"
        ? h264NalType(u) === H264_NAL_TYPE.SPS
        : this.#codec === "H265" && h265NalType(u) === H265_NAL_TYPE.SPS;
      if (!isSps) continue;
      this.#readSps(u);
      if (
        this.#forced === undefined && this.#declared !== undefined &&
        this.#declared > this.#depth
      ) {
        this.#depth = this.#declared;
      }
      return;
    }
  }

  #readSps(sps: Uint8Array): void {
    const last = this.#lastSps;
    if (
      last && last.length === sps.length && last.every((b, i) => b === sps[i])
    ) return;
    this.#lastSps = sps.slice();
    try {
      const depth = this.#codec === "H264"
        ? h264ReorderDepth(sps)
        : this.#codec === "H265"
        ? h265ReorderDepth(sps)
        : undefined;
      this.#declared = depth === undefined
        ? undefined
        : Math.min(depth, this.#max);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.#declared = undefined; // an SPS we cannot walk: measure instead
    }
  }
}

/** {@link DtsRebuilder} as a `TransformStream`. */
export class DtsRebuilderStream extends StageStream<Frame, Frame> {
  constructor(codec: VideoCodec, options?: DtsRebuilderOptions) {
    super(new DtsRebuilder(codec, options));
  }
}

function insertSorted(list: number[], value: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]! > value) i--;
  list.splice(i, 0, value);
}
