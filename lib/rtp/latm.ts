/**
 * AAC over RTP as `MP4A-LATM`, RFC 6416 §4.1 and §7.3: AudioMuxElements of
 * ISO/IEC 14496-3 §1.7.3, without LOAS framing.
 *
 * ```
 * RTP payload: AudioMuxElement … (an element may span packets: the marker bit ends it)
 * AudioMuxElement: [useSameStreamMux (1) | StreamMuxConfig when 0]   (cpresent=1 only)
 *   PayloadLengthInfo | PayloadMux   × (numSubFrames + 1)
 *   [otherData (otherDataLenBits)] | byte_alignment
 * PayloadLengthInfo (frameLengthType 0): tmp (8) repeated while tmp is 255; length = the sum
 * ```
 *
 * With `cpresent=0` the StreamMuxConfig is the fmtp `config=`; with
 * `cpresent=1` (the default) it comes in-band. Either way its
 * AudioSpecificConfig is what FLV and MP4 need ({@link parseLatmFmtp}).
 *
 * @module
 */

import { concat } from "@std/bytes";
import { ProtocolError } from "../errors.ts";
import { type Sink, type StageCore, StageStream } from "../stage.ts";
import type { Frame } from "../media/mod.ts";
import {
  copyBits,
  parseStreamMuxConfig,
  readStreamMuxConfig,
  type StreamMuxConfig,
} from "../codec/aac/latm.ts";
import {
  fmtpError,
  follows,
  hexParam,
  intParam,
  lowerKeys,
  rtpError,
  type RtpPayloadPacket,
} from "./_audio.ts";
import { RtpTimestampUnwrapper } from "./timing.ts";

/** Default bound of one AudioMuxElement (all its fragments). */
const DEFAULT_MAX_ELEMENT_SIZE = 1 << 16;

/** The `a=fmtp` parameters of an `MP4A-LATM` stream (RFC 6416 §7.3). */
export interface LatmFmtp {
  /** Whether StreamMuxConfigs come in-band. */
  cpresent: boolean;
  /** The `config=` StreamMuxConfig, parsed. */
  config?: StreamMuxConfig;
  /** By the config: output sample rate (the SBR rate for HE-AAC). */
  sampleRate?: number;
  channels?: number;
}

/** Reads the fmtp parameters of `MP4A-LATM` (names in any case). */
export function parseLatmFmtp(
  params: Readonly<Record<string, string>>,
): LatmFmtp {
  const p = lowerKeys(params);
  const cpresent = intParam(p, "cpresent", 1, 1) === 1;
  const out: LatmFmtp = { cpresent };
  const text = p.get("config");
  if (text !== undefined && text !== "") {
    const config = parseStreamMuxConfig(hexParam("config", text));
    out.config = config;
    out.sampleRate = config.asc.extensionSampleRate ?? config.asc.sampleRate;
    out.channels = config.asc.ps ? 2 : config.asc.channels;
  } else if (!cpresent) {
    throw fmtpError("cpresent=0 without config");
  }
  return out;
}

/** Options of {@link LatmDepacketizer}. */
export interface LatmDepacketizerOptions {
  /** `Frame.trackId` of the frames. @default {0} */
  trackId?: number;
  /** RTP clock rate (rtpmap), also the frames' clock. @default the config's sample rate, else 48000 */
  clockRate?: number;
  /** Whether StreamMuxConfigs come in-band (fmtp `cpresent`). @default {true} */
  cpresent?: boolean;
  /** The out-of-band StreamMuxConfig (fmtp `config=`): needed when `cpresent` is false. */
  config?: StreamMuxConfig;
  /** Largest AudioMuxElement accepted, in bytes. @default {65536} */
  maxElementSize?: number;
}

