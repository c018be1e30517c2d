/**
 * Visual sample entries (ISO/IEC 14496-12 §12.1.3) with their codec
 * configuration boxes: `avc1`+`avcC` and `hvc1`+`hvcC` (ISO/IEC 14496-15
 * §5.4.2, §8.4.1), `av01`+`av1C` (AV1 ISOBMFF binding §2.2) and
 * `vp09`+`vpcC` (VP codec ISOBMFF binding §2.2).
 *
 * The records are rebuilt from the parameter sets rather than copied from
 * the publisher: an avcC always gets the high-profile tail (chroma_format,
 * bit depths, SPS extension count) that some encoders leave out and Safari
 * and Chrome's MSE require, and H.265 is always `hvc1` with VPS, SPS and PPS
 * arrays marked complete (`hev1` does not play in Safari).
 *
 * @module
 */

import { ByteWriter } from "../binary.ts";
import type { VideoTrack } from "../media/track.ts";
import { parseAvcc } from "../codec/h264/avcc.ts";
import { parseSps } from "../codec/h264/sps.ts";
import { buildHvcc, parseHvcc } from "../codec/h265/hvcc.ts";
import { parseH265Sps } from "../codec/h265/sps.ts";
import { parseAv1c } from "../codec/av1/av1c.ts";
import { box, fields, fullBox } from "./box.ts";
import { mp4Error } from "./_error.ts";

/**
 * H.264 profiles whose avcC has no chroma and bit depth tail: Baseline, Main
 * and Extended. ISO/IEC 14496-15 §5.3.3.1.2 (4th edition on) gives the tail
 * to every other profile; the first edition's list (100, 110, 122, 144)
 * missed High 4:4:4 Predictive (244), which ffmpeg writes with the tail.
 */
const AVCC_NO_TAIL_PROFILES = new Set([66, 77, 88]);

/** The visual sample entry of `track`, and its coded size. */
export function videoSampleEntry(
  track: VideoTrack,
): { entry: Uint8Array<ArrayBuffer>; width: number; height: number } {
  switch (track.codec) {
    case "H264":
      return h264Entry(track);
    case "H265":
      return h265Entry(track);
    case "AV1":
      return av1Entry(track);
    case "VP9":
      return vp9Entry(track);
  }
}

/** The 78 bytes of a VisualSampleEntry before its boxes (§12.1.3.2). */
function visualFields(width: number, height: number): Uint8Array<ArrayBuffer> {
  return fields(78, (w) => {
    w.u32(0).u16(0).u16(1); // reserved (6), data_reference_index 1
    w.u16(0).u16(0).u32(0).u32(0).u32(0); // pre_defined, reserved, pre_defined (12)
    w.u16(width).u16(height);
    w.u32(0x00480000).u32(0x00480000); // 72 dpi
    w.u32(0).u16(1); // reserved, frame_count 1
    w.write(new Uint8Array(32)); // compressorname: empty Pascal string
    w.u16(0x0018).u16(0xffff); // depth 24, pre_defined -1
  });
}

function h264Entry(track: VideoTrack) {
  let sps = track.parameterSets?.sps ?? [];
  let pps = track.parameterSets?.pps ?? [];
  if ((sps.length === 0 || pps.length === 0) && track.record !== undefined) {
    const avcc = parseAvcc(track.record);
    sps = avcc.sps;
    pps = avcc.pps;
  }
  const first = sps[0];
  if (first === undefined || pps.length === 0) {
    throw mp4Error(
      "write avc1",
      "unsupported",
      "H.264 track without SPS and PPS",
    );
  }
  const info = parseSps(first);
  const width = track.width ?? info.width;
  const height = track.height ?? info.height;
  return {
    entry: box("avc1", visualFields(width, height), avcc(sps, pps)),
    width,
    height,
  };
}

/**
 * AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) with 4-byte
 * NAL unit lengths and, for the high profiles, the tail read from the SPS.
 */
