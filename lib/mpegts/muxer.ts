/**
 * Frames into an MPEG-2 transport stream (ISO/IEC 13818-1) as HLS segments
 * carry it (RFC 8216 §3.2): one program, H.264 or H.265 video in Annex B
 * with an access unit delimiter and the parameter sets before every
 * keyframe, AAC with ADTS headers or MP3 audio, one PES packet per frame,
 * PCR on the video PID (the audio PID without video), continuity counters
 * that run on across segments.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { AudioTrack, Track, VideoTrack } from "../media/track.ts";
import { rescale } from "../media/time.ts";
import { parseAudioSpecificConfig } from "../codec/aac/asc.ts";
import { AAC_SAMPLE_RATES } from "../codec/aac/asc.ts";
import { encodePat, encodePmt, PAT_PID, STREAM_TYPE } from "./psi.ts";
import { pesHeader, STREAM_ID } from "./pes.ts";
import { packetCount, TS_PACKET_SIZE, writeUnit } from "./packet.ts";

/** PIDs Sluice writes. */
export const TS_PID = { PMT: 0x1000, VIDEO: 0x100, AUDIO: 0x101 } as const;
const PROGRAM = 1;
/** Ticks of the 90 kHz clock every PTS, DTS and PCR base counts. */
export const TS_CLOCK = 90000;
/** Added to every timestamp so the PCR, 100 ms before the DTS, never goes below 0. */
const OFFSET = TS_CLOCK;
const PCR_LEAD = TS_CLOCK / 10;

const START_CODE = new Uint8Array([0, 0, 0, 1]);
const AUD_H264 = new Uint8Array([0x09, 0xf0]);
const AUD_H265 = new Uint8Array([0x46, 0x01, 0x50]);

/** Codecs a transport stream of Sluice carries. */
export function tsCarries(track: Track): boolean {
  return track.codec === "H264" || track.codec === "H265" ||
    track.codec === "AAC" || track.codec === "MP3";
}

/** Writes the frames of one video and one audio track as transport stream packets. */
export class TsMuxer {
  readonly #video: VideoTrack | undefined;
  readonly #audio: AudioTrack | undefined;
  readonly #counters = new Map<number, number>();
  readonly #adts: Uint8Array | undefined;
  readonly #sets: Uint8Array[];