/**
 * RTP packets of an `MP4A-LATM` stream → AAC frames (one raw AU each) on
 * the RTP clock. Each packet's timestamp is that of its first AU; the next
 * ones follow at one AU duration. An element cut by a sequence gap is
 * dropped and counted; with `cpresent=1`, frames before the first in-band
 * StreamMuxConfig are dropped and counted too.
 *
 * @example ffmpeg's MP4A-LATM (cpresent=0)
 * ```ts
 * import assert from "node:assert/strict";
 * import { LatmDepacketizer, parseLatmFmtp } from "./latm.ts";
 * import type { Frame } from "../media/mod.ts";
 *
 * const fmtp = parseLatmFmtp({ "profile-level-id": "41", cpresent: "0", config: "400024203fc0" });
 * assert.deepEqual([...fmtp.config!.audioSpecificConfig], [0x12, 0x10]); // for FLV's sequence header
 * const d = new LatmDepacketizer({ cpresent: false, config: fmtp.config!, clockRate: 44100 });
 * const frames: Frame[] = [];
 * const payload = new Uint8Array([0x02, 0x21, 0x10]); // PayloadLengthInfo 2, then the AU
 * d.push({ sequenceNumber: 1, timestamp: 0, marker: true, payload }, { enqueue: (f) => frames.push(f) });
 * assert.deepEqual([...frames[0]!.units[0]!], [0x21, 0x10]);
 * ```
 */
export class LatmDepacketizer implements StageCore<RtpPayloadPacket, Frame> {
  readonly #trackId: number;
  readonly #cpresent: boolean;
  readonly #maxElementSize: number;
  readonly #clockRate: number | undefined;
  #unwrapper: RtpTimestampUnwrapper | undefined;
  #config: StreamMuxConfig | undefined;
  #parts: Uint8Array[] = [];
  #have = 0;
  #timestamp = 0;
  #lastSequence: number | undefined;
  /** After a sequence gap, until an element reads cleanly. */
  #resync = false;
  #dropped = 0;

  constructor(options: LatmDepacketizerOptions = {}) {
    this.#trackId = options.trackId ?? 0;
    this.#cpresent = options.cpresent ?? true;
    this.#config = options.config;
    if (!this.#cpresent && this.#config === undefined) {
      throw new RangeError(
        "Cannot depacketize LATM: cpresent=0 needs a config",
      );
    }
    this.#maxElementSize = options.maxElementSize ?? DEFAULT_MAX_ELEMENT_SIZE;
    this.#clockRate = options.clockRate;
  }

  /** The StreamMuxConfig in force: from the fmtp, or the latest in-band one. */
  get config(): StreamMuxConfig | undefined {
    return this.#config;
  }

  /** AUs or elements dropped: gaps, or no StreamMuxConfig yet. */
  get droppedFrames(): number {
    return this.#dropped;
  }

