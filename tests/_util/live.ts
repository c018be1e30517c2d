/**
 * The live set-ups interop tests share: ffmpeg publishing the test signal
 * into a Sluice until frames flow, waiting for paths of another instance
 * (a relay, a registration) to fill, and ffmpeg playing several paths at
 * once, each asserted to decode H.264 and AAC.
 */
import {
  assertDecodedH264Aac,
  playAndCount,
  type Publisher,
  type PublishOptions,
  publishTestSignal,
} from "./ffmpeg.ts";
import type { TestSluice } from "./sluice.ts";
import { until } from "./wait.ts";

/** Frames `path` of `s` has taken in so far. */
export function framesIn(s: TestSluice, path: string): number {
  return s.sluice.hub.stream(path)?.stats.framesIn ?? 0;
}

/** For failure messages: each instance's relays, registrations and log. */
export function describeInstances(...instances: TestSluice[]): string {
  return instances.map((s, i) =>
    `--- instance ${i}: relays ${
      JSON.stringify(s.sluice.relays.states())
    } registrations ${JSON.stringify(s.sluice.registrations.states())}\n${
      s.logs.join("\n")
    }`
  ).join("\n");
}

/** Options of {@link publishLive}. */
export interface PublishLiveOptions extends PublishOptions {
  /**
   * How ffmpeg publishes: RTMP, RTMPS (start `s` with `tlsConfig()`) or
   * RTSP ANNOUNCE/RECORD. @default {"rtmp"}
   */
  scheme?: "rtmp" | "rtmps" | "rtsp";
  /** Frames the path must have taken in before this resolves. @default {10} */
  frames?: number;
  /** How long to wait for them. @default {10_000} */
  waitMs?: number;
}

/**
 * ffmpeg publishing the 320x240 H.264 + AAC test signal to `path` of `s`,
 * once the path has a publisher and `frames` frames came in; if they do not
 * come, ffmpeg is stopped and the wait's error thrown.
 */
export async function publishLive(
  s: TestSluice,
  path: string,
  options: PublishLiveOptions = {},
): Promise<Publisher> {
  const { scheme = "rtmp", frames = 10, waitMs = 10_000, ...rest } = options;
  const url = scheme === "rtmp"
    ? s.rtmpUrl(path)
    : scheme === "rtmps"
    ? s.rtmpsUrl(path)
    : s.rtspUrl(path);
  const pub = publishTestSignal(
    url,
    scheme === "rtsp" ? { format: "rtsp", ...rest } : rest,
  );
  try {
    await s.published(path, { frames, timeoutMs: waitMs });
  } catch (e) {
    await pub.stop();
    throw e;
  }
  return pub;
}

/**
 * Waits until every one of `paths` of `s` took in `frames` frames (10
 * unless said); the error describes `s` and the `others`.
 */
export function untilFrames(
  s: TestSluice,
  paths: readonly string[],
  options: { frames?: number; timeoutMs?: number; others?: TestSluice[] } = {},
): Promise<void> {
  const { frames = 10, timeoutMs = 10_000, others = [] } = options;
  return until(
    () => paths.every((p) => framesIn(s, p) >= frames),
    timeoutMs,
    () => describeInstances(s, ...others),
  );
}

/** A URL for ffmpeg to play, with input options (`-rtsp_transport tcp`) when needed. */
export type PlayTarget = string | { url: string; inputArgs: string[] };

/**
 * Plays every target at once with ffmpeg for `seconds` (2 unless said) and
 * asserts that each decoded 320x240 H.264 (at least `video` frames) and
 * AAC with timestamps that never stepped back.
 */
export async function assertAllPlay(
  targets: readonly PlayTarget[],
  min: { video: number; seconds?: number; context?: () => string },
): Promise<void> {
  const { video, seconds = 2 } = min;
  const results = await Promise.all(
    targets.map((t) =>
      playAndCount(typeof t === "string" ? t : t.url, {
        seconds,
        timeoutMs: 15_000,
        inputArgs: typeof t === "string" ? undefined : t.inputArgs,
      })
    ),
  );
  const context = min.context?.();
  for (const r of results) assertDecodedH264Aac(r, { video, context });
}
