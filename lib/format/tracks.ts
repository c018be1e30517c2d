/**
 * Tracks of the media model to and from SDP media descriptions, and the RTP
 * payload format (packetizer or depacketizer) each one needs.
 *
 * @module
 */

import { parseSps } from "../codec/h264/sps.ts";
import { parseH265Sps } from "../codec/h265/sps.ts";
import type { Frame } from "../media/frame.ts";
import {
  type AudioTrack,
  type ParameterSets,
  type Track,
  VIDEO_CLOCK_RATE,
  type VideoTrack,
} from "../media/track.ts";
import type { StageCore } from "../stage.ts";
import {
  AacDepacketizer,
  aacFmtp,
  AacPacketizer,
  aacRtpmap,
  parseAacFmtp,
} from "../rtp/aac.ts";
import {
  G711_CLOCK_RATE,
  G711Depacketizer,
  G711Packetizer,
  g711PayloadType,
  g711Rtpmap,
} from "../rtp/g711.ts";
import {
  H264Depacketizer,
  H264Packetizer,
  parseSpropParameterSets,
} from "../rtp/h264.ts";
import {
  H265Depacketizer,
  H265Packetizer,
  parseSpropH265,
} from "../rtp/h265.ts";
import { LatmDepacketizer, parseLatmFmtp } from "../rtp/latm.ts";
import {
  OpusDepacketizer,
  opusFmtp,
  OpusPacketizer,
  opusRtpmap,
  parseOpusFmtp,
} from "../rtp/opus.ts";
import type { RtpPayloadPacket } from "../rtp/packet.ts";
import { fmtpOf } from "../sdp/parse.ts";
import type { Sdp, SdpMedia } from "../sdp/types.ts";

/** First dynamic payload type (RFC 3551 §3). */
const DYNAMIC_PAYLOAD_TYPE = 96;

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
  return track.kind === "audio" ? g711PayloadType(track) : undefined;
}

function describe(
  track: Track,
): {
  rtpmap: { encoding: string; clockRate: number; channels?: number };
  fmtp?: string;
} | undefined {
  if (track.kind === "video") {
    const sets = track.parameterSets;
    if (track.codec === "H264") {
      const params = ["packetization-mode=1"];
      const sps = sets?.sps[0];
      if (sps !== undefined && sps.length >= 4) {
        params.push(`profile-level-id=${hex(sps.subarray(1, 4))}`);
      }
      if (sets !== undefined && sets.sps.length > 0 && sets.pps.length > 0) {
        params.push(
          `sprop-parameter-sets=${
            [...sets.sps, ...sets.pps].map(base64).join(",")
          }`,
        );
      }
      return {
        rtpmap: { encoding: "H264", clockRate: VIDEO_CLOCK_RATE },
        fmtp: params.join(";"),
      };
    }
    if (track.codec === "H265") {
      const params: string[] = [];
      if (sets?.vps?.[0]) params.push(`sprop-vps=${base64(sets.vps[0])}`);
      if (sets?.sps[0]) params.push(`sprop-sps=${base64(sets.sps[0])}`);
      if (sets?.pps[0]) params.push(`sprop-pps=${base64(sets.pps[0])}`);
      return {
        rtpmap: { encoding: "H265", clockRate: VIDEO_CLOCK_RATE },
        fmtp: params.length > 0 ? params.join(";") : undefined,
      };
    }
    return undefined;
  }
  switch (track.codec) {
    case "AAC":
      return { rtpmap: rtpmapOf(aacRtpmap(track)), fmtp: aacFmtp(track) };
    case "OPUS":
      return { rtpmap: rtpmapOf(opusRtpmap()), fmtp: opusFmtp(track) };
    case "PCMA":
    case "PCMU":
      return { rtpmap: rtpmapOf(g711Rtpmap(track)) };
    default:
      return undefined;
  }
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
}

