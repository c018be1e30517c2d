/**
 * The Opus identification header "OpusHead", RFC 7845 §5.1: what Enhanced
 * RTMP's 'Opus' SequenceStart carries.
 *
 * ```
 * "OpusHead" (64) | version (8) = 1 | channel count (8) | pre-skip (16, LE)
 * input sample rate (32, LE) | output gain (16, LE, signed) | mapping family (8)
 * [family != 0: stream count (8) | coupled count (8) | channel mapping (8 × channels)]
 * ```
 *
 * @module
 */

import { codecError } from "../_error.ts";

/** Opus always runs at 48 kHz (RFC 7587 §4.1). */
export const OPUS_CLOCK_RATE = 48000;

/** What {@link parseOpusHead} reads. */
export interface OpusHead {
  channels: number;
  preSkip: number;
  /** The encoder's input rate, informational only. */
  inputSampleRate: number;
  outputGain: number;
  mappingFamily: number;
}

const MAGIC = [0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64]; // "OpusHead"

/** Parses an OpusHead packet. */
export function parseOpusHead(data: Uint8Array): OpusHead {
  if (data.length < 19) {
    throw fail("truncated", `${data.length} bytes of at least 19`);
  }
  for (let i = 0; i < 8; i++) {
    if (data[i] !== MAGIC[i]) throw fail("malformed", 'no "OpusHead" magic');
  }
  const version = data[8]!;
  if (version >> 4 !== 0) throw fail("unsupported", `version ${version}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const channels = data[9]!;
  if (channels === 0) throw fail("malformed", "0 channels");
  const mappingFamily = data[18]!;
  // §5.1.1.1: family 0 is mono or stereo, with no mapping table to say more
  if (mappingFamily === 0 && channels > 2) {
    throw fail("malformed", `${channels} channels with mapping family 0`);
  }
  if (mappingFamily !== 0 && data.length < 21 + channels) {
    throw fail("truncated", "channel mapping table cut short");
  }
  return {
    channels,
    preSkip: view.getUint16(10, true),
    inputSampleRate: view.getUint32(12, true),
    outputGain: view.getInt16(16, true),
    mappingFamily,
  };
}

/** Builds the 19-byte OpusHead of a mono or stereo stream (mapping family 0). */
export function buildOpusHead(
  channels: number,
  preSkip = 0,
): Uint8Array<ArrayBuffer> {
  if (channels !== 1 && channels !== 2) {
    throw fail(
      "unsupported",
      `${channels} channels with mapping family 0`,
      "build",
    );
  }
  const out = new Uint8Array(19);
  out.set(MAGIC);
  const view = new DataView(out.buffer);
  out[8] = 1;
  out[9] = channels;
  view.setUint16(10, preSkip, true);
  view.setUint32(12, OPUS_CLOCK_RATE, true);
  return out;
}

/** Channels of an Opus packet from the stereo flag of its TOC byte (RFC 6716 §3.1). */
export function opusPacketChannels(packet: Uint8Array): number {
  return ((packet[0] ?? 0) & 0x04) !== 0 ? 2 : 1;
}

function fail(
  code: "truncated" | "malformed" | "unsupported",
  detail: string,
  action = "parse",
) {
  return codecError(`${action} OpusHead`, code, detail);
}
