/**
 * RTP packets of an `mpeg4-generic` AAC stream → AAC frames (RFC 3640):
 * the AU-header section, the auxiliary section, several whole AUs or one
 * fragment of one AU per packet. Private to `rtp/`; `aac.ts` exports it.
 *
 * @module
 */

import { concat } from "@std/bytes";
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import type { Frame } from "../media/mod.ts";
import { isAdts, splitAdts } from "../codec/aac/adts.ts";
import { follows, rtpError, type RtpPayloadPacket } from "./_audio.ts";
import { RtpTimestampUnwrapper } from "./timing.ts";
import {
  type AacFmtp,
  HBR_INDEX_LENGTH,
  HBR_SIZE_LENGTH,
} from "./_aac_fmtp.ts";

/** Samples per AAC frame unless the config says 960. */
const AAC_FRAME_SAMPLES = 1024;
/** Default bound of one AU, well above the 6144 bits per channel AAC allows. */
const DEFAULT_MAX_AU_SIZE = 1 << 16;

/** Options of {@link AacDepacketizer}: the {@link AacFmtp} fields, the clock and the track. */
export interface AacDepacketizerOptions extends Partial<AacFmtp> {
  /** `Frame.trackId` of the frames. @default {0} */
  trackId?: number;
  /** RTP clock rate (rtpmap), also the frames' clock. @default the config's sample rate, else 48000 */
  clockRate?: number;
  /** Largest AU accepted, in bytes. @default {65536} */
  maxFrameSize?: number;
}

interface AuHeader {
  size: number;
  /** AU index relative to the first AU of the packet. */
  index: number;
  ctsDelta?: number;
  dtsDelta?: number;
}

interface Fragment {
  timestamp: number;
  header: AuHeader;
  parts: Uint8Array[];
  have: number;
}

/**
 * RTP packets of an `mpeg4-generic` AAC stream → AAC frames (raw AUs, one
 * per frame) on the RTP clock, dts unwrapped across 2^32. Fragments are
 * joined; a fragmented AU with a gap in sequence numbers is dropped and
 * counted. AUs that arrive ADTS-wrapped, or payloads of bare ADTS frames,
 * are unwrapped (INTEROP.md).
 *
 * @example Two AUs in one AAC-hbr packet (RFC 3640 §3.3.6)
 * ```ts
 * import assert from "node:assert/strict";
 * import { AacDepacketizer, parseAacFmtp } from "./aac.ts";
 * import type { Frame } from "../media/mod.ts";
 *
 * const fmtp = parseAacFmtp({ mode: "AAC-hbr", sizelength: "13", indexlength: "3", indexdeltalength: "3", config: "1210" });
 * const d = new AacDepacketizer({ ...fmtp, clockRate: 44100 });
 * const frames: Frame[] = [];
 * // AU-headers-length 32 bits | AU-size 2, index 0 | AU-size 1, delta 0 | the AUs
 * const payload = new Uint8Array([0x00, 0x20, 0x00, 0x10, 0x00, 0x08, 0x21, 0x10, 0x21]);
 * d.push({ sequenceNumber: 1, timestamp: 5000, marker: true, payload }, { enqueue: (f) => frames.push(f) });
 * assert.deepEqual(frames.map((f) => [f.dts, f.units[0]!.length]), [[5000, 2], [6024, 1]]);
 * ```
 */
export class AacDepacketizer implements StageCore<RtpPayloadPacket, Frame> {
  readonly #trackId: number;
  readonly #sizeLength: number;
  readonly #indexLength: number;
  readonly #indexDeltaLength: number;
  readonly #ctsDeltaLength: number;
  readonly #dtsDeltaLength: number;
  readonly #rapLength: number;
  readonly #streamStateLength: number;
  readonly #auxLength: number;
  readonly #auDuration: number;
  readonly #maxFrameSize: number;
  readonly #unwrapper: RtpTimestampUnwrapper;
  #fragment: Fragment | undefined;
  #lastSequence: number | undefined;
  #dropped = 0;

