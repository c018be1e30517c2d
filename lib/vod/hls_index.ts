/**
 * The segments of a file's HLS, as nginx-vod-module cuts them: from the
 * file's keyframe index alone (no sample is read), each segment starts on
 * a video keyframe and lasts at least the target duration, or the GOP when
 * that is longer; a file without video is cut every target duration. The
 * VOD media playlist (RFC 8216 §4.3.3.5 `EXT-X-PLAYLIST-TYPE:VOD`,
 * `EXT-X-ENDLIST`) lists them.
 *
 * @module
 */

/** One segment of a file: seconds from the file's start. */
export interface VodSpan {
  /** Where it starts (a video keyframe's presentation time). */
  start: number;
  /** Where the next one starts, or the file's end. */
  end: number;
}

/** Most segments one file is cut into (a day at one second each). */
export const MAX_VOD_SEGMENTS = 86_400;

/** Seconds below which two times are the same (float sums of frame times). */
const EPSILON = 1e-6;

/**
 * Cuts a file of `durationSeconds` with video `keyframes` (presentation
 * times, seconds, ascending; empty without video) into segments of at
 * least `targetSeconds`, each starting on a keyframe. The first starts at
 * the first keyframe (0 without video); the last ends at the file's end.
 */
export function cutVodSpans(
  keyframes: readonly number[],
  durationSeconds: number,
  targetSeconds: number,
): VodSpan[] {
  const duration = Number.isFinite(durationSeconds)
    ? Math.max(0, durationSeconds)
    : 0;
  // A target too short for the segment count stretches: the list stays bounded.
  const target = Math.max(
    targetSeconds > 0 ? targetSeconds : 1,
    duration / MAX_VOD_SEGMENTS,
    0.1,
  );
  const starts: number[] = [];
  if (keyframes.length === 0) {
    for (let t = 0; t < duration - EPSILON; t += target) starts.push(t);
    if (starts.length === 0) starts.push(0);
  } else {
    for (const k of keyframes) {
      if (!Number.isFinite(k) || k < 0 || k >= duration - EPSILON) continue;
      const last = starts.at(-1);
      if (last === undefined || k - last >= target - EPSILON) starts.push(k);
    }
    if (starts.length === 0) starts.push(Math.max(0, keyframes[0] ?? 0));
  }
  return starts.map((start, i) => ({
    start,
    end: Math.max(start, starts[i + 1] ?? duration),
  }));
}

/** What a VOD media playlist names. */
export interface VodPlaylist {
  spans: readonly VodSpan[];
  /** URI of segment `index`. */
  uri(index: number): string;
  /** The init segment (fMP4); none for MPEG-TS. */
  mapUri?: string;
}

/** Seconds in playlist form (five decimals at most). */
function seconds(s: number): string {
  return s.toFixed(5).replace(/0+$/, "").replace(/\.$/, ".0");
}

/**
 * The media playlist of a whole file (RFC 8216 §4.3.3.5): every segment,
 * `EXT-X-PLAYLIST-TYPE:VOD`, `EXT-X-ENDLIST`; it never changes.
 */
export function renderVodPlaylist(p: VodPlaylist): string {
  let longest = 0;
  for (const s of p.spans) longest = Math.max(longest, s.end - s.start);
  const lines = [
    "#EXTM3U",
    // EXT-X-MAP in a playlist without I-frames needs version 6 (§7)
    `#EXT-X-VERSION:${p.mapUri === undefined ? 3 : 7}`,
    // §4.3.3.1: each EXTINF rounded to the nearest integer is at most this
    `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(longest - EPSILON))}`,
    "#EXT-X-MEDIA-SEQUENCE:0",
    "#EXT-X-PLAYLIST-TYPE:VOD",
    "#EXT-X-INDEPENDENT-SEGMENTS",
  ];
  if (p.mapUri !== undefined) lines.push(`#EXT-X-MAP:URI="${p.mapUri}"`);
  p.spans.forEach((s, i) => {
    lines.push(`#EXTINF:${seconds(Math.max(0.001, s.end - s.start))},`);
    lines.push(p.uri(i));
  });
  lines.push("#EXT-X-ENDLIST", "");
  return lines.join("\n");
}
