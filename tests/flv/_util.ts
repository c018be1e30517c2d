/** Helpers of the FLV tests: run files and tags through the stages. */
import { FlvDemuxer } from "../../lib/flv/file.ts";
import type { FlvEvent, FlvTag } from "../../lib/flv/tag.ts";
import { FlvTagDemuxer } from "../../lib/flv/tag_demuxer.ts";
import type { Frame, Track } from "../../lib/media/mod.ts";
import { collect } from "../_util/bytes.ts";

/** Bytes of a file under tests/testdata/. */
export function testdata(path: string): Uint8Array<ArrayBuffer> {
  return Deno.readFileSync(new URL(`../testdata/${path}`, import.meta.url));
}

/** The tags of an FLV file. */
export function tagsOf(file: Uint8Array): FlvTag[] {
  const out = collect<FlvTag>();
  const demuxer = new FlvDemuxer();
  demuxer.push(file, out);
  demuxer.end();
  return out.items;
}

/** Tags → events, with the demuxer for its counters. */
export function eventsOf(
  tags: FlvTag[],
): { events: FlvEvent[]; demuxer: FlvTagDemuxer } {
  const out = collect<FlvEvent>();
  const demuxer = new FlvTagDemuxer();
  for (const tag of tags) demuxer.push(tag, out);
  return { events: out.items, demuxer };
}

/** Tracks and frames of a list of events. */
export function split(
  events: FlvEvent[],
): { tracks: Track[]; frames: Frame[]; scripts: number } {
  const tracks: Track[] = [];
  const frames: Frame[] = [];
  let scripts = 0;
  for (const e of events) {
    if (e.kind === "track") tracks.push(e.track);
    else if (e.kind === "frame") frames.push(e.frame);
    else scripts++;
  }
  return { tracks, frames, scripts };
}

/** A video tag at `timestamp`. */
export function video(timestamp: number, data: Uint8Array): FlvTag {
  return { type: 9, timestamp, data };
}

/** An audio tag at `timestamp`. */
export function audio(timestamp: number, data: Uint8Array): FlvTag {
  return { type: 8, timestamp, data };
}