  constructor(options: AacDepacketizerOptions = {}) {
    this.#trackId = options.trackId ?? 0;
    this.#sizeLength = options.sizeLength ?? HBR_SIZE_LENGTH;
    this.#indexLength = options.indexLength ?? HBR_INDEX_LENGTH;
    this.#indexDeltaLength = options.indexDeltaLength ?? HBR_INDEX_LENGTH;
    this.#ctsDeltaLength = options.ctsDeltaLength ?? 0;
    this.#dtsDeltaLength = options.dtsDeltaLength ?? 0;
    this.#rapLength = options.randomAccessIndication ? 1 : 0;
    this.#streamStateLength = options.streamStateIndication ?? 0;
    this.#auxLength = options.auxiliaryDataSizeLength ?? 0;
    for (
      const n of [this.#sizeLength, this.#indexLength, this.#indexDeltaLength]
    ) {
      if (!(Number.isInteger(n) && n >= 0 && n <= 32)) {
        throw new RangeError(
          `Cannot depacketize AAC: AU-header field of ${n} bits`,
        );
      }
    }
    const clockRate = options.clockRate ?? options.sampleRate ?? 48000;
    const frameLength = options.frameLength ?? AAC_FRAME_SAMPLES;
    const core = options.coreSampleRate ?? clockRate;
    this.#auDuration = options.constantDuration ??
      Math.round((frameLength * clockRate) / core);
    this.#maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_AU_SIZE;
    this.#unwrapper = new RtpTimestampUnwrapper(clockRate);
  }

  /** AUs dropped: fragments with a gap, or cut short. */
  get droppedFrames(): number {
    return this.#dropped;
  }

  push(packet: RtpPayloadPacket, out: Sink<Frame>): void {
    const contiguous = follows(this.#lastSequence, packet.sequenceNumber);
    this.#lastSequence = packet.sequenceNumber;
    const base = this.#unwrapper.ticks(packet.timestamp);
    const p = packet.payload;
    if (p.length === 0) return;
    let pos = 0;
    let headers: AuHeader[];
    if (this.#headerBitsPresent()) {
      if (p.length < 2) {
        throw fail("truncated", "no room for AU-headers-length");
      }
      const bits = (p[0]! << 8) | p[1]!;
      pos = 2 + Math.ceil(bits / 8);
      if (pos > p.length) {
        // A syncword read as AU-headers-length is 65,520+ bits: no packet
        // holds that many headers, but a payload of bare ADTS frames starts
        // so (INTEROP.md: AAC wrapped in ADTS).
        const units = isAdts(p) ? unwrapAdts(p) : undefined;
        if (units !== undefined) {
          if (this.#fragment) this.#dropFragment();
          units.forEach((unit, i) => {
            this.#emit(base, { size: unit.length, index: i }, unit, out);
          });
          return;
        }
        throw fail(
          "truncated",
          `AU headers of ${bits} bits in ${p.length} bytes`,
        );
      }
      headers = this.#readHeaders(p.subarray(2, pos), bits);
    } else {
      headers = [{ size: p.length, index: 0 }];
    }
    if (this.#auxLength > 0) pos = skipAuxiliary(p, pos, this.#auxLength);
    const data = p.subarray(pos);
    const first = headers[0];
    if (
      headers.length === 1 && first !== undefined && first.size > data.length
    ) {
      return this.#fragmentPart(packet, contiguous, base, first, data, out);
    }
    if (this.#fragment) this.#dropFragment(); // a new AU while one was unfinished
    let at = 0;
    for (const h of headers) {
      if (at + h.size > data.length) {
        throw fail(
          "truncated",
          `AUs of ${at + h.size} bytes with ${data.length} in the packet`,
        );
      }
      this.#emit(base, h, data.subarray(at, at + h.size), out);
      at += h.size;
    }
  }

  /** Drops an unfinished fragmented AU. */
  end(): void {
    if (this.#fragment) this.#dropFragment();
  }

  #headerBitsPresent(): boolean {
    return this.#sizeLength + this.#indexLength + this.#indexDeltaLength +
        this.#ctsDeltaLength + this.#dtsDeltaLength + this.#rapLength +
        this.#streamStateLength > 0;
  }

  #readHeaders(section: Uint8Array, bits: number): AuHeader[] {
    const r = new HeaderReader(section, bits);
    const headers: AuHeader[] = [];
    let index = 0;
    while (r.left > 0) {
      const size = r.read(this.#sizeLength);
      if (size > this.#maxFrameSize) {
        throw fail("limit", `AU-size ${size} exceeds ${this.#maxFrameSize}`);
      }
      if (headers.length === 0) r.read(this.#indexLength);
      else index += r.read(this.#indexDeltaLength) + 1;
      const h: AuHeader = { size, index };
      if (this.#ctsDeltaLength > 0 && r.read(1)) {
        h.ctsDelta = r.signed(this.#ctsDeltaLength);
      }
      if (this.#dtsDeltaLength > 0 && r.read(1)) {
        h.dtsDelta = r.signed(this.#dtsDeltaLength);
      }
      r.read(this.#rapLength);
      r.read(this.#streamStateLength);
      headers.push(h);
    }
    if (headers.length === 0) throw fail("malformed", "AU-headers-length 0");
    return headers;
  }

  #fragmentPart(
    packet: RtpPayloadPacket,
    contiguous: boolean,
    base: number,
    header: AuHeader,
    data: Uint8Array,
    out: Sink<Frame>,
  ): void {
    let f = this.#fragment;
    if (
      f &&
      (!contiguous || f.timestamp !== packet.timestamp ||
        f.header.size !== header.size)
    ) {
      this.#dropFragment();
      f = undefined;
    }
    if (f === undefined) {
      f = { timestamp: packet.timestamp, header, parts: [], have: 0 };
      this.#fragment = f;
    }
    f.parts.push(data);
    f.have += data.length;
    if (f.have > header.size) {
      this.#dropFragment(); // more bytes than the AU-size: not one AU
    } else if (f.have === header.size) {
      this.#fragment = undefined;
      this.#emit(base, header, concat(f.parts), out);
    } else if (packet.marker) {
      this.#dropFragment(); // the last fragment came and the AU is short
    } else {
      // Fragments are views of their packets: keep copies of what must wait.
      f.parts[f.parts.length - 1] = data.slice();
    }
  }

  #dropFragment(): void {
    this.#fragment = undefined;
    this.#dropped++;
  }

  #emit(base: number, h: AuHeader, au: Uint8Array, out: Sink<Frame>): void {
    if (au.length === 0) return;
    const pts = base + (h.ctsDelta ?? h.index * this.#auDuration);
    const dts = pts - (h.dtsDelta ?? 0);
    // INTEROP.md: some cameras send each AU with its ADTS header.
    const units = isAdts(au) ? unwrapAdts(au) : undefined;
    if (units === undefined) {
      out.enqueue({
        trackId: this.#trackId,
        dts,
        pts,
        keyframe: true,
        units: [au],
      });
      return;
    }
    units.forEach((unit, i) => {
      const step = i * this.#auDuration;
      out.enqueue({
        trackId: this.#trackId,
        dts: dts + step,
        pts: pts + step,
        keyframe: true,
        units: [unit],
      });
    });
  }
}

/** Raw AUs of an AU that is a run of whole ADTS frames, else undefined. */
function unwrapAdts(au: Uint8Array): Uint8Array[] | undefined {
  try {
    return splitAdts(au).map((f) => f.payload);
  } catch {
    return undefined; // a raw AU that happens to start like a syncword
  }
}

/** Skips the Auxiliary Section (RFC 3640 §3.2.2) at `pos`, returning where the AUs start. */
function skipAuxiliary(p: Uint8Array, pos: number, sizeLength: number): number {
  const section = p.subarray(pos);
  const r = new HeaderReader(section, section.length * 8);
  const bits = r.read(sizeLength);
  const end = pos + Math.ceil((sizeLength + bits) / 8);
  if (end > p.length) throw fail("truncated", `auxiliary data of ${bits} bits`);
  return end;
}

/** Reads the AU-header fields, bounded by AU-headers-length. */
class HeaderReader {
  readonly #bytes: Uint8Array;
  #bit = 0;
  left: number;

  constructor(bytes: Uint8Array, bits: number) {
    this.#bytes = bytes;
    this.left = bits;
  }

  read(n: number): number {
    if (n === 0) return 0;
    if (n > this.left) {
      throw fail(
        "malformed",
        `an AU-header field of ${n} bits with ${this.left} left`,
      );
    }
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.#bytes[this.#bit >>> 3]!;
      v = v * 2 + ((byte >>> (7 - (this.#bit & 7))) & 1);
      this.#bit++;
    }
    this.left -= n;
    return v;
  }

  /** A two's complement field (CTS-delta, DTS-delta). */
  signed(n: number): number {
    const v = this.read(n);
    return v >= 2 ** (n - 1) ? v - 2 ** n : v;
  }
}

/** {@link AacDepacketizer} as a `TransformStream`. */
export class AacDepacketizerStream
  extends StageStream<RtpPayloadPacket, Frame> {
  constructor(options?: AacDepacketizerOptions) {
    super(new AacDepacketizer(options));
  }
}

/** A `ProtocolError` of RTP: "Cannot depacketize AAC: <detail>". */
function fail(code: "truncated" | "malformed" | "limit", detail: string) {
  return rtpError("depacketize AAC", code, detail);
}
