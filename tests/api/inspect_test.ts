/**
 * The inspector's measures from known frame sequences, its tap life
 * (nothing when nobody asks), and its decoders against random bytes.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { codecConfig, trackView } from "../../lib/api/codec_config.ts";
import { patchConfig } from "../../lib/api/config_patch.ts";
import { Inspectors } from "../../lib/api/inspector.ts";
import { TrackMeter } from "../../lib/api/track_meter.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { Hub } from "../../lib/hub/hub.ts";
import type { Frame } from "../../lib/media/frame.ts";
import type { Track } from "../../lib/media/track.ts";
import { hex } from "../_util/bytes.ts";

const CLOCK = 90000;

function frame(
  dts: number,
  pts: number,
  keyframe: boolean,
  bytes = 1000,
): Frame {
  return { trackId: 0, dts, pts, keyframe, units: [new Uint8Array(bytes)] };
}

Deno.test("TrackMeter measures a fixed GOP at 25 fps paced in real time", () => {
  const m = new TrackMeter(CLOCK);
  for (let i = 0; i < 100; i++) {
    m.push(frame(i * 3600, i * 3600, i % 25 === 0), 1000 + i * 40);
  }
  const r = m.measures(1000 + 99 * 40, true);
  assert.equal(r.frames, 100);
  assert.equal(r.fpsReceived, 25);
  assert.equal(r.fpsTimestamps, 25);
  assert.deepEqual(r.gop, {
    keyframes: 4,
    meanFrames: 25,
    minFrames: 25,
    maxFrames: 25,
    meanSeconds: 1,
    spreadSeconds: 0,
  });
  assert.equal(r.jitterMs, 0);
  assert.equal(r.gaps, 0);
  assert.equal(r.reorderDepth, 0);
  // 99 000 bytes over 3.96 s
  assert.equal(r.bitrate, Math.round(100 * 1000 * 8000 / 3960));
});

Deno.test("TrackMeter finds B-frame reorder depth, gaps, steps back and jitter", () => {
  const m = new TrackMeter(CLOCK);
  // decode order I0 P3 B1 B2 P6 B4 B5 …: each B shows before the P decoded before it
  const order = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8];
  order.forEach((p, i) => m.push(frame(i * 3600, p * 3600, i === 0), i * 40));
  assert.equal(m.measures(400, true).reorderDepth, 1);
  const g = new TrackMeter(CLOCK);
  for (let i = 0; i < 20; i++) {
    const dts = (i < 10 ? i : i + 20) * 3600; // 20 frames missing after the 10th
    g.push(frame(dts, dts, false), i * 40 + (i % 2) * 15); // every other one late
  }
  g.push(frame(19 * 3600, 19 * 3600, false), 900); // a step back
  const r = g.measures(900, true);
  assert.equal(r.gaps, 1);
  assert.equal(r.nonIncreasing, 1);
  assert.ok(r.jitterMs > 5, String(r.jitterMs));
  assert.equal(r.maxStepMs, 840);
});

Deno.test("TrackMeter keeps only its window and its frame bound", () => {
  const m = new TrackMeter(CLOCK, { windowMs: 1000, maxFrames: 100 });
  for (let i = 0; i < 10_000; i++) m.push(frame(i * 3600, i * 3600, false), i);
  const r = m.measures(9999, true);
  assert.ok(r.frames <= 100 + 64, String(r.frames));
});

const H264: Track = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: CLOCK,
  parameterSets: {
    // ffmpeg 5.1 -f lavfi -i testsrc2=size=320x240:rate=25 -c:v libx264
    // -profile:v baseline -f h264: Constrained Baseline level 1.3, VUI timing 25 fps
    sps: [
      hex(
        "67 42 c0 0d d9 01 41 fb 01 10 00 00 03 00 10 00 00 03 03 20 f1 42 a4 80",
      ),
    ],
    pps: [hex("68 cb 83 cb 20")],
  },
};

Deno.test("Inspectors tap a stream only while asked, and decode its codec configuration", () => {
  let now = 0;
  const hub = new Hub();
  const pub = hub.publish("live/x");
  pub.setTrack(H264);
  const ins = new Inspectors({ trackView, now: () => now, idleMs: 1000 });
  assert.equal(ins.watch(hub.stream("live/x")!), true);
  assert.equal(ins.watch(hub.stream("live/x")!), false);
  for (let i = 0; i < 50; i++) {
    now = i * 40;
    pub.writeFrame(frame(i * 3600, i * 3600, i % 25 === 0));
  }
  const view = ins.view("live/x")!;
  assert.equal(view.tracks[0]!.frames, 50);
  assert.equal(view.tracks[0]!.track.width, 320);
  assert.equal(view.tracks[0]!.track.height, 240);
  assert.equal(view.tracks[0]!.track.fps, 25);
  assert.equal(view.tracks[0]!.track.profile, "Constrained Baseline");
  const sps = (view.tracks[0]!.codecConfig.sps as { profileIdc: number }[])[0]!;
  assert.equal(sps.profileIdc, 66);
  now += 2000;
  ins.sweep();
  assert.equal(ins.size, 0);
  pub.writeFrame(frame(50 * 3600, 50 * 3600, false)); // no tap left to call
  assert.equal(ins.view("live/x"), undefined);
  ins.close();
  hub.close();
});

Deno.test("codecConfig and trackView give a view, never a throw, for random parameter sets", () => {
  const bytes = fc.uint8Array({ minLength: 0, maxLength: 64 });
  fc.assert(
    fc.property(bytes, bytes, bytes, fc.boolean(), (sps, pps, asc, h265) => {
      const video: Track = {
        kind: "video",
        id: 0,
        codec: h265 ? "H265" : "H264",
        clockRate: CLOCK,
        parameterSets: { vps: [sps], sps: [sps], pps: [pps] },
      };
      const audio: Track = {
        kind: "audio",
        id: 1,
        codec: "AAC",
        clockRate: 44100,
        sampleRate: 44100,
        channels: 2,
        config: asc,
      };
      for (const t of [video, audio]) {
        JSON.stringify(codecConfig(t));
        assert.equal(trackView(t).codec, t.codec);
      }
      const record: Track = { ...video, parameterSets: undefined, record: sps };
      trackView(record);
      codecConfig(record);
    }),
    { numRuns: 500 },
  );
});

Deno.test("patchConfig answers a configuration or field errors for any JSON", () => {
  const current = parseConfig({});
  fc.assert(
    fc.property(fc.jsonValue(), (patch) => {
      const r = patchConfig(current, patch);
      if (!r.ok) {
        assert.ok(r.errors.length > 0);
        for (const e of r.errors) assert.equal(typeof e.expected, "string");
      }
    }),
    { numRuns: 300 },
  );
});