/** A packetizer core with the numbers RTP-Info and Sender Reports need. */
export interface TrackPacketizer extends StageCore<Frame, Uint8Array> {
  readonly ssrc: number;
  /** Sequence number of the next packet. */
  readonly sequenceNumber: number;
  /** RTP timestamp of a presentation time in track ticks. */
  rtpTimestamp(pts: number): number;
}

/** The packetizer for `track` (one of {@link describeTracks}'s). */
export function createPacketizer(
  track: Track,
  options: PacketizerOptions,
): TrackPacketizer {
  const from = options.continueFrom;
  const base = {
    payloadType: options.payloadType,
    maxPacketSize: options.maxPacketSize ?? 1400,
    ...(from === undefined ? {} : {
      ssrc: from.ssrc,
      sequenceNumber: from.sequenceNumber,
      timestampOffset: from.rtpTimestamp(0),
    }),
  };
  if (track.kind === "video") {
    const p = track.codec === "H264"
      ? new H264Packetizer({
        ...base,
        clockRate: track.clockRate,
        parameterSets: track.parameterSets,
      })
      : new H265Packetizer({
        ...base,
        clockRate: track.clockRate,
        parameterSets: track.parameterSets,
      });
    return {
      push: (f, out) => p.push(f, out),
      get ssrc() {
        return p.ssrc;
      },
      get sequenceNumber() {
        return p.sequenceNumber;
      },
      rtpTimestamp: (pts) => p.timestampOf(pts),
    };
  }
  const p = track.codec === "AAC"
    ? new AacPacketizer(track, base)
    : track.codec === "OPUS"
    ? new OpusPacketizer(track, base)
    : new G711Packetizer(track, base);
  return {
    push: (f, out) => p.push(f, out),
    get ssrc() {
      return p.ssrc;
    },
    get sequenceNumber() {
      return p.sequenceNumber;
    },
    rtpTimestamp: (pts) => p.timestamper.timestamp(pts),
  };
}

/** A track read from an SDP media description, with what turns its packets into frames. */
export interface SdpTrack {
  track: Track;
  media: SdpMedia;
  payloadType: number;
  /** Creates the depacketizer; `onParameterSets` hears H.264/H.265 sets found in-band. */
  depacketizer(
    onParameterSets?: (sets: ParameterSets) => void,
  ): StageCore<RtpPayloadPacket, Frame>;
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
    const found = media(
      encoding,
      rtpmap.clockRate,
      rtpmap.channels,
      params,
      id,
    );
    if (found !== undefined) return { ...found, media: m, payloadType: pt };
  }
  return undefined;
}

