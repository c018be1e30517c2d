/**
 * Audio sample entries (ISO/IEC 14496-12 §12.2.3): `mp4a`+`esds` for AAC
 * (objectTypeIndication 0x40) and MP3 (0x6B), `Opus`+`dOps` (Opus in
 * ISOBMFF §4.3) and G.711 as QuickTime's `ulaw`/`alaw`.
 *
 * G.711 choice: `ulaw` and `alaw` are the QuickTime sound sample
 * descriptions that ffmpeg, GStreamer's qtdemux, VLC and QuickTime read, in
 * the version-0 layout that ISO's AudioSampleEntry shares; each Sluice frame
 * (a run of 8-bit samples) is one MP4 sample whose duration is its byte count
 * per channel. Browsers play neither, so HLS leaves G.711 out.
 *
 * @module
 */

import { ByteWriter } from "../binary.ts";
import type { AudioTrack } from "../media/track.ts";
import { parseOpusHead } from "../codec/opus/head.ts";
import { box, fields, fullBox } from "./box.ts";
import { mp4Error } from "./_error.ts";

/** objectTypeIndication values (ISO/IEC 14496-1 §7.2.6.6.2, MP4 registration authority). */
export const OBJECT_TYPE = {
  /** ISO/IEC 14496-3 audio (AAC). */
  AAC: 0x40,
  /** ISO/IEC 11172-3 audio (MPEG-1 layer III); ffmpeg and Chrome also read MPEG-2 half rates under it. */
  MP3: 0x6b,
} as const;

/** streamType 5 (audio), upStream 0, reserved 1: (5 << 2) | 1. */
const AUDIO_STREAM_TYPE = 0x15;
/** Descriptor tags, ISO/IEC 14496-1 §7.2.2.1. */
const ES_DESCR_TAG = 0x03;
const DECODER_CONFIG_DESCR_TAG = 0x04;
const DEC_SPECIFIC_INFO_TAG = 0x05;
const SL_CONFIG_DESCR_TAG = 0x06;

/** The audio sample entry of `track`. */
export function audioSampleEntry(track: AudioTrack): Uint8Array<ArrayBuffer> {
  switch (track.codec) {
    case "AAC": {
      if (track.config === undefined || track.config.length === 0) {
        throw mp4Error(
          "write mp4a",
          "unsupported",
          "AAC track without AudioSpecificConfig",
        );
      }
      return box(
        "mp4a",
        audioFields(track, 16),
        esds(OBJECT_TYPE.AAC, track.config),
      );
    }
    case "MP3":
      return box("mp4a", audioFields(track, 16), esds(OBJECT_TYPE.MP3));
    case "OPUS":
      return box("Opus", audioFields(track, 16, 48000), dops(track));
    case "PCMU":
      return box("ulaw", audioFields(track, 16));
    case "PCMA":
      return box("alaw", audioFields(track, 16));
  }
}

/** The 28 bytes of an AudioSampleEntry (version 0) before its boxes (§12.2.3.2). */
function audioFields(
  track: AudioTrack,
  sampleSize: number,
  rate = track.sampleRate,
): Uint8Array<ArrayBuffer> {
  return fields(28, (w) => {
    w.u32(0).u16(0).u16(1); // reserved (6), data_reference_index 1
    w.u32(0).u32(0); // reserved (8): version, revision, vendor in QuickTime
    w.u16(track.channels).u16(sampleSize);
    w.u16(0).u16(0); // pre_defined (compression_id), reserved (packet_size)
    // 16.16 fixed point; rates above 65535 Hz do not fit and read from mdhd.
    w.u32(rate <= 0xffff ? rate * 0x10000 : 0);
  });
}

/**
 * `esds` (ISO/IEC 14496-14 §5.6): an ES_Descriptor holding a
 * DecoderConfigDescriptor (with the DecoderSpecificInfo, the
 * AudioSpecificConfig, for AAC) and an SLConfigDescriptor.
 */
export function esds(
  objectType: number,
  specificInfo?: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const dsi = specificInfo === undefined
    ? new Uint8Array(0)
    : descriptor(DEC_SPECIFIC_INFO_TAG, specificInfo);
  const decoderConfig = descriptor(
    DECODER_CONFIG_DESCR_TAG,
    fields(13, (w) => {
      w.u8(objectType).u8(AUDIO_STREAM_TYPE);
      w.u24(0); // bufferSizeDB: unknown
      w.u32(0).u32(0); // maxBitrate, avgBitrate: unknown
    }),
    dsi,
  );
  const sl = descriptor(SL_CONFIG_DESCR_TAG, new Uint8Array([0x02])); // predefined 2: MP4 files
  const es = descriptor(
    ES_DESCR_TAG,
    new Uint8Array([0, 0, 0]), // ES_ID 0, no dependency, URL or OCR stream
    decoderConfig,
    sl,
  );
  return fullBox("esds", 0, 0, es);
}

/**
 * A descriptor: tag, then the size of its body in the expandable class
 * encoding (ISO/IEC 14496-1 §8.3.3: 7 bits a byte, high bit "more"), then the
 * body. Sizes use the fewest bytes.
 */
function descriptor(
  tag: number,
  ...body: Uint8Array[]
): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const b of body) size += b.length;
  const lengthBytes = size < 0x80
    ? 1
    : size < 0x4000
    ? 2
    : size < 0x200000
    ? 3
    : 4;
  const w = new ByteWriter(1 + lengthBytes + size);
  w.u8(tag);
  for (let i = lengthBytes - 1; i >= 0; i--) {
    w.u8(((size >>> (7 * i)) & 0x7f) | (i > 0 ? 0x80 : 0));
  }
  for (const b of body) w.write(b);
  return w.bytes;
}

/**
 * `dOps` (Encapsulation of Opus in ISOBMFF §4.3.2): the OpusHead fields,
 * big-endian, version 0. From the track's OpusHead when it has one, else
 * mono/stereo with mapping family 0, no pre-skip and no gain.
 */
export function dops(track: AudioTrack): Uint8Array<ArrayBuffer> {
  let head = {
    channels: track.channels,
    preSkip: 0,
    inputSampleRate: 48000,
    outputGain: 0,
    mappingFamily: 0,
  };
  let mapping: Uint8Array = new Uint8Array(0);
  if (track.config !== undefined && track.config.length >= 19) {
    head = parseOpusHead(track.config);
    if (head.mappingFamily !== 0) {
      mapping = track.config.subarray(19, 21 + head.channels); // stream count, coupled count, table
    }
  } else if (track.channels > 2) {
    throw mp4Error(
      "write dOps",
      "unsupported",
      `${track.channels} channels without an OpusHead`,
    );
  }
  return box(
    "dOps",
    fields(11, (w) => {
      w.u8(0).u8(head.channels).u16(head.preSkip).u32(head.inputSampleRate);
      w.u16(head.outputGain & 0xffff).u8(head.mappingFamily);
    }),
    mapping,
  );
}
