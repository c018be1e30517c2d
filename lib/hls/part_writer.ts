/**
 * The two ways HLS carries media: CMAF fragments (`moof`+`mdat`, after an
 * init segment) written by the shared MP4 fragmenter, or MPEG-TS packets.
 * Both cut parts on the frame that opens the next one.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { Track } from "../media/track.ts";
import { Mp4Fragmenter } from "../mp4/fragmenter.ts";
import { tsCarries, TsMuxer } from "../mpegts/muxer.ts";
import { concat } from "@std/bytes";
import { codecString } from "../mp4/codec_string.ts";

/** How HLS packages a path: Low-Latency fMP4, plain fMP4 or MPEG-TS. */
export type HlsVariant = "lowLatency" | "fmp4" | "mpegts";

/** Where a frame stands in the part and segment layout. */
export type Cut = "none" | "part" | "segment";

/** Writes one publisher's frames as the bytes of parts. */
export interface PartWriter {
  /** The init segment (fMP4); `undefined` for MPEG-TS. */
  readonly init: Uint8Array | undefined;
  /** File extension of segments and parts. */
  readonly extension: "mp4" | "ts";
  /** Track ids written, video first. */
  readonly trackIds: readonly number[];
  /** The tracks as written: a VP9 track takes its size from its first keyframe. */
  readonly tracks: readonly Track[];
  /**
   * Takes `frame`; with a cut, the part before it is closed and its bytes
   * returned (the frame opens the next part, or the next segment).
   */
  push(frame: Frame, cut: Cut): Uint8Array | undefined;
  /** Closes the open part: the publisher went or the tracks changed. */
  end(): Uint8Array | undefined;
}

const FMP4_CODECS = new Set([
  "H264",
  "H265",
  "AV1",
  "VP9",
  "AAC",
  "OPUS",
  "MP3",
]);

/** Whether `variant` carries `track`'s codec. */
export function carries(variant: HlsVariant, track: Track): boolean {
  return variant === "mpegts" ? tsCarries(track) : FMP4_CODECS.has(track.codec);
}

/**
 * The tracks HLS writes of `tracks`: the first video and the first audio
 * track `variant` carries; the rest are returned as `leftOut`.
 */
export function chooseTracks(
  variant: HlsVariant,
  tracks: readonly Track[],
): { chosen: Track[]; leftOut: Track[] } {
  const video = tracks.find((t) => t.kind === "video" && carries(variant, t));
  const audio = tracks.find((t) => t.kind === "audio" && carries(variant, t));
  const chosen = [video, audio].filter((t) => t !== undefined);
  return { chosen, leftOut: tracks.filter((t) => !chosen.includes(t)) };
}

/** A writer of `variant` for `tracks` (from {@link chooseTracks}). */
export function createPartWriter(
  variant: HlsVariant,
  tracks: readonly Track[],
): PartWriter {
  return variant === "mpegts"
    ? new TsPartWriter(tracks)
    : new Fmp4PartWriter(tracks);
}

class Fmp4PartWriter implements PartWriter {
  readonly extension = "mp4";
  readonly trackIds: readonly number[];
  readonly #fragmenter: Mp4Fragmenter;

  constructor(tracks: readonly Track[]) {
    this.#fragmenter = new Mp4Fragmenter(tracks);
    this.trackIds = tracks.map((t) => t.id);
  }

  get init(): Uint8Array {
    return this.#fragmenter.init;
  }

  get tracks(): readonly Track[] {
    return this.#fragmenter.tracks.map((t) => t.track);
  }

  push(frame: Frame, cut: Cut): Uint8Array | undefined {
    if (cut === "none") {
      this.#fragmenter.push(frame);
      return undefined;
    }
    // Every track's held frame goes into the closing part: the frame before
    // this one ends where it starts, the other tracks' last frames last as
    // long as the ones before. A segment whose audio stopped a frame short
    // of its video would leave a hole at the end of the buffer, and hls.js
    // loads that segment again and again.
    const bytes = this.#fragmenter.end(new Map([[frame.trackId, frame.dts]]))
      ?.bytes;
    this.#fragmenter.push(frame);
    return bytes;
  }

  end(): Uint8Array | undefined {
    return this.#fragmenter.end()?.bytes;
  }
}

class TsPartWriter implements PartWriter {
  readonly extension = "ts";
  readonly init = undefined;
  readonly trackIds: readonly number[];
  readonly tracks: readonly Track[];
  readonly #muxer: TsMuxer;
  #pending: Uint8Array[] = [];

  constructor(tracks: readonly Track[]) {
    this.#muxer = new TsMuxer(tracks);
    this.trackIds = this.#muxer.trackIds;
    this.tracks = tracks;
  }

  push(frame: Frame, cut: Cut): Uint8Array | undefined {
    let closed: Uint8Array | undefined;
    if (cut !== "none") closed = this.end();
    // Every segment starts with the tables, so each plays on its own.
    if (cut === "segment" || this.#first) {
      this.#pending.push(this.#muxer.tables());
    }
    this.#first = false;
    this.#pending.push(this.#muxer.frame(frame));
    return closed;
  }

  #first = true;

  end(): Uint8Array | undefined {
    if (this.#pending.length === 0) return undefined;
    const out = concat(this.#pending);
    this.#pending = [];
    return out;
  }
}

/** What makes a new init segment: codecs and their configuration. */
export function trackSignature(tracks: readonly Track[]): string {
  const hex = (b?: Uint8Array) =>
    b === undefined ? "" : Array.from(b).join(",");
  return tracks.map((t) =>
    t.kind === "video"
      ? [
        t.id,
        t.codec,
        hex(t.record),
        ...(t.parameterSets?.sps ?? []).map(hex),
        ...(t.parameterSets?.pps ?? []).map(hex),
      ].join("|")
      : [t.id, t.codec, t.sampleRate, t.channels, hex(t.config)].join("|")
  ).join(";");
}

/** RFC 6381 codec strings of `tracks`, those that have one. */
export function codecStrings(tracks: readonly Track[]): string[] {
  const out: string[] = [];
  for (const t of tracks) {
    try {
      const c = codecString(t);
      if (c !== undefined) out.push(c);
    } catch {
      // A parameter set it cannot read: the playlist goes without it.
    }
  }
  return out;
}
