/**
 * `/playback/get`: the frames of consecutive segments as one file, from
 * the keyframe at or before the asked start to its end, on one timeline
 * starting at 0. `fmp4` streams as it reads (an init segment, then a
 * fragment per second); `mp4` is a progressive file built in two passes
 * over the same frames (sizes and times first, then the bytes), so memory
 * holds the sample table, never the media, and `Range` requests get 206.
 * A change of codecs between segments ends the file there.
 *
 * @module
 */

import type { Frame } from "../../media/frame.ts";
import type { Track } from "../../media/track.ts";
import { Mp4Fragmenter } from "../../mp4/fragmenter.ts";
import { Mp4FileWriter } from "../../mp4/file.ts";
import type { SegmentEntry } from "../../record/record_index.ts";
import {
  openRecording,
  type RecordedSegment,
} from "../../record/recording_reader.ts";
import { trackSignature } from "../../record/segment_muxer.ts";

/** What to serve. */
export interface PlaybackRequest {
  segments: SegmentEntry[];
  startMs: number;
  durationMs: number;
  format: "fmp4" | "mp4";
}

/** The answer to `/playback/get` for `r`. */
export async function playbackFile(
  req: Request,
  r: PlaybackRequest,
): Promise<Response> {
  const plan = await openPlan(r);
  if (plan === undefined) {
    return new Response("Not Found: no media at that time\n", { status: 404 });
  }
  return r.format === "fmp4"
    ? fmp4Response(plan)
    : await mp4Response(req, plan);
}

interface Plan {
  /** The first segment's tracks: later segments must have the same. */
  tracks: Track[];
  signature: string;
  /** The first segment, opened; the others open as the frames reach them. */
  first: RecordedSegment;
  entries: SegmentEntry[];
  startMs: number;
  endMs: number;
}

async function openPlan(r: PlaybackRequest): Promise<Plan | undefined> {
  const entry = r.segments[0];
  if (entry === undefined) return undefined;
  const first = await openRecording(entry.file, entry.format);
  if (first.tracks.length === 0) return undefined;
  return {
    tracks: first.tracks,
    signature: trackSignature(first.tracks),
    first,
    entries: r.segments,
    startMs: r.startMs,
    endMs: r.startMs + r.durationMs,
  };
}

/**
 * The plan's segments, opened one at a time (memory holds one segment's
 * sample table), up to the first whose codecs differ.
 */
async function* planSegments(
  plan: Plan,
): AsyncGenerator<{ entry: SegmentEntry; segment: RecordedSegment }> {
  for (const [i, entry] of plan.entries.entries()) {
    const segment = i === 0
      ? plan.first
      : await openRecording(entry.file, entry.format);
    if (trackSignature(segment.tracks) !== plan.signature) return;
    yield { entry, segment };
  }
}

/**
 * The plan's frames with times from 0 at the keyframe at or before the
 * start; deterministic, so the mp4 writer can take them twice.
 */
async function* planFrames(plan: Plan): AsyncGenerator<Frame> {
  const hasVideo = plan.tracks.some((t) => t.kind === "video");
  const clock = new Map(plan.tracks.map((t) => [t.id, t]));
  let originMs: number | undefined;
  /** Frames since the last keyframe at or before the start, while looking for it. */
  let gop: { frame: Frame; absMs: number; entry: SegmentEntry }[] = [];
  const shift = (frame: Frame, entry: SegmentEntry): Frame => {
    const rate = clock.get(frame.trackId)!.clockRate;
    const offset = Math.round(((entry.startMs - originMs!) * rate) / 1000);
    return { ...frame, dts: frame.dts + offset, pts: frame.pts + offset };
  };
  for await (const { entry, segment } of planSegments(plan)) {
    for await (const frame of segment.frames()) {
      const track = clock.get(frame.trackId);
      if (track === undefined) continue;
      const absMs = entry.startMs + (frame.dts * 1000) / track.clockRate;
      if (absMs >= plan.endMs) {
        if (track.kind === "video" || !hasVideo) return;
        continue;
      }
      const key = !hasVideo || (track.kind === "video" && frame.keyframe);
      if (originMs === undefined) {
        if (key && (absMs <= plan.startMs || gop.length === 0)) {
          gop = [{ frame, absMs, entry }];
        } else if (gop.length > 0) gop.push({ frame, absMs, entry });
        if (gop.length === 0 || absMs <= plan.startMs) continue;
        if (track.kind !== "video" && hasVideo) continue;
        originMs = gop[0]!.absMs;
        for (const g of gop) {
          if (g.absMs >= originMs) yield shift(g.frame, g.entry);
        }
        gop = [];
        continue;
      }
      if (absMs < originMs) continue;
      yield shift(frame, entry);
    }
  }
  if (originMs === undefined && gop.length > 0) {
    originMs = gop[0]!.absMs; // the recording ends inside the GOP
    for (const g of gop) if (g.absMs >= originMs) yield shift(g.frame, g.entry);
  }
}

