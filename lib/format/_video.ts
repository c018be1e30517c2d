/**
 * What the H.264 and H.265 formats share: tracks from parameter sets,
 * `sprop-*` parameters that may be broken, and the text encodings of the
 * fmtp values.
 *
 * @module
 */

import {
  type ParameterSets,
  VIDEO_CLOCK_RATE,
  type VideoTrack,
} from "../media/track.ts";

/**
 * A video track with its parameter sets and the size its SPS gives, or a bare
 * one (size and sets come in-band) when `sets` lacks an SPS or a PPS.
 */
export function videoTrackOf(
  codec: "H264" | "H265",
  id: number,
  sets: ParameterSets | undefined,
  readSize: (sps: Uint8Array) => { width: number; height: number },
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
  track.parameterSets = sets;
  try {
    const size = readSize(sets.sps[0]!);
    track.width = size.width;
    track.height = size.height;
  } catch {
    // a size we cannot read is only metadata
  }
  return track;
}

/** An fmtp parameter by its lower-case name, written in any case. */
export function paramOf(
  params: Record<string, string>,
  name: string,
): string | undefined {
  for (const [k, v] of Object.entries(params)) {
    if (k.toLowerCase() === name) return v;
  }
  return undefined;
}

/**
 * The parameter sets of a `sprop-*` value, or undefined when it is missing,
 * blank or broken: then the sets come in-band (INTEROP.md: cameras).
 */
export function spropSets(
  value: string | undefined,
  parse: (value: string) => ParameterSets,
): ParameterSets | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  try {
    return parse(value);
  } catch {
    return undefined;
  }
}

/** Bytes as lower-case hex digits (`profile-level-id`). */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes as base64 (`sprop-*`). */
export function base64(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}
