import assert from "node:assert/strict";
import {
  RecordOutput,
  type SegmentSink,
  type SegmentStart,
} from "../../lib/record/record_output.ts";
import type {
  FilePatch,
  SegmentMuxer,
} from "../../lib/record/segment_muxer.ts";
import type { Frame } from "../../lib/media/frame.ts";
import type { Track } from "../../lib/media/track.ts";
import { Hub } from "../../lib/hub/hub.ts";

const VIDEO: Track = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: 90000,
  parameterSets: {
    sps: [new Uint8Array([0x67, 1])],
    pps: [new Uint8Array([0x68, 1])],
  },
};
const AUDIO: Track = {
  kind: "audio",
  id: 1,
  codec: "AAC",
  clockRate: 48000,
  sampleRate: 48000,
  channels: 2,
};

interface Seg {
  start: SegmentStart;
  frames: { trackId: number; dts: number; keyframe: boolean }[];
  parts: number;
  closedMs?: number;
  endSec?: number;
}

/** A muxer that remembers what it got, and a sink that keeps the segments. */
function fakes(options: { failing?: () => boolean } = {}) {
  const segments: Seg[] = [];
  let pending: Seg["frames"] = [];
  const muxer: SegmentMuxer = {
    extension: "mp4",
    open: () => new Uint8Array([1]),
    add: (_t, f) =>
      void pending.push({
        trackId: f.trackId,
        dts: f.dts,
        keyframe: f.keyframe,
      }),
    part(_last, endSec) {
      const seg = segments.at(-1)!;
      if (endSec !== undefined) seg.endSec = endSec;
      if (pending.length === 0) return undefined;
      seg.frames.push(...pending);
      pending = [];
      seg.parts++;
      return new Uint8Array([2]);
    },
    close: (): FilePatch[] => [],
  };
  let ended = false;
  const sink: SegmentSink = {
    canStart: () => !(options.failing?.() ?? false),
    get failed() {
      return options.failing?.() ?? false;
    },
    open: (start) => void segments.push({ start, frames: [], parts: 0 }),
    write: () => {},
    close: (_p, ms) => void (segments.at(-1)!.closedMs = ms),
    ended: () => void (ended = true),
  };
  return { segments, muxer, sink, ended: () => ended };
}

/** 25 fps video with a keyframe every `gop` frames, and 48 kHz AAC, for `seconds`. */
function* signal(seconds: number, gop = 25, start = 0): Generator<Frame> {
  let a = 0;
  for (let i = 0; i < seconds * 25; i++) {
    const dts = start + i * 3600;
    yield {
      trackId: 0,
      dts,
      pts: dts + 7200,
      keyframe: i % gop === 0,
      units: [new Uint8Array(10)],
    };
    while ((a * 1024) / 48000 <= (i + 1) / 25 && (a * 1024) / 48000 < seconds) {
      const adts = Math.round((start * 48000) / 90000) + a * 1024;
      yield {
        trackId: 1,
        dts: adts,
        pts: adts,
        keyframe: true,
        units: [new Uint8Array(5)],
      };
      a++;
    }
  }
}

Deno.test("RecordOutput cuts segments on the first keyframe past segmentDuration, with parts of partDuration", () => {
  const f = fakes();
  const out = new RecordOutput({
    muxer: f.muxer,
    sink: f.sink,
    partDurationMs: 1000,
    segmentDurationMs: 4000,
    now: () => 1_000_000,
  });
  out.tracks([VIDEO, AUDIO]);
  for (const frame of signal(10, 50)) out.frame(frame);
  out.end();
  assert.equal(f.segments.length, 3);
  assert.deepEqual(f.segments.map((s) => s.closedMs), [4000, 4000, 2000]);
  // Each segment starts on a keyframe at time 0 and its times start at 0.
  for (const s of f.segments) {
    const first = s.frames[0]!;
    assert.deepEqual([first.trackId, first.dts, first.keyframe], [0, 0, true]);
    assert.ok(s.frames.every((x) => x.dts >= 0));
    assert.ok(s.parts >= 2, `${s.parts} parts`);
  }
  // The last frame of a cut segment ends where the next one starts.
  assert.equal(f.segments[0]!.endSec, 4);
  // Consecutive segments meet exactly on the wall clock.
  assert.equal(
    f.segments[1]!.start.startMs,
    f.segments[0]!.start.startMs + 4000,
  );
  assert.equal(f.ended(), true);
  const video = f.segments.flatMap((s) => s.frames).filter((x) =>
    x.trackId === 0
  );
  assert.equal(video.length, 250, "every video frame recorded once");
});