function media(
  encoding: string,
  clockRate: number,
  channels: number | undefined,
  params: Record<string, string>,
  id: number,
): Omit<SdpTrack, "media" | "payloadType"> | undefined {
  const param = (name: string) => {
    for (const [k, v] of Object.entries(params)) {
      if (k.toLowerCase() === name) return v;
    }
    return undefined;
  };
  if (encoding === "H264" || encoding === "H265") {
    let sets: ParameterSets | undefined;
    try {
      sets = encoding === "H264"
        ? spropOrUndefined(
          param("sprop-parameter-sets"),
          parseSpropParameterSets,
        )
        : spropOrUndefined(
          param("sprop-sps"),
          () =>
            parseSpropH265({
              vps: param("sprop-vps"),
              sps: param("sprop-sps"),
              pps: param("sprop-pps"),
            }),
        );
    } catch {
      sets = undefined; // broken sprop: the sets come in-band (INTEROP.md: cameras)
    }
    const track = videoTrack(encoding, id, sets);
    return {
      track,
      depacketizer: (onParameterSets) => {
        const options = { trackId: id, parameterSets: sets, onParameterSets };
        return encoding === "H264"
          ? new H264Depacketizer(options)
          : new H265Depacketizer(options);
      },
    };
  }
  if (encoding === "MPEG4-GENERIC") {
    const fmtp = parseAacFmtp(params);
    const track = aacTrack(
      id,
      clockRate,
      fmtp.sampleRate,
      fmtp.channels ?? channels,
      fmtp.config,
    );
    return {
      track,
      depacketizer: () =>
        new AacDepacketizer({ ...fmtp, trackId: id, clockRate }),
    };
  }
  if (encoding === "MP4A-LATM") {
    const fmtp = parseLatmFmtp(params);
    const track = aacTrack(
      id,
      clockRate,
      fmtp.sampleRate,
      fmtp.channels ?? channels,
      fmtp.config?.audioSpecificConfig,
    );
    return {
      track,
      depacketizer: () =>
        new LatmDepacketizer({
          trackId: id,
          clockRate,
          cpresent: fmtp.cpresent,
          config: fmtp.config,
        }),
    };
  }
  if (encoding === "OPUS") {
    const track: AudioTrack = {
      kind: "audio",
      id,
      codec: "OPUS",
      clockRate: 48000,
      sampleRate: 48000,
      channels: parseOpusFmtp(params).channels,
    };
    return { track, depacketizer: () => new OpusDepacketizer({ trackId: id }) };
  }
  if (encoding === "PCMA" || encoding === "PCMU") {
    const track: AudioTrack = {
      kind: "audio",
      id,
      codec: encoding,
      clockRate,
      sampleRate: clockRate,
      channels: channels ?? 1,
    };
    return {
      track,
      depacketizer: () => new G711Depacketizer({ trackId: id, clockRate }),
    };
  }
  return undefined;
}

/** An AAC track on the RTP clock; rate and channels from the config when it gave them. */
function aacTrack(
  id: number,
  clockRate: number,
  sampleRate: number | undefined,
  channels: number | undefined,
  config: Uint8Array | undefined,
): AudioTrack {
  return {
    kind: "audio",
    id,
    codec: "AAC",
    clockRate,
    sampleRate: sampleRate ?? clockRate,
    channels: channels ?? 1,
    config,
  };
}

/** A video track with size and record from its parameter sets, when they are known. */
export function videoTrack(
  codec: "H264" | "H265",
  id: number,
  sets: ParameterSets | undefined,
): VideoTrack {
  const track: VideoTrack = {
    kind: "video",
    id,
    codec,
    clockRate: VIDEO_CLOCK_RATE,
  };
  if (sets === undefined || sets.sps.length === 0 || sets.pps.length === 0) {
    return track;
  }
  if (codec === "H265" && (sets.vps?.length ?? 0) === 0) return track;
  track.parameterSets = sets;
  try {
    const size = codec === "H264"
      ? parseSps(sets.sps[0]!)
      : parseH265Sps(sets.sps[0]!);
    track.width = size.width;
    track.height = size.height;
  } catch {
    // a size we cannot read is only metadata
  }
  return track;
}

function spropOrUndefined(
  value: string | undefined,
  parse: (value: string) => ParameterSets,
): ParameterSets | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  return parse(value);
}

/** An rtpmap value, `encoding/clock rate[/channels]`, as fields. */
function rtpmapOf(
  text: string,
): { encoding: string; clockRate: number; channels?: number } {
  const [encoding, rate, channels] = text.split("/");
  return {
    encoding: encoding!,
    clockRate: Number(rate),
    channels: channels === undefined ? undefined : Number(channels),
  };
}

/** Payload types of RFC 3551 Table 4 that need no rtpmap. */
function staticRtpmap(
  pt: number,
): { encoding: string; clockRate: number; channels?: number } | undefined {
  if (pt === 0) {
    return { encoding: "PCMU", clockRate: G711_CLOCK_RATE, channels: 1 };
  }
  if (pt === 8) {
    return { encoding: "PCMA", clockRate: G711_CLOCK_RATE, channels: 1 };
  }
  return undefined;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}
