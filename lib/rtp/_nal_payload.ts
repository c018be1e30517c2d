/**
 * What the H.264 (RFC 6184) and H.265 (RFC 7798) payload formats share:
 * single NAL unit packets, aggregation packets (STAP-A / AP: a payload
 * header, then 16-bit sizes and NAL units), fragmentation units (FU-A / FU:
 * a payload header, an S|E|type byte, then a piece of one NAL unit), access
 * units cut by marker bit and timestamp, loss handling and parameter sets.
 * Only the header layouts differ; {@link NalFormat} describes them.
 *
 * @module
 */

import { ProtocolError, type ProtocolErrorCode } from "../errors.ts";
import type { Sink, StageCore } from "../stage.ts";
import {
  type Frame,
  type ParameterSets,
  rescale,
  Unwrapper32,
} from "../media/mod.ts";
import { splitAnnexB } from "../codec/nal_units.ts";
import {
  RTP_HEADER_SIZE,
  type RtpPayloadPacket,
  writeRtpHeader,
} from "./packet.ts";
import { randomRtpTimestamp } from "./timing.ts";

/** The RTP clock of H.264 and H.265, RFC 6184 §8.2.1 and RFC 7798 §7.1. */
export const NAL_RTP_CLOCK_RATE = 90000;

/** What a packet type carries. */
export type NalPacketKind =
  | "single"
  | "aggregation"
  | "fragment"
  | "skip"
  | "unsupported";

/** The fields of an RTP packet a depacketizer reads. */
export type NalRtpPacket = RtpPayloadPacket;

/** Which parameter set a NAL unit is, as an index into {@link PARAMETER_SET_KINDS}. */
const PARAMETER_SET_KINDS = ["vps", "sps", "pps"] as const;
type ParameterSetKind = typeof PARAMETER_SET_KINDS[number];

/** The header layouts of one codec's payload format. */
export interface NalFormat {
  /** "H.264" or "H.265", for messages. */
  readonly name: string;
  /** Bytes of a NAL unit header and of a payload header: 1 or 2. */
  readonly headerSize: number;
  /** The FU header's type bits: 0x1f (H.264) or 0x3f (H.265). */
  readonly fragmentTypeMask: number;
  /** Parameter set kinds an IDR/IRAP needs in front of it. */
  readonly requiredSets: readonly ParameterSetKind[];
  /** Type field of a NAL unit header or payload header. */
  type(header: Uint8Array): number;
  /** What a payload of that type carries. */
  kind(type: number): NalPacketKind;
  /** Whether a NAL unit type is a coded slice. */
  isVcl(type: number): boolean;
  /** Whether a NAL unit type starts a picture a decoder can start at (IDR, IRAP). */
  isKeyframe(type: number): boolean;
  /** Which parameter set a NAL unit type is, if any. */
  parameterSet(type: number): ParameterSetKind | undefined;
  /** Writes the header of the NAL unit a fragment payload carries. */
  unfragmentHeader(payload: Uint8Array, out: Uint8Array): void;
  /** Writes the payload header of a fragment of `nal` (before the FU header). */
  fragmentHeader(nal: Uint8Array, out: Uint8Array, at: number): void;
  /** Writes the payload header of an aggregation packet of `units[from..to)`. */
  aggregationHeader(
    units: readonly Uint8Array[],
    from: number,
    to: number,
    out: Uint8Array,
    at: number,
  ): void;
}

/** A packet at most this far behind the last one is late; further behind, a new sequence (RFC 3550 A.1 MAX_MISORDER). */
const MAX_BEHIND = 100;
/** Bit of the FU header that starts a fragmented NAL unit. */
const FU_START = 0x80;
/** Bit of the FU header that ends it. */
const FU_END = 0x40;

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

