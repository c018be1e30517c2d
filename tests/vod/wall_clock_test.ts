import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import { FlvSegmentMuxer } from "../../lib/record/flv_segment.ts";
import { Fmp4SegmentMuxer } from "../../lib/record/fmp4_segment.ts";
import type { SegmentMuxer } from "../../lib/record/segment_muxer.ts";
import type { Frame } from "../../lib/media/frame.ts";
import type { Track } from "../../lib/media/track.ts";
import { VodFolder } from "../../lib/vod/folder.ts";
import { aacTrack, h264Track } from "../mp4/_tracks.ts";

const VIDEO = h264Track("h264_1920x1080.h264", 0);
const AUDIO = aacTrack(1);
const TRACKS: Track[] = [VIDEO, AUDIO];
const START_MS = Date.UTC(2026, 11, 4, 10, 15, 0, 500);

/** 2 s of 25 fps video (2 frames of B-frame delay) with AAC, as a recorder writes it. */
function recording(muxer: SegmentMuxer, startMs?: number): Uint8Array {
  const frames: [Track, Frame][] = [];
  for (let i = 0; i < 50; i++) {
    const key = i % 25 === 0;
    const nal = new Uint8Array(120).fill(i);
    nal[0] = key ? 0x65 : 0x41;
    frames.push([VIDEO, {
      trackId: 0,
      dts: i * 3600,
      pts: i * 3600 + 7200,
      keyframe: key,
      units: [nal],
    }]);
    if (i % 2 === 0) {
      const a = i / 2;
      frames.push([AUDIO, {
        trackId: 1,
        dts: a * 1024 * 2,
        pts: a * 1024 * 2,
        keyframe: true,
        units: [new Uint8Array(20).fill(a)],
      }]);
    }
  }
  const chunks = [
    muxer.open(
      TRACKS,
      undefined,
      startMs === undefined
        ? undefined
        : { startMs, first: { track: VIDEO, frame: frames[0]![1] } },
    ),
  ];
  for (const [t, f] of frames) muxer.add(t, f);
  chunks.push(muxer.part(true, 2)!);
  const file = concat(chunks);
  for (const p of muxer.close(2)) file.set(p.bytes, p.offset);
  return file;
}

Deno.test("VOD sources read a recording's wall-clock start from the file: fMP4 prft, FLV creationdate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-vodclock-" });
  try {
    await Deno.writeFile(
      `${dir}/a.mp4`,
      recording(new Fmp4SegmentMuxer(), START_MS),
    );
    await Deno.writeFile(
      `${dir}/a.flv`,
      recording(new FlvSegmentMuxer(), START_MS),
    );
    const folder = new VodFolder(dir);
    const mp4 = await folder.open("a.mp4");
    const flv = await folder.open("a.flv");
    try {
      // fMP4: presentation 0 is the first picture, 80 ms into the media
      assert.equal(mp4.source.wallClockStartMs, START_MS + 80);
      // FLV: time 0 is the first tag's timestamp, the segment's start
      assert.equal(flv.source.wallClockStartMs, START_MS);
    } finally {
      mp4.release();
      flv.release();
    }
    // the same media written with no start known (no prft, no creationdate)
    await Deno.writeFile(`${dir}/b.mp4`, recording(new Fmp4SegmentMuxer()));
    await Deno.writeFile(`${dir}/b.flv`, recording(new FlvSegmentMuxer()));
    for (const name of ["b.mp4", "b.flv"]) {
      const f = await folder.open(name);
      assert.ok(f.source.durationSeconds > 1.5, name);
      assert.equal(f.source.wallClockStartMs, undefined, name);
      f.release();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
