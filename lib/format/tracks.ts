/**
 * Tracks of the media model to and from SDP media descriptions, and the RTP
 * payload format (packetizer or depacketizer) each one needs. Each codec
 * family lives in its own file (`h264.ts`, `h265.ts`, `aac.ts`, `opus.ts`,
 * `g711.ts`) with the same shape; this file picks the one a track or an
 * rtpmap asks for.
 *
 * @module
 */

import type { ParameterSets, Track, VideoTrack } from "../media/track.ts";
import { fmtpOf } from "../sdp/parse.ts";
import type { Sdp, SdpMedia } from "../sdp/types.ts";
import type {
  AudioFormat,
  CodecFormat,
  MediaParts,
  Rtpmap,
  SdpTrack,
  TrackPacketizer,
  VideoFormat,
} from "./_codec_format.ts";
import { AAC_FORMAT } from "./aac.ts";
import { G711_FORMAT } from "./g711.ts";
import { H264_FORMAT } from "./h264.ts";
import { H265_FORMAT } from "./h265.ts";
import { OPUS_FORMAT } from "./opus.ts";

export type { SdpTrack, TrackPacketizer } from "./_codec_format.ts";

/** First dynamic payload type (RFC 3551 §3). */
const DYNAMIC_PAYLOAD_TYPE = 96;

/** The video formats by the codecs {@link videoTrack} takes. */
const NAL_FORMATS: Readonly<Record<"H264" | "H265", VideoFormat>> = {
  H264: H264_FORMAT,
  H265: H265_FORMAT,
};
const VIDEO_FORMATS: readonly VideoFormat[] = Object.values(NAL_FORMATS);
const AUDIO_FORMATS: readonly AudioFormat[] = [
  AAC_FORMAT,
  OPUS_FORMAT,
  G711_FORMAT,
];
/** Every format, for reading an rtpmap of any media type. */
const FORMATS: readonly (VideoFormat | AudioFormat)[] = [
  ...VIDEO_FORMATS,
  ...AUDIO_FORMATS,
];

/** A track as Sluice describes it in SDP, with the payload type it sends with. */
export interface TrackFormat {
  track: Track;
  payloadType: number;
  /** `trackID=<n>`, relative to the Content-Base. */
  control: string;
  media: SdpMedia;
}

/**
 * The SDP media description of each track Sluice can send over RTP;
 * tracks of codecs RTP cannot carry here (MP3, AV1, VP9) are left out.
 */
export function describeTracks(tracks: readonly Track[]): TrackFormat[] {
  const out: TrackFormat[] = [];
  for (const track of tracks) {
    const control = `trackID=${track.id}`;
    const pt = staticPayloadType(track) ?? DYNAMIC_PAYLOAD_TYPE + out.length;
    const described = describe(track);
    if (described === undefined) continue;
    const media: SdpMedia = {
      type: track.kind,
      port: 0,
      protocol: "RTP/AVP",
      formats: [String(pt)],
      bandwidths: [],
      rtpmap: new Map([[pt, described.rtpmap]]),
      fmtp: described.fmtp === undefined
        ? new Map()
        : new Map([[pt, fmtpOf(described.fmtp)]]),
      control,
      attributes: [],
      other: [],
    };
    out.push({ track, payloadType: pt, control, media });
  }
  return out;
}

function staticPayloadType(track: Track): number | undefined {
  if (track.kind === "video") return undefined;
  return formatOf(AUDIO_FORMATS, track.codec)?.staticPayloadType?.(track);
}

function describe(track: Track): MediaParts | undefined {
  return track.kind === "video"
    ? formatOf(VIDEO_FORMATS, track.codec)?.describe(track)
    : formatOf(AUDIO_FORMATS, track.codec)?.describe(track);
}

