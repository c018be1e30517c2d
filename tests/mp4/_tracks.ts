/** Tracks of the MP4 tests, with parameter sets and records from the real encodes of tests/testdata/codec/. */
import { splitAnnexB } from "../../lib/codec/nal_units.ts";
import { h264NalType } from "../../lib/codec/h264/nal.ts";
import { h265NalType } from "../../lib/codec/h265/nal.ts";
import type { AudioTrack, Frame, VideoTrack } from "../../lib/media/mod.ts";
import { testdata } from "../flv/_util.ts";

/** The payload of the first `type` box found anywhere in an MP4 file (a byte search, as the codec tests do). */
export function boxPayload(file: Uint8Array, type: string): Uint8Array {
  const t = new TextEncoder().encode(type);
  for (let i = 4; i + 4 <= file.length; i++) {
    if (t.every((b, j) => file[i + j] === b)) {
      const size = new DataView(file.buffer, file.byteOffset).getUint32(i - 4);
      return file.slice(i + 4, i - 4 + size);
    }
  }
  throw new Error(`no ${type} box`);
}

/** An H.264 track from an Annex B file: its SPS and PPS. */
export function h264Track(file = "h264_1920x1080.h264", id = 0): VideoTrack {
  const units = splitAnnexB(testdata(`codec/${file}`));
  return {
    kind: "video",
    id,
    codec: "H264",
    clockRate: 90000,
    parameterSets: {
      sps: units.filter((u) => h264NalType(u) === 7),
      pps: units.filter((u) => h264NalType(u) === 8),
    },
  };
}

/** The H.265 track of h265_352x288.h265 and its NAL units. */
export function h265Track(id = 0): { track: VideoTrack; units: Uint8Array[] } {
  const units = splitAnnexB(testdata("codec/h265_352x288.h265"));
  const of = (t: number) => units.filter((u) => h265NalType(u) === t);
  return {
    track: {
      kind: "video",
      id,
      codec: "H265",
      clockRate: 90000,
      parameterSets: {
        vps: of(32).slice(0, 1),
        sps: of(33).slice(0, 1),
        pps: of(34).slice(0, 1),
      },
    },
    units,
  };
}

/** The AV1 track of av1_320x240.mp4 (its av1C). */
export function av1Track(id = 0): VideoTrack {
  return {
    kind: "video",
    id,
    codec: "AV1",
    clockRate: 90000,
    record: boxPayload(testdata("codec/av1_320x240.mp4"), "av1C"),
  };
}

/** The VP9 track of vp9_320x240.mp4 (its vpcC with the FullBox header, as MP4 has it). */
export function vp9Track(
  id = 0,
  size = { width: 320, height: 240 },
): VideoTrack {
  const payload = boxPayload(testdata("codec/vp9_320x240.mp4"), "vpcC");
  return {
    kind: "video",
    id,
    codec: "VP9",
    clockRate: 90000,
    record: payload,
    ...size,
  };
}

/** AAC LC 48 kHz stereo. */
export function aacTrack(id = 1): AudioTrack {
  return {
    kind: "audio",
    id,
    codec: "AAC",
    clockRate: 48000,
    sampleRate: 48000,
    channels: 2,
    config: new Uint8Array([0x11, 0x90]),
  };
}

/** An audio track of `codec` without configuration. */
export function rawAudioTrack(
  codec: "MP3" | "OPUS" | "PCMA" | "PCMU",
  id = 1,
): AudioTrack {
  const rate = codec === "OPUS" ? 48000 : codec === "MP3" ? 44100 : 8000;
  return {
    kind: "audio",
    id,
    codec,
    clockRate: rate,
    sampleRate: rate,
    channels: codec === "OPUS" || codec === "MP3" ? 2 : 1,
  };
}

/** A frame of `size` bytes in one unit (two for NAL codecs). */
export function frame(
  trackId: number,
  dts: number,
  options: { pts?: number; keyframe?: boolean; size?: number; nal?: boolean } =
    {},
): Frame {
  const size = options.size ?? 100;
  const data = new Uint8Array(size).map((_, i) => (i * 7 + dts) & 0xff);
  return {
    trackId,
    dts,
    pts: options.pts ?? dts,
    keyframe: options.keyframe ?? true,
    units: options.nal ? [data.subarray(0, 10), data.subarray(10)] : [data],
  };
}
