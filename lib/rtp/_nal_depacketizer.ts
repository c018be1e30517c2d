/**
 * RTP packets of H.264 or H.265 → access units: single NAL unit packets,
 * aggregation packets (STAP-A / AP) and fragmentation units (FU-A / FU),
 * cut by marker bit and timestamp, with loss handling. Private to `rtp/`.
 *
 * @module
 */

import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import type { Sink, StageCore } from "../stage.ts";
import { type Frame, type ParameterSets, Unwrapper32 } from "../media/mod.ts";
import { splitAnnexB } from "../codec/nal_units.ts";
import {
  FU_END,
  FU_START,
  type NalFormat,
  type NalRtpPacket,
} from "./_nal_format.ts";
import { ParameterSetStore } from "./_parameter_sets.ts";

/** A packet at most this far behind the last one is late; further behind, a new sequence (RFC 3550 A.1 MAX_MISORDER). */
const MAX_BEHIND = 100;

/** Options of the depacketizers. */
export interface NalDepacketizerOptions {
  /** `Frame.trackId` of the frames. @default {0} */
  trackId?: number;
  /**
   * Largest access unit in bytes; a bigger one is a `limit` error. Cameras
   * send keyframes of 1–2 MB.
   * @default {8 * 1024 * 1024}
   */
  maxFrameSize?: number;
  /** Most NAL units in one access unit. @default {16384} */
  maxUnits?: number;
  /** Drop frames until the first keyframe, as after loss. @default {true} */
  waitForKeyframe?: boolean;
  /** Parameter sets from the SDP (`sprop-…`), put in front of keyframes that lack them. */
  parameterSets?: ParameterSets;
  /** Called when in-band parameter sets differ from those known before. */
  onParameterSets?: (sets: ParameterSets) => void;
}

/**
 * RTP packets → access units of NAL units. The access unit ends at the
 * marker bit or when the timestamp changes (cameras that never set the
 * marker). A sequence gap drops the frame being assembled and every frame
 * up to the next keyframe, counted in {@link droppedFrames}.
 */
export class NalDepacketizer implements StageCore<NalRtpPacket, Frame> {
  readonly #format: NalFormat;
  readonly #trackId: number;
  readonly #maxFrameSize: number;
  readonly #maxUnits: number;
  readonly #sets: ParameterSetStore;
  readonly #onParameterSets: ((sets: ParameterSets) => void) | undefined;
  readonly #unwrapper = new Unwrapper32();
  #units: Uint8Array[] = [];
  #size = 0;
  #timestamp: number | undefined;
  /** Pieces of the fragmented NAL unit in progress, its header first. */
  #fragments: Uint8Array[] | undefined;
  #fragmentSize = 0;
  /** The access unit in progress misses packets. */
  #broken = false;
  #waitForKeyframe: boolean;
  #lastSequence: number | undefined;
  /** Access units dropped: incomplete, or not decodable before a keyframe. */
  droppedFrames = 0;
  /** Packets missing in the sequence numbers. */
  lostPackets = 0;
  /** Packets ignored: duplicates, late, reserved or skipped types (PACI). */
  skippedPackets = 0;

  constructor(format: NalFormat, options: NalDepacketizerOptions = {}) {
    this.#format = format;
    this.#trackId = options.trackId ?? 0;
    this.#maxFrameSize = options.maxFrameSize ?? 8 * 1024 * 1024;
    this.#maxUnits = options.maxUnits ?? 16384;
    this.#waitForKeyframe = options.waitForKeyframe ?? true;
    this.#sets = new ParameterSetStore(format, options.parameterSets);
    this.#onParameterSets = options.onParameterSets;
  }

  /** The parameter sets known so far (SDP, then in-band), or undefined before any. */
  get parameterSets(): ParameterSets | undefined {
    return this.#sets.current();
  }

  push(packet: NalRtpPacket, out: Sink<Frame>): void {
    const seq = packet.sequenceNumber;
    let gap = false;
    if (this.#lastSequence !== undefined) {
      const d = (seq - this.#lastSequence) & 0xffff;
      if (d === 0 || d > 0x10000 - MAX_BEHIND) { // a duplicate, or late: already given up on
        this.skippedPackets++;
        return;
      }
      if (d > 1) { // loss, or a jump to a new sequence (a restarted sender)
        this.lostPackets += d - 1;
        gap = true;
      }
    }
    this.#lastSequence = seq;
    if (this.#timestamp !== undefined && packet.timestamp !== this.#timestamp) {
      if (gap) this.#broken = true; // the lost packets may have been its tail
      this.#flush(out);
    }
    if (gap) {
      this.#broken = true;
      this.#fragments = undefined;
    }
    this.#timestamp = packet.timestamp;
    this.#payload(packet.payload);
    if (packet.marker) this.#flush(out);
  }

  /** Emits the access unit in progress, if complete (a stream without marker bits ends in one). */
  end(out: Sink<Frame>): void {
    if (this.#timestamp !== undefined) this.#flush(out);
  }

  /**
   * Tells the depacketizer that packets were lost where the sequence numbers
   * cannot show it: the access unit in progress is dropped.
   */
  markLoss(): void {
    this.#broken = true;
    this.#fragments = undefined;
  }

  #payload(payload: Uint8Array): void {
    const f = this.#format;
    if (payload.length < f.headerSize) {
      throw fail(f, "malformed", `payload of ${payload.length} bytes`);
    }
    if (
      payload[0] === 0 && payload[1] === 0 &&
      (payload[2] === 1 || (payload[2] === 0 && payload[3] === 1))
    ) {
      this.#unit(payload); // Annex-B with start codes instead of a payload header (some cameras)
      return;
    }
    const type = f.type(payload);
    switch (f.kind(type)) {
      case "single":
        this.#unit(payload);
        return;
      case "aggregation":
        this.#aggregation(payload);
        return;
      case "fragment":
        this.#fragment(payload);
        return;
      case "skip":
        this.skippedPackets++;
        return;
      case "unsupported":
        throw fail(
          f,
          "unsupported",
          `packet type ${type} (interleaved mode or DONL)`,
        );
    }
  }

  /** STAP-A (RFC 6184 §5.7.1), AP (RFC 7798 §4.4.2): header, then { size (16) | NAL unit }*. */
  #aggregation(payload: Uint8Array): void {
    const f = this.#format;
    let pos = f.headerSize;
    if (pos + 2 > payload.length) {
      throw fail(f, "malformed", "aggregation packet without units");
    }
    while (pos < payload.length) {
      if (pos + 2 > payload.length) {
        throw fail(f, "truncated", "aggregation unit size runs past the end");
      }
      const size = (payload[pos]! << 8) | payload[pos + 1]!;
      pos += 2;
      if (size === 0 || pos + size > payload.length) {
        throw fail(
          f,
          "truncated",
          `aggregated unit of ${size} bytes with ${payload.length - pos} left`,
        );
      }
      this.#unit(payload.subarray(pos, pos + size));
      pos += size;
    }
  }