export function avcc(
  sps: readonly Uint8Array[],
  pps: readonly Uint8Array[],
): Uint8Array<ArrayBuffer> {
  const first = sps[0]!;
  const info = parseSps(first);
  const tail = !AVCC_NO_TAIL_PROFILES.has(info.profileIdc);
  let size = 7 + (tail ? 4 : 0);
  for (const p of [...sps, ...pps]) size += 2 + p.length;
  if (sps.length > 31 || pps.length > 255) {
    throw mp4Error(
      "write avcC",
      "limit",
      `${sps.length} SPS, ${pps.length} PPS`,
    );
  }
  const w = new ByteWriter(size);
  w.u8(1).u8(info.profileIdc).u8(info.constraintFlags).u8(info.levelIdc);
  w.u8(0xff); // '111111'b, lengthSizeMinusOne 3
  w.u8(0xe0 | sps.length);
  for (const s of sps) w.u16(s.length).write(s);
  w.u8(pps.length);
  for (const p of pps) w.u16(p.length).write(p);
  if (tail) {
    w.u8(0xfc | info.chromaFormatIdc);
    w.u8(0xf8 | (info.bitDepthLuma - 8));
    w.u8(0xf8 | (info.bitDepthChroma - 8));
    w.u8(0); // numOfSequenceParameterSetExt
  }
  return box("avcC", w.bytes);
}

function h265Entry(track: VideoTrack) {
  let sets = track.parameterSets;
  if (
    (sets === undefined || sets.sps.length === 0) && track.record !== undefined
  ) {
    const h = parseHvcc(track.record);
    sets = { vps: h.vps, sps: h.sps, pps: h.pps };
  }
  const first = sets?.sps[0];
  if (
    sets === undefined || first === undefined || sets.pps.length === 0 ||
    (sets.vps?.length ?? 0) === 0
  ) {
    throw mp4Error(
      "write hvc1",
      "unsupported",
      "H.265 track without VPS, SPS and PPS",
    );
  }
  const info = parseH265Sps(first);
  const width = track.width ?? info.width;
  const height = track.height ?? info.height;
  // buildHvcc marks every parameter set array complete, as hvc1 requires (§8.4.1.1.2)
  const record = buildHvcc(sets);
  return {
    entry: box("hvc1", visualFields(width, height), box("hvcC", record)),
    width,
    height,
  };
}

function av1Entry(track: VideoTrack) {
  if (track.record === undefined) {
    throw mp4Error("write av01", "unsupported", "AV1 track without av1C");
  }
  const info = parseAv1c(track.record);
  const width = track.width ?? info.width ?? 0;
  const height = track.height ?? info.height ?? 0;
  return {
    entry: box("av01", visualFields(width, height), box("av1C", track.record)),
    width,
    height,
  };
}

function vp9Entry(track: VideoTrack) {
  if (track.record === undefined) {
    throw mp4Error("write vp09", "unsupported", "VP9 track without vpcC");
  }
  const width = track.width ?? 0;
  const height = track.height ?? 0;
  return {
    entry: box("vp09", visualFields(width, height), vpcc(track.record)),
    width,
    height,
  };
}

/**
 * `vpcC` is a FullBox of version 1 (VP binding §2.2); ffmpeg's FLV muxer
 * writes the record without those 4 bytes, the MP4 muxer with them.
 */
function vpcc(record: Uint8Array): Uint8Array<ArrayBuffer> {
  let body = record;
  if (
    record.length >= 12 && record[0] === 1 && record[1] === 0 &&
    record[2] === 0 && record[3] === 0 &&
    12 + ((record[10]! << 8) | record[11]!) <= record.length
  ) body = record.subarray(4);
  if (body.length < 8) {
    throw mp4Error(
      "write vpcC",
      "malformed",
      `record of ${record.length} bytes`,
    );
  }
  return fullBox("vpcC", 1, 0, body);
}