Deno.test("RecordOutput starts only on a keyframe and starts a new segment when the codecs change", () => {
  const f = fakes();
  const out = new RecordOutput({
    muxer: f.muxer,
    sink: f.sink,
    segmentDurationMs: 60_000,
  });
  out.tracks([VIDEO]);
  out.frame({ trackId: 0, dts: 0, pts: 0, keyframe: false, units: [] });
  assert.equal(f.segments.length, 0);
  out.frame({ trackId: 0, dts: 3600, pts: 3600, keyframe: true, units: [] });
  out.frame({ trackId: 0, dts: 7200, pts: 7200, keyframe: false, units: [] });
  out.tracks([VIDEO]); // the same configuration again: nothing changes
  out.frame({ trackId: 0, dts: 10800, pts: 10800, keyframe: false, units: [] });
  assert.equal(f.segments.length, 1);
  out.tracks([{
    ...VIDEO,
    parameterSets: { sps: [new Uint8Array([0x67, 2])], pps: [] },
  }]);
  assert.equal(f.segments[0]!.closedMs !== undefined, true);
  out.frame({ trackId: 0, dts: 14400, pts: 14400, keyframe: false, units: [] });
  out.frame({ trackId: 0, dts: 18000, pts: 18000, keyframe: true, units: [] });
  out.end();
  assert.equal(f.segments.length, 2);
  assert.equal(f.segments[1]!.frames[0]!.dts, 0);
});

Deno.test("RecordOutput abandons a segment whose file failed and starts again when the sink allows", () => {
  let failing = false;
  const f = fakes({ failing: () => failing });
  const out = new RecordOutput({
    muxer: f.muxer,
    sink: f.sink,
    partDurationMs: 1000,
    segmentDurationMs: 60_000,
  });
  out.tracks([VIDEO]);
  const frames = [...signal(6, 25)].filter((x) => x.trackId === 0);
  frames.slice(0, 50).forEach((x) => out.frame(x));
  failing = true;
  frames.slice(50, 100).forEach((x) => out.frame(x));
  failing = false;
  frames.slice(100).forEach((x) => out.frame(x));
  out.end();
  assert.equal(f.segments.length, 2);
  assert.equal(
    f.segments[0]!.closedMs,
    undefined,
    "the failed segment is not closed as complete",
  );
  assert.equal(f.segments[1]!.frames[0]!.keyframe, true);
});

Deno.test("Recorder on the hub: a publisher back within the grace period continues the same segment", () => {
  const f = fakes();
  let timer: (() => void) | undefined;
  const out = new RecordOutput({
    muxer: f.muxer,
    sink: f.sink,
    segmentDurationMs: 60_000,
  });
  const hub = new Hub({
    publisherGracePeriodMs: 5000,
    timers: {
      setTimeout: (fn) => {
        timer = fn;
        return 1 as unknown as ReturnType<typeof setTimeout>;
      },
      clearTimeout: () => void (timer = undefined),
    },
    onPublish: (stream) => void stream.output("record", () => out),
  });
  let p = hub.publish("live/a");
  p.setTracks([VIDEO]);
  for (const x of signal(2, 25)) if (x.trackId === 0) p.writeFrame(x);
  p.close();
  assert.ok(
    timer !== undefined,
    "the recorder keeps the stream for the grace period",
  );
  p = hub.publish("live/a");
  p.setTracks([VIDEO]);
  for (const x of signal(2, 25, 900_000)) if (x.trackId === 0) p.writeFrame(x);
  p.close();
  timer!();
  assert.equal(f.segments.length, 1);
  const dts = f.segments[0]!.frames.map((x) => x.dts);
  assert.equal(dts.length, 100);
  assert.ok(
    dts.every((d, i) => i === 0 || d > dts[i - 1]!),
    "one rising timeline",
  );
  assert.ok(dts.at(-1)! < 5 * 90000, "no jump across the republish");
});