function fmp4Response(plan: Plan): Response {
  const fragmenter = new Mp4Fragmenter(plan.tracks);
  const video = plan.tracks.find((t) => t.kind === "video") ?? plan.tracks[0]!;
  const frames = planFrames(plan);
  let started = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(fragmenter.init);
      }
      for (;;) {
        const next = await frames.next();
        if (next.done) {
          const last = fragmenter.end();
          if (last !== undefined) controller.enqueue(last.bytes);
          controller.close();
          return;
        }
        fragmenter.push(next.value);
        if (fragmenter.readySeconds(video.id) >= 1) {
          const f = fragmenter.flush();
          if (f !== undefined) {
            controller.enqueue(f.bytes);
            return;
          }
        }
      }
    },
    async cancel() {
      await frames.return(undefined);
    },
  });
  return new Response(body, {
    headers: { "Content-Type": "video/mp4", "Cache-Control": "no-cache" },
  });
}

async function mp4Response(req: Request, plan: Plan): Promise<Response> {
  const writer = new Mp4FileWriter(plan.tracks);
  for await (const frame of planFrames(plan)) writer.add(frame);
  const { header, size } = writer.finish();
  const range = parseRange(req.headers.get("Range"), size);
  const headers: Record<string, string> = {
    "Content-Type": "video/mp4",
    "Accept-Ranges": "bytes",
    "Cache-Control": "no-cache",
  };
  if (range === "unsatisfiable") {
    return new Response(null, {
      status: 416,
      headers: { ...headers, "Content-Range": `bytes */${size}` },
    });
  }
  const [first, last] = range ?? [0, size - 1];
  const frames = planFrames(plan);
  let pos = 0; // bytes of the file produced so far
  let sentHeader = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let chunk: Uint8Array;
        if (!sentHeader) {
          sentHeader = true;
          chunk = header;
        } else {
          const next = await frames.next();
          if (next.done) {
            controller.close();
            return;
          }
          chunk = writer.sample(next.value);
        }
        const start = pos;
        pos += chunk.length;
        if (pos <= first) continue;
        const from = Math.max(0, first - start);
        const to = Math.min(chunk.length, last + 1 - start);
        controller.enqueue(chunk.subarray(from, to));
        if (pos > last) {
          controller.close();
          await frames.return(undefined);
        }
        return;
      }
    },
    async cancel() {
      await frames.return(undefined);
    },
  });
  headers["Content-Length"] = String(last - first + 1);
  if (range === undefined) return new Response(body, { headers });
  headers["Content-Range"] = `bytes ${first}-${last}/${size}`;
  return new Response(body, { status: 206, headers });
}

/**
 * A single `bytes=` range of RFC 9110 §14.1.2 (`a-b`, `a-`, `-n`) within
 * `size`: `undefined` for none (or a form we do not serve, which gets the
 * whole file as the RFC allows), `"unsatisfiable"` for one past the end.
 */
export function parseRange(
  header: string | null,
  size: number,
): [number, number] | "unsatisfiable" | undefined {
  if (header === null) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    return [Math.max(0, size - n), size - 1];
  }
  const first = Number(m[1]);
  const last = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(first) || first >= size) return "unsatisfiable";
  if (last < first) return undefined;
  return [first, last];
}