/** Parameter sets seen so far, by kind. */
class ParameterSetStore {
  readonly #format: NalFormat;
  readonly #sets: Record<ParameterSetKind, Uint8Array[]> = {
    vps: [],
    sps: [],
    pps: [],
  };

  constructor(format: NalFormat, initial: ParameterSets | undefined) {
    this.#format = format;
    if (initial) {
      this.#sets.vps = (initial.vps ?? []).map((u) => u.slice());
      this.#sets.sps = initial.sps.map((u) => u.slice());
      this.#sets.pps = initial.pps.map((u) => u.slice());
    }
  }

  current(): ParameterSets | undefined {
    const { vps, sps, pps } = this.#sets;
    if (sps.length === 0 && pps.length === 0 && vps.length === 0) {
      return undefined;
    }
    return this.#format.requiredSets.includes("vps")
      ? { vps, sps, pps }
      : { sps, pps };
  }

  /**
   * Takes the parameter sets of an access unit: those of a kind replace the
   * stored ones of that kind. Returns whether anything changed.
   */
  observe(units: readonly Uint8Array[]): boolean {
    let found: Partial<Record<ParameterSetKind, Uint8Array[]>> | undefined;
    for (const u of units) {
      const kind = this.#format.parameterSet(this.#format.type(u));
      if (kind === undefined) continue;
      found ??= {};
      (found[kind] ??= []).push(u);
    }
    if (found === undefined) return false;
    let changed = false;
    for (const kind of PARAMETER_SET_KINDS) {
      const next = found[kind];
      if (next === undefined || sameUnits(next, this.#sets[kind])) continue;
      this.#sets[kind] = next.map((u) => u.slice()); // they outlive the packet
      changed = true;
    }
    return changed;
  }

  /**
   * `units` with the stored parameter sets of the kinds it lacks put before
   * its first slice, so a keyframe always decodes on its own.
   */
  complete(units: Uint8Array[]): Uint8Array[] {
    const f = this.#format;
    let missing: Uint8Array[] | undefined;
    for (const kind of f.requiredSets) {
      if (this.#sets[kind].length === 0) continue;
      if (units.some((u) => f.parameterSet(f.type(u)) === kind)) continue;
      (missing ??= []).push(...this.#sets[kind]);
    }
    if (missing === undefined) return units;
    const at = units.findIndex((u) => f.isVcl(f.type(u)));
    return [...units.slice(0, at), ...missing, ...units.slice(at)];
  }
}

function sameUnits(
  a: readonly Uint8Array[],
  b: readonly Uint8Array[],
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

/** Options of the packetizers. */
export interface NalPacketizerOptions {
  /** @default {96} */
  payloadType?: number;
  /** @default a random 32-bit number (RFC 3550 §8) */
  ssrc?: number;
  /** Sequence number of the first packet. @default a random 16-bit number (RFC 3550 §5.1) */
  sequenceNumber?: number;
  /** RTP timestamp of pts 0. @default a random 32-bit number (RFC 3550 §5.1) */
  timestampOffset?: number;
  /** Clock of the frames' pts. @default {90000} */
  clockRate?: number;
  /**
   * Largest RTP packet in bytes, the 12-byte header included (UDP and IP
   * headers not), at most 65535: 1400 leaves room for them and a VPN.
   * @default {1400}
   */
  maxPacketSize?: number;
  /** Put small consecutive NAL units (SPS, PPS, SEI) into one STAP-A / AP. @default {true} */
  aggregate?: boolean;
  /** Parameter sets put before keyframes that lack them (RTMP sources send them out of band). */
  parameterSets?: ParameterSets;
}

/**
 * Access units → RTP packets, each one fully encoded in one exact
 * allocation, so the server writes the same bytes to every reader. A NAL
 * unit that fits goes alone (or aggregated with its small neighbours), a
 * bigger one in fragmentation units; the last packet of the access unit
 * has the marker bit.
 */
export class NalPacketizer implements StageCore<Frame, Uint8Array> {
  readonly #format: NalFormat;
  readonly #payloadType: number;
  readonly #clockRate: number;
  readonly #timestampOffset: number;
  readonly #maxPayload: number;
  readonly #aggregate: boolean;
  readonly #sets: ParameterSetStore;
  #sequence: number;
  /** SSRC of the packets. */
  readonly ssrc: number;
  /** Packets sent, for RTCP sender reports. */
  packetCount = 0;
  /** Payload bytes sent (RTP headers not counted), for RTCP sender reports. */
  octetCount = 0;
  /** RTP timestamp of the last frame, for RTCP sender reports; undefined before one. */
  lastTimestamp: number | undefined;

  constructor(format: NalFormat, options: NalPacketizerOptions = {}) {
    this.#format = format;
    this.#payloadType = options.payloadType ?? 96;
    this.ssrc = (options.ssrc ?? randomRtpTimestamp()) >>> 0;
    this.#sequence = (options.sequenceNumber ?? randomRtpTimestamp()) & 0xffff;
    this.#timestampOffset =
      (options.timestampOffset ?? randomRtpTimestamp()) >>> 0;
    this.#clockRate = options.clockRate ?? NAL_RTP_CLOCK_RATE;
    const maxPacketSize = options.maxPacketSize ?? 1400;
    // Room for the header, an FU header and one byte of data.
    if (
      !Number.isInteger(maxPacketSize) ||
      maxPacketSize < RTP_HEADER_SIZE + 2 * format.headerSize + 2 ||
      maxPacketSize > 0xffff
    ) {
      throw new RangeError(
        `Cannot create ${format.name} packetizer: maxPacketSize "${maxPacketSize}" is too small`,
      );
    }
    if (
      !Number.isInteger(this.#payloadType) || this.#payloadType < 0 ||
      this.#payloadType > 127
    ) {
      throw new RangeError(
        `Cannot create ${format.name} packetizer: payloadType "${this.#payloadType}" is not 0 to 127`,
      );
    }
    this.#maxPayload = maxPacketSize - RTP_HEADER_SIZE;
    this.#aggregate = options.aggregate ?? true;
    this.#sets = new ParameterSetStore(format, options.parameterSets);
  }

  /** Sequence number of the next packet. */
  get sequenceNumber(): number {
    return this.#sequence;
  }

  /** The RTP timestamp of a pts in the frames' clock. */
  timestampOf(pts: number): number {
    return (rescale(pts, this.#clockRate, NAL_RTP_CLOCK_RATE) +
      this.#timestampOffset) >>> 0;
  }

  push(frame: Frame, out: Sink<Uint8Array>): void {
    const f = this.#format;
    this.#sets.observe(frame.units);
    const units =
      (frame.keyframe ? this.#sets.complete(frame.units) : frame.units).filter((
        u,
      ) => u.length > 0);
    if (units.length === 0) return;
    const timestamp = this.timestampOf(frame.pts);
    this.lastTimestamp = timestamp;
    const packets: Uint8Array[] = [];
    const max = this.#maxPayload;
    for (let i = 0; i < units.length;) {
      const nal = units[i]!;
      if (this.#aggregate) {
        // As many following units as fit with their 2-byte sizes after the payload header.
        let size = f.headerSize + 2 + nal.length;
        let j = i + 1;
        while (j < units.length && size + 2 + units[j]!.length <= max) {
          size += 2 + units[j++]!.length;
        }
        if (j - i >= 2) {
          const p = this.#packet(size, timestamp);
          f.aggregationHeader(units, i, j, p, RTP_HEADER_SIZE);
          let pos = RTP_HEADER_SIZE + f.headerSize;
          for (let k = i; k < j; k++) {
            const u = units[k]!;
            p[pos] = u.length >> 8;
            p[pos + 1] = u.length & 0xff;
            p.set(u, pos + 2);
            pos += 2 + u.length;
          }
          packets.push(p);
          i = j;
          continue;
        }
      }
      if (nal.length <= max) {
        const p = this.#packet(nal.length, timestamp);
        p.set(nal, RTP_HEADER_SIZE);
        packets.push(p);
      } else {
        this.#fragments(nal, timestamp, packets);
      }
      i++;
    }
    const last = packets[packets.length - 1]!;
    last[1] = last[1]! | 0x80; // marker: the last packet of the access unit
    for (const p of packets) out.enqueue(p);
  }

  #fragments(nal: Uint8Array, timestamp: number, packets: Uint8Array[]): void {
    const f = this.#format;
    const overhead = f.headerSize + 1;
    const room = this.#maxPayload - overhead;
    const type = f.type(nal) & f.fragmentTypeMask;
    for (let pos = f.headerSize; pos < nal.length; pos += room) {
      const piece = nal.subarray(pos, Math.min(nal.length, pos + room));
      const p = this.#packet(overhead + piece.length, timestamp);
      f.fragmentHeader(nal, p, RTP_HEADER_SIZE);
      const start = pos === f.headerSize ? FU_START : 0;
      const end = pos + piece.length === nal.length ? FU_END : 0;
      p[RTP_HEADER_SIZE + f.headerSize] = start | end | type;
      p.set(piece, RTP_HEADER_SIZE + overhead);
      packets.push(p);
    }
  }

  /** A packet of `payloadSize` bytes after its header, the header written (marker clear). */
  #packet(payloadSize: number, timestamp: number): Uint8Array<ArrayBuffer> {
    const p = new Uint8Array(RTP_HEADER_SIZE + payloadSize);
    writeRtpHeader(p, 0, {
      marker: false,
      payloadType: this.#payloadType,
      sequenceNumber: this.#sequence,
      timestamp,
      ssrc: this.ssrc,
    });
    this.#sequence = (this.#sequence + 1) & 0xffff;
    this.packetCount++;
    this.octetCount += payloadSize;
    return p;
  }
}

/** Decodes comma-separated base64 parameter sets (`sprop-…`), splitting any with Annex-B start codes. */
export function decodeSpropList(value: string, what: string): Uint8Array[] {
  const units: Uint8Array[] = [];
  for (const item of value.split(",")) {
    const text = item.trim();
    if (text === "") continue;
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    } catch (cause) {
      throw new ProtocolError(`Cannot parse ${what} "${text}": not base64`, {
        protocol: "rtp",
        code: "malformed",
        cause,
      });
    }
    // Some cameras put start codes in front of (or between) the sets.
    for (const u of splitAnnexB(bytes)) units.push(u);
  }
  return units;
}

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
