/**
 * The top-level keys of HLS and Low-Latency HLS: variant, segment and part
 * durations, window length and when a path's muxer runs.
 *
 * @module
 */
import { Bool, Duration, HlsVariant, IntRange, setting } from "./_scalars.ts";

/** HLS and Low-Latency HLS. */
export const HLS_SETTINGS = {
  /** HLS and Low-Latency HLS at `/<path>/index.m3u8` on the HTTP port. */
  hls: setting(Bool, true, "serve HLS at /<path>/index.m3u8 on the HTTP port"),
  /** How HLS packages media: `lowLatency` (fMP4 with parts), `fmp4` or `mpegts`. */
  hlsVariant: setting(
    HlsVariant,
    "lowLatency",
    "HLS variant: lowLatency, fmp4 or mpegts",
  ),
  /** Milliseconds a segment lasts at least (the GOP when longer). */
  hlsSegmentDuration: setting(
    Duration,
    "1s",
    "HLS segment duration (or the GOP when longer)",
  ),
  /** Milliseconds of a Low-Latency HLS part. */
  hlsPartDuration: setting(Duration, "200ms", "Low-Latency HLS part duration"),
  /** Complete segments in the sliding window of each path. */
  hlsSegmentCount: setting(IntRange(1, 100), 7, "HLS segments kept per path"),
  /** Write HLS for every path with a publisher, requested or not. */
  hlsAlwaysRemux: setting(
    Bool,
    false,
    "write HLS for every published path, not only on request",
  ),
  /** Milliseconds a path's HLS muxer goes on after its last request. */
  hlsMuxerCloseAfter: setting(
    Duration,
    "60s",
    "stop a path's HLS muxer this long after its last request",
  ),
} as const;