  push(packet: RtpPayloadPacket, out: Sink<Frame>): void {
    const gap = this.#lastSequence !== undefined &&
      !follows(this.#lastSequence, packet.sequenceNumber);
    this.#lastSequence = packet.sequenceNumber;
    if (this.#parts.length > 0) {
      if (gap) this.#drop(); // the rest of the element was lost
      else if (packet.timestamp !== this.#timestamp) {
        // INTEROP.md: senders that never set the marker bit; the new
        // timestamp ends the element.
        this.#tryElements(this.#takeParts(), this.#timestamp, out);
      }
    }
    if (gap) this.#resync = true;
    if (packet.payload.length === 0) return;
    if (this.#have + packet.payload.length > this.#maxElementSize) {
      this.#takeParts();
      throw fail("limit", `AudioMuxElement over ${this.#maxElementSize} bytes`);
    }
    this.#timestamp = packet.timestamp;
    if (!packet.marker) {
      // A fragment: keep a copy, the packet's buffer is not ours to hold.
      this.#parts.push(packet.payload.slice());
      this.#have += packet.payload.length;
      return;
    }
    this.#parts.push(packet.payload);
    const element = this.#takeParts();
    if (this.#resync) {
      this.#resync = !this.#tryElements(element, packet.timestamp, out);
    } else this.#elements(element, packet.timestamp, out);
  }

  /** Drops an element whose last fragment never came. */
  end(): void {
    if (this.#parts.length > 0) this.#drop();
  }

  /** The waiting fragments as one element. */
  #takeParts(): Uint8Array {
    const element = this.#parts.length === 1
      ? this.#parts[0]!
      : concat(this.#parts);
    this.#parts = [];
    this.#have = 0;
    return element;
  }

  /**
   * Reads an element that may not be one: after a sequence gap (the tail of
   * an element whose start was lost) or without a marker bit. If it does not
   * read, it is dropped and counted, not thrown.
   */
  #tryElements(
    element: Uint8Array,
    timestamp: number,
    out: Sink<Frame>,
  ): boolean {
    const frames: Frame[] = [];
    try {
      this.#elements(element, timestamp, {
        enqueue: (f) => void frames.push(f),
      });
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      this.#dropped++;
      return false;
    }
    for (const f of frames) out.enqueue(f);
    return true;
  }

  #drop(): void {
    this.#parts = [];
    this.#have = 0;
    this.#dropped++;
  }

  /** Reads the AudioMuxElements of one payload. */
  #elements(data: Uint8Array, timestamp: number, out: Sink<Frame>): void {
    const r = new PayloadReader(data);
    let index = 0;
    while (r.bitsLeft >= 8) {
      if (this.#cpresent && r.bit() === 0) { // useSameStreamMux
        const read = readStreamMuxConfig(data, r.pos);
        r.pos += read.bitLength;
        this.#config = read.config;
      }
      const config = this.#config;
      if (config === undefined) {
        this.#dropped++; // no StreamMuxConfig yet: nothing says how to read the rest
        return;
      }
      if (!config.allStreamsSameTimeFraming) {
        throw fail("unsupported", "allStreamsSameTimeFraming 0");
      }
      this.#unwrapper ??= new RtpTimestampUnwrapper(
        this.#clockRate ?? this.#rate(config),
      );
      const base = this.#unwrapper.ticks(timestamp);
      const duration = Math.round(
        (config.asc.frameLength * (this.#clockRate ?? this.#rate(config))) /
          config.asc.sampleRate,
      );
      for (let i = 0; i < config.subFrames; i++) {
        let length = 0;
        let tmp: number;
        do {
          tmp = r.byte();
          length += tmp;
        } while (tmp === 255);
        const au = r.take(length);
        const ts = base + index * duration;
        index++;
        if (au.length > 0) {
          out.enqueue({
            trackId: this.#trackId,
            dts: ts,
            pts: ts,
            keyframe: true,
            units: [au],
          });
        }
      }
      r.skip(config.otherDataLenBits);
      r.align();
    }
  }

  #rate(config: StreamMuxConfig): number {
    return config.asc.extensionSampleRate ?? config.asc.sampleRate;
  }
}

/** Reads an AudioMuxElement: bytes where aligned, bits where not (after an in-band config). */
class PayloadReader {
  readonly #data: Uint8Array;
  /** Position in bits. */
  pos = 0;

  constructor(data: Uint8Array) {
    this.#data = data;
  }

  get bitsLeft(): number {
    return this.#data.length * 8 - this.pos;
  }

  bit(): number {
    this.#need(1);
    const v = (this.#data[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return v;
  }

  byte(): number {
    this.#need(8);
    const at = this.pos >>> 3;
    const shift = this.pos & 7;
    this.pos += 8;
    if (shift === 0) return this.#data[at]!;
    return ((this.#data[at]! << shift) |
      (this.#data[at + 1]! >>> (8 - shift))) & 0xff;
  }

  /** The next `n` bytes: a view when aligned, else a copy. */
  take(n: number): Uint8Array {
    this.#need(n * 8);
    const start = this.pos;
    this.pos += n * 8;
    if ((start & 7) === 0) {
      return this.#data.subarray(start >>> 3, (start >>> 3) + n);
    }
    return copyBits(this.#data, start, n * 8);
  }

  skip(bits: number): void {
    this.#need(bits);
    this.pos += bits;
  }

  align(): void {
    this.pos = Math.min(this.#data.length * 8, (this.pos + 7) & ~7);
  }

  #need(bits: number): void {
    if (bits > this.bitsLeft) {
      throw fail(
        "truncated",
        `${bits} bits wanted with ${this.bitsLeft} left in the element`,
      );
    }
  }
}

/** {@link LatmDepacketizer} as a `TransformStream`. */
export class LatmDepacketizerStream
  extends StageStream<RtpPayloadPacket, Frame> {
  constructor(options?: LatmDepacketizerOptions) {
    super(new LatmDepacketizer(options));
  }
}

function fail(
  code: "truncated" | "unsupported" | "limit",
  detail: string,
): ProtocolError {
  return rtpError("depacketize LATM", code, detail);
}