  /**
   * `tracks` may hold at most one video and one audio track of codecs
   * {@link tsCarries} says yes to; others are ignored.
   */
  constructor(tracks: readonly Track[]) {
    this.#video = tracks.find((t): t is VideoTrack =>
      t.kind === "video" && tsCarries(t)
    );
    this.#audio = tracks.find((t): t is AudioTrack =>
      t.kind === "audio" && tsCarries(t)
    );
    if (this.#audio?.codec === "AAC") this.#adts = adtsTemplate(this.#audio);
    const sets = this.#video?.parameterSets;
    this.#sets = sets === undefined
      ? []
      : [...(sets.vps ?? []), ...sets.sps, ...sets.pps];
  }

  /** The track ids written. */
  get trackIds(): number[] {
    return [this.#video?.id, this.#audio?.id].filter((id) => id !== undefined);
  }

  /** PAT and PMT: what every segment starts with. */
  tables(): Uint8Array {
    const streams = [];
    if (this.#video !== undefined) {
      streams.push({
        pid: TS_PID.VIDEO,
        streamType: this.#video.codec === "H265"
          ? STREAM_TYPE.H265
          : STREAM_TYPE.H264,
      });
    }
    if (this.#audio !== undefined) {
      streams.push({
        pid: TS_PID.AUDIO,
        streamType: this.#audio.codec === "AAC"
          ? STREAM_TYPE.AAC_ADTS
          : STREAM_TYPE.MPEG1_AUDIO,
      });
    }
    const pcrPid = this.#video !== undefined ? TS_PID.VIDEO : TS_PID.AUDIO;
    const out = new Uint8Array(2 * TS_PACKET_SIZE);
    this.#write(out, 0, PAT_PID, encodePat(PROGRAM, TS_PID.PMT));
    this.#write(
      out,
      TS_PACKET_SIZE,
      TS_PID.PMT,
      encodePmt(PROGRAM, pcrPid, streams),
    );
    return out;
  }

  /** The packets of one frame; empty for a track this muxer does not write. */
  frame(frame: Frame): Uint8Array {
    if (frame.trackId === this.#video?.id) return this.#videoPes(frame);
    if (frame.trackId === this.#audio?.id) return this.#audioPes(frame);
    return new Uint8Array(0);
  }

  #videoPes(frame: Frame): Uint8Array {
    const video = this.#video!;
    const units: Uint8Array[] = [
      video.codec === "H265" ? AUD_H265 : AUD_H264,
    ];
    if (frame.keyframe) units.push(...this.#sets);
    for (const u of frame.units) {
      const type = video.codec === "H265" ? (u[0]! >> 1) & 0x3f : u[0]! & 0x1f;
      // In-band AUDs and (on keyframes) parameter sets are replaced by ours.
      if (video.codec === "H264" && type === 9) continue;
      if (video.codec === "H265" && type === 35) continue;
      if (
        frame.keyframe && this.#sets.length > 0 && isParameterSet(video, type)
      ) {
        continue;
      }
      units.push(u);
    }
    let size = 0;
    for (const u of units) size += START_CODE.length + u.length;
    const dts = frame.dts + OFFSET;
    const header = pesHeader(STREAM_ID.VIDEO, size, frame.pts + OFFSET, dts);
    const pes = new Uint8Array(header.length + size);
    pes.set(header);
    let at = header.length;
    for (const u of units) {
      pes.set(START_CODE, at);
      pes.set(u, at + START_CODE.length);
      at += START_CODE.length + u.length;
    }
    return this.#packets(TS_PID.VIDEO, pes, {
      pcr: (dts - PCR_LEAD) * 300,
      randomAccess: frame.keyframe,
    });
  }

  #audioPes(frame: Frame): Uint8Array {
    const audio = this.#audio!;
    let size = 0;
    for (const u of frame.units) size += u.length;
    const adts = this.#adts;
    const extra = adts === undefined ? 0 : adts.length;
    const ts = rescale(frame.dts, audio.clockRate, TS_CLOCK) + OFFSET;
    const header = pesHeader(STREAM_ID.AUDIO, extra + size, ts, ts);
    const pes = new Uint8Array(header.length + extra + size);
    pes.set(header);
    let at = header.length;
    if (adts !== undefined) {
      pes.set(adts, at);
      // aac_frame_length (13 bits) counts the header too.
      const length = adts.length + size;
      pes[at + 3] = (pes[at + 3]! & 0xfc) | ((length >> 11) & 0x03);
      pes[at + 4] = (length >> 3) & 0xff;
      pes[at + 5] = ((length & 0x07) << 5) | 0x1f;
      at += adts.length;
    }
    for (const u of frame.units) {
      pes.set(u, at);
      at += u.length;
    }
    const pcr = this.#video === undefined ? (ts - PCR_LEAD) * 300 : undefined;
    return this.#packets(TS_PID.AUDIO, pes, {
      pcr,
      randomAccess: this.#video === undefined,
    });
  }

  #packets(
    pid: number,
    payload: Uint8Array,
    options: { pcr?: number; randomAccess?: boolean },
  ): Uint8Array {
    const out = new Uint8Array(
      packetCount(payload.length, options) * TS_PACKET_SIZE,
    );
    this.#write(out, 0, pid, payload, options);
    return out;
  }

  #write(
    out: Uint8Array,
    at: number,
    pid: number,
    payload: Uint8Array,
    options: { pcr?: number; randomAccess?: boolean } = {},
  ): void {
    const next = writeUnit(
      out,
      at,
      pid,
      this.#counters.get(pid) ?? 0,
      payload,
      options,
    );
    this.#counters.set(pid, next);
  }
}

function isParameterSet(track: VideoTrack, type: number): boolean {
  return track.codec === "H265"
    ? type >= 32 && type <= 34
    : type === 7 || type === 8;
}

/**
 * The 7-byte ADTS header of `track` (ISO/IEC 14496-3 §1.A.2.2) with the
 * frame length left 0: syncword, MPEG-4, no CRC, profile, rate, channels.
 */
function adtsTemplate(track: AudioTrack): Uint8Array {
  let objectType = 2;
  let rate = track.sampleRate;
  let channels = track.channels;
  if (track.config !== undefined) {
    const asc = parseAudioSpecificConfig(track.config);
    objectType = asc.objectType;
    rate = asc.sampleRate;
    channels = asc.channelConfig;
  }
  const index = Math.max(0, AAC_SAMPLE_RATES.indexOf(rate));
  const profile = Math.min(3, Math.max(0, objectType - 1));
  return new Uint8Array([
    0xff,
    0xf1,
    (profile << 6) | (index << 2) | ((channels >> 2) & 1),
    (channels & 3) << 6,
    0,
    0x1f,
    0xfc,
  ]);
}