  /** FU-A (RFC 6184 §5.8), FU (RFC 7798 §4.4.3): header, S|E|type, a piece of one NAL unit. */
  #fragment(payload: Uint8Array): void {
    const f = this.#format;
    const at = f.headerSize;
    if (payload.length <= at) {
      throw fail(f, "malformed", "fragment without FU header");
    }
    const fu = payload[at]!;
    const piece = payload.subarray(at + 1);
    if (fu & FU_START) {
      if (this.#fragments !== undefined) this.#broken = true; // the previous one never ended
      const header = new Uint8Array(f.headerSize);
      f.unfragmentHeader(payload, header);
      this.#fragments = [header, piece];
      this.#fragmentSize = header.length + piece.length;
      this.#grow(this.#fragmentSize);
    } else if (this.#fragments === undefined) {
      this.#broken = true; // its start was lost
      return;
    } else {
      this.#grow(piece.length);
      this.#fragments.push(piece);
      this.#fragmentSize += piece.length;
    }
    // S and E together are forbidden (RFC 6184 §5.8) but complete; taken as they come.
    if (fu & FU_END) {
      const nal = new Uint8Array(this.#fragmentSize);
      let pos = 0;
      for (const p of this.#fragments) {
        nal.set(p, pos);
        pos += p.length;
      }
      this.#fragments = undefined;
      this.#size -= this.#fragmentSize; // counted while it grew; #unit counts it again
      this.#unit(nal);
    }
  }

  /** One complete NAL unit; Annex-B start codes inside it split it (cameras that send them). */
  #unit(nal: Uint8Array): void {
    if (hasStartCode(nal)) {
      for (const u of splitAnnexB(nal)) this.#add(u);
    } else {
      this.#add(nal);
    }
  }

  #add(nal: Uint8Array): void {
    if (this.#units.length >= this.#maxUnits) {
      throw fail(
        this.#format,
        "limit",
        `more than ${this.#maxUnits} NAL units in one access unit`,
      );
    }
    this.#grow(nal.length);
    this.#units.push(nal);
  }

  #grow(n: number): void {
    this.#size += n;
    if (this.#size > this.#maxFrameSize) {
      throw fail(
        this.#format,
        "limit",
        `access unit of ${this.#size} bytes exceeds ${this.#maxFrameSize}`,
      );
    }
  }

  #flush(out: Sink<Frame>): void {
    const f = this.#format;
    const units = this.#units;
    const timestamp = this.#timestamp!;
    const broken = this.#broken || this.#fragments !== undefined;
    this.#units = [];
    this.#size = 0;
    this.#fragments = undefined;
    this.#broken = false;
    this.#timestamp = undefined;
    if (broken) {
      this.droppedFrames++;
      this.#waitForKeyframe = true;
      return;
    }
    if (units.length === 0) return;
    let vcl = false;
    let keyframe = false;
    for (const u of units) {
      const t = f.type(u);
      if (f.isVcl(t)) vcl = true;
      if (f.isKeyframe(t)) keyframe = true;
    }
    if (this.#sets.observe(units)) {
      this.#onParameterSets?.(this.#sets.current()!);
    }
    // No picture: parameter sets or SEI sent as an access unit of their own
    // (marker set on them, or their own timestamp). The parameter sets are
    // kept and go in front of the next keyframe.
    if (!vcl) return;
    if (this.#waitForKeyframe && !keyframe) {
      this.droppedFrames++;
      return;
    }
    this.#waitForKeyframe = false;
    const ts = this.#unwrapper.unwrap(timestamp);
    out.enqueue({
      trackId: this.#trackId,
      dts: ts,
      pts: ts,
      keyframe,
      units: keyframe ? this.#sets.complete(units) : units,
    });
  }
}

/** Whether `nal` holds an Annex-B start code (0x000001), which no NAL unit may contain. */
function hasStartCode(nal: Uint8Array): boolean {
  for (let i = 0; i + 2 < nal.length;) {
    const b = nal[i + 2]!;
    if (b > 1) i += 3;
    else if (b === 1 && nal[i + 1] === 0 && nal[i] === 0) return true;
    else i++;
  }
  return false;
}

/** A `ProtocolError` of RTP naming the payload format. */
function fail(
  format: NalFormat,
  code: ProtocolErrorCode,
  detail: string,
): ProtocolError {
  return new ProtocolError(`Cannot depacketize ${format.name}: ${detail}`, {
    protocol: "rtp",
    code,
  });
}
