/**
 * Playback of recordings over HTTP, as MediaMTX's playback server answers:
 *
 * - `GET /playback/list?path=&start=&end=`: the recorded stretches of a
 *   path as JSON `[{ "start": RFC 3339, "duration": seconds }]`,
 *   consecutive segments merged, gaps left as gaps, from the index (no
 *   folder scan per call).
 * - `GET /playback/get?path=&start=&duration=&format=fmp4|mp4`: one file
 *   across segment boundaries from the keyframe before `start`; `mp4` is a
 *   progressive file with `Accept-Ranges` and 206 answers.
 *
 * `start` and `end` are RFC 3339 times or seconds since the epoch;
 * `duration` is seconds. The authenticator decides with action `playback`:
 * a user with that permission, or the path's read credentials.
 *
 * @module
 */

import type { Hono } from "hono";
import type { Logger } from "../../log.ts";
import { isValidPath } from "../../path.ts";
import type { RecordIndex } from "../../record/record_index.ts";
import { playbackFile } from "./playback_get.ts";
import { text } from "./text.ts";

/** What playback needs. */
export interface PlaybackOptions {
  recordings: { readonly index: RecordIndex };
  log: Logger;
  /**
   * Whether the request from `remote` may play back `path` (a user with the
   * `playback` permission, or the path's read credentials); a refusal
   * answer when not.
   */
  authorize(
    req: Request,
    path: string,
    remote: Deno.NetAddr,
  ): Promise<Response | undefined>;
}

/** Longest stretch one `/playback/get` serves, seconds. */
export const MAX_GET_SECONDS = 24 * 3600;

/**
 * Most `/playback/get` answers being read at once; more get 503. Each reads
 * files and holds a segment's sample table.
 */
export const MAX_GETS = 16;

/** Adds `/playback/list` and `/playback/get` to `app`. */
export function mountPlayback(
  app: Hono<{ Bindings: { remote: Deno.NetAddr } }>,
  options: PlaybackOptions,
): void {
  let gets = 0;
  app.get("/playback/list", async (c) => {
    const url = new URL(c.req.url);
    const q = url.searchParams;
    const path = q.get("path") ?? "";
    if (!isValidPath(path)) return text(400, "Bad Request: invalid path");
    const refused = await options.authorize(c.req.raw, path, c.env.remote);
    if (refused !== undefined) return refused;
    const start = q.has("start") ? parseTime(q.get("start")!) : -Infinity;
    const end = q.has("end") ? parseTime(q.get("end")!) : Infinity;
    if (start === undefined || end === undefined || end < start) {
      return text(400, "Bad Request: invalid start or end");
    }
    const { index } = options.recordings;
    if (index.segments(path).length === 0) {
      return text(404, `Not Found: no recordings of ${path}`);
    }
    const spans = index.timespans(path, start, end).map((s) => ({
      start: new Date(s.startMs).toISOString(),
      duration: s.durationMs / 1000,
    }));
    return Response.json(spans);
  });

  app.get("/playback/get", async (c) => {
    const url = new URL(c.req.url);
    const q = url.searchParams;
    const path = q.get("path") ?? "";
    if (!isValidPath(path)) return text(400, "Bad Request: invalid path");
    const refused = await options.authorize(c.req.raw, path, c.env.remote);
    if (refused !== undefined) return refused;
    const start = parseTime(q.get("start") ?? "");
    const duration = Number(q.get("duration") ?? "");
    const format = q.get("format") ?? "fmp4";
    if (start === undefined) return text(400, "Bad Request: invalid start");
    if (
      !Number.isFinite(duration) || duration <= 0 ||
      duration > MAX_GET_SECONDS
    ) {
      return text(
        400,
        `Bad Request: duration must be seconds from 0 to ${MAX_GET_SECONDS}`,
      );
    }
    if (format !== "fmp4" && format !== "mp4") {
      return text(400, 'Bad Request: format must be "fmp4" or "mp4"');
    }
    const segments = options.recordings.index.segments(
      path,
      start,
      start + duration * 1000,
    );
    if (segments.length === 0) {
      return text(404, `Not Found: no recording of ${path} at that time`);
    }
    if (gets >= MAX_GETS) {
      return text(503, "Service Unavailable: too many recordings being read");
    }
    gets++;
    try {
      const res = await playbackFile(c.req.raw, {
        segments,
        startMs: start,
        durationMs: duration * 1000,
        format,
      });
      if (res.body === null) {
        gets--;
        return res;
      }
      // The answer counts until its body is read to the end or dropped.
      let done = false;
      const release = () => {
        if (!done) gets--;
        done = true;
      };
      const body = res.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          flush: release,
          cancel: release,
        }),
      );
      c.req.raw.signal.addEventListener("abort", release, { once: true });
      return new Response(body, { status: res.status, headers: res.headers });
    } catch (e) {
      gets--;
      options.log.warn("Cannot serve recording", {
        path,
        error: e instanceof Error ? e.message : String(e),
      });
      return text(500, "Internal Server Error: cannot read the recording");
    }
  });
}

/** Milliseconds of an RFC 3339 time or of seconds since the epoch; `undefined` when neither. */
export function parseTime(value: string): number | undefined {
  // A "+" of an offset left unencoded in a query reads as a space.
  const text = value.trim().replace(" ", "+");
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(
      text,
    )
  ) {
    return undefined;
  }
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