/** The SDP of a live session with these tracks (DESCRIBE answers, ANNOUNCE bodies). */
export function describeSession(formats: readonly TrackFormat[]): Sdp {
  return {
    version: 0,
    origin: {
      username: "-",
      sessionId: String(Date.now()),
      sessionVersion: "1",
      netType: "IN",
      addrType: "IP4",
      address: "127.0.0.1",
    },
    sessionName: "Sluice",
    connection: { netType: "IN", addrType: "IP4", address: "0.0.0.0" },
    bandwidths: [],
    timing: [{ start: "0", stop: "0", repeats: [] }],
    control: "*",
    range: "npt=now-",
    attributes: [{ name: "tool", value: "Sluice" }],
    media: formats.map((f) => f.media),
    other: [],
  };
}

/** Options of {@link createPacketizer}. */
export interface PacketizerOptions {
  payloadType: number;
  /** RTP packet size limit, header included. @default {1400} */
  maxPacketSize?: number;
  /**
   * Go on from another packetizer (SSRC, next sequence number, timestamp
   * offset), so a new one after a codec parameter change is the same RTP
   * stream to its receivers. @default {a fresh random start}
   */
  continueFrom?: TrackPacketizer;
  /** Bytes free in front of each packet, for a framing written there. @default {0} */
  headroom?: number;
}

/**
 * The packetizer for `track` (one of {@link describeTracks}'s); a RangeError
 * for a codec RTP cannot carry here.
 */
export function createPacketizer(
  track: Track,
  options: PacketizerOptions,
): TrackPacketizer {
  const from = options.continueFrom;
  const base = {
    payloadType: options.payloadType,
    maxPacketSize: options.maxPacketSize ?? 1400,
    headroom: options.headroom ?? 0,
    ...(from === undefined ? {} : {
      ssrc: from.ssrc,
      sequenceNumber: from.sequenceNumber,
      timestampOffset: from.rtpTimestamp(0),
    }),
  };
  const p = track.kind === "video"
    ? formatOf(VIDEO_FORMATS, track.codec)?.packetizer(track, base)
    : formatOf(AUDIO_FORMATS, track.codec)?.packetizer(track, base);
  if (p === undefined) {
    throw new RangeError(
      `Cannot packetize ${track.codec}: no RTP payload format`,
    );
  }
  return p;
}

/**
 * The tracks of an SDP's media descriptions that Sluice understands, with
 * ids in media order; others are left out (their SETUP still succeeds and
 * their packets are dropped).
 */
export function tracksFromSdp(
  media: readonly SdpMedia[],
): (SdpTrack | undefined)[] {
  return media.map((m, id) => trackFromMedia(m, id));
}

function trackFromMedia(m: SdpMedia, id: number): SdpTrack | undefined {
  for (const format of m.formats) {
    const pt = Number(format);
    if (!Number.isInteger(pt)) continue;
    const rtpmap = m.rtpmap.get(pt) ?? staticRtpmap(pt);
    if (rtpmap === undefined) continue;
    const params = m.fmtp.get(pt)?.params ?? {};
    const encoding = rtpmap.encoding.toUpperCase();
    const reader = FORMATS.find((f) => f.encodings.includes(encoding));
    if (reader === undefined) continue;
    const found = reader.read(
      { encoding, clockRate: rtpmap.clockRate, channels: rtpmap.channels },
      params,
      id,
    );
    return { ...found, media: m, payloadType: pt };
  }
  return undefined;
}

/** The rtpmap of a static payload type that comes without one (RFC 3551 Table 4). */
function staticRtpmap(pt: number): Rtpmap | undefined {
  for (const format of AUDIO_FORMATS) {
    const rtpmap = format.staticRtpmap?.(pt);
    if (rtpmap !== undefined) return rtpmap;
  }
  return undefined;
}

/** A video track with size and record from its parameter sets, when they are known. */
export function videoTrack(
  codec: "H264" | "H265",
  id: number,
  sets: ParameterSets | undefined,
): VideoTrack {
  return NAL_FORMATS[codec].videoTrack(id, sets);
}

/** The format of `formats` that describes `codec`. */
function formatOf<T extends Track>(
  formats: readonly CodecFormat<T>[],
  codec: T["codec"],
): CodecFormat<T> | undefined {
  return formats.find((f) => f.codecs.includes(codec));
}
