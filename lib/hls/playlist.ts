/**
 * HLS playlists as text (RFC 8216 and its successor draft-pantos-hls-rfc8216bis,
 * "8216bis"): the multivariant playlist naming one variant, and the media
 * playlist of a live sliding window with Low-Latency HLS parts, server
 * control, preload hints and delta updates.
 *
 * @module
 */

/** A partial segment (8216bis §4.4.4.9). */
export interface PlaylistPart {
  /** Seconds. */
  duration: number;
  uri: string;
  /** The part starts with a keyframe. */
  independent: boolean;
}

/** A media segment, complete or (the last one) still growing. */
export interface PlaylistSegment {
  /** Media sequence number. */
  msn: number;
  /** Seconds; for a growing segment, what its parts add up to. */
  duration: number;
  /** The segment's URI; `undefined` while it grows. */
  uri?: string;
  /** Wall-clock time of its first frame, ms since the epoch. */
  programDateTimeMs: number;
  /** A new publisher or new codec parameters start here. */
  discontinuity: boolean;
  /** The init segment (fMP4), `undefined` for MPEG-TS. */
  mapUri?: string;
  /** Its parts; left out of the playlist when the segment is old. */
  parts: readonly PlaylistPart[];
}

/** What a media playlist says. */
export interface MediaPlaylist {
  /** Whole seconds, at least every segment's duration rounded. */
  targetDuration: number;
  /** Low-Latency HLS: the part target in seconds; plain HLS without. */
  partTarget?: number;
  /** Discontinuities before the first segment of {@link segments}. */
  discontinuitySequence: number;
  /** Oldest first; the last one may be growing (no `uri`). */
  segments: readonly PlaylistSegment[];
  /** URI of the part being written now (EXT-X-PRELOAD-HINT). */
  preloadHint?: string;
}

/** Options of {@link renderMediaPlaylist}. */
export interface RenderOptions {
  /** `_HLS_skip=YES`: segments older than CAN-SKIP-UNTIL become one EXT-X-SKIP. */
  skip?: boolean;
}

/** Seconds before the end older segments' parts are left out (8216bis §6.2.2: three target durations). */
const PART_WINDOW_TARGETS = 3;
/** CAN-SKIP-UNTIL in target durations: at least six (8216bis §4.4.3.8). */
const SKIP_TARGETS = 6;
/** PART-HOLD-BACK in part targets: at least two, three recommended (§4.4.3.8). */
const HOLD_BACK_PARTS = 3;

/** Seconds in playlist form. */
function seconds(s: number): string {
  return s.toFixed(5).replace(/0+$/, "").replace(/\.$/, ".0");
}

/** The duration after which a delta update may skip segments (CAN-SKIP-UNTIL). */
export function canSkipUntil(playlist: MediaPlaylist): number {
  return SKIP_TARGETS * playlist.targetDuration;
}

/** Renders a media playlist (RFC 8216 §4.3, 8216bis §4.4). */
export function renderMediaPlaylist(
  p: MediaPlaylist,
  options: RenderOptions = {},
): string {
  const ll = p.partTarget !== undefined;
  const first = p.segments[0];
  const lines = [
    "#EXTM3U",
    `#EXT-X-VERSION:${ll ? 9 : first?.mapUri !== undefined ? 7 : 3}`,
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
  ];
  if (ll) {
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=${
        seconds(canSkipUntil(p))
      },PART-HOLD-BACK=${seconds(HOLD_BACK_PARTS * p.partTarget!)}`,
      `#EXT-X-PART-INF:PART-TARGET=${seconds(p.partTarget!)}`,
    );
  }
  lines.push(
    `#EXT-X-MEDIA-SEQUENCE:${first?.msn ?? 0}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`,
  );
  // Seconds from each segment's start to the playlist's end, newest last.
  const total = p.segments.reduce((n, s) => n + s.duration, 0);
  let elapsed = 0;
  let skipped = 0;
  let map: string | undefined;
  const body: string[] = [];
  for (const s of p.segments) {
    const fromEnd = total - elapsed;
    elapsed += s.duration;
    if (
      ll && options.skip && s.uri !== undefined &&
      fromEnd - s.duration >= canSkipUntil(p)
    ) {
      // Only segments that ended CAN-SKIP-UNTIL or more before the end.
      skipped++;
      continue;
    }
    if (s.discontinuity && s !== first) body.push("#EXT-X-DISCONTINUITY");
    if (s.mapUri !== undefined && s.mapUri !== map) {
      body.push(`#EXT-X-MAP:URI="${s.mapUri}"`);
      map = s.mapUri;
    }
    body.push(
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTimeMs).toISOString()}`,
    );
    if (ll && fromEnd <= PART_WINDOW_TARGETS * p.targetDuration) {
      for (const part of s.parts) {
        body.push(
          `#EXT-X-PART:DURATION=${seconds(part.duration)},URI="${part.uri}"${
            part.independent ? ",INDEPENDENT=YES" : ""
          }`,
        );
      }
    }
    if (s.uri !== undefined) {
      body.push(`#EXTINF:${seconds(s.duration)},`, s.uri);
    }
  }
  if (skipped > 0) lines.push(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`);
  lines.push(...body);
  if (ll && p.preloadHint !== undefined) {
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${p.preloadHint}"`);
  }
  return lines.join("\n") + "\n";
}

/** The one variant of a multivariant playlist. */
export interface Variant {
  uri: string;
  /** Peak bits per second. */
  bandwidth: number;
  averageBandwidth?: number;
  /** RFC 6381 codec strings. */
  codecs: readonly string[];
  width?: number;
  height?: number;
}

/** Renders a multivariant playlist (RFC 8216 §4.3.4.2). */
export function renderMultivariantPlaylist(variant: Variant): string {
  const attrs = [`BANDWIDTH=${Math.max(1, Math.round(variant.bandwidth))}`];
  if (variant.averageBandwidth !== undefined) {
    attrs.push(
      `AVERAGE-BANDWIDTH=${Math.max(1, Math.round(variant.averageBandwidth))}`,
    );
  }
  if (variant.codecs.length > 0) {
    attrs.push(`CODECS="${variant.codecs.join(",")}"`);
  }
  if (variant.width !== undefined && variant.height !== undefined) {
    attrs.push(`RESOLUTION=${variant.width}x${variant.height}`);
  }
  return [
    "#EXTM3U",
    "#EXT-X-VERSION:9",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    `#EXT-X-STREAM-INF:${attrs.join(",")}`,
    variant.uri,
    "",
  ].join("\n");
}
