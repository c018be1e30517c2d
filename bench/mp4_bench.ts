// MP4 stage. One fragment: 1 s of a 2.5 Mbit/s stream, 25 H.264 frames of
// 3 NAL units (≈ 12.5 KB each) + 42 AAC frames of 370 B ≈ 330 KB, B-frame
// composition offsets. Progressive: 60 s of the same (1 500 + 2 583 frames ≈ 19.7 MB).
import {
  encodeInitSegment,
  Mp4FileWriter,
  Mp4Fragmenter,
  mp4Tracks,
} from "../lib/mp4/mod.ts";
import type { AudioTrack, Frame, VideoTrack } from "../lib/media/mod.ts";

const video: VideoTrack = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: 90000,
  parameterSets: {
    sps: [new Uint8Array([0x67, 0x42, 0x00, 0x0b, 0xed, 0x05, 0x89, 0xc8])],
    pps: [new Uint8Array([0x68, 0xce, 0x38, 0x80])],
  },
};
const audio: AudioTrack = {
  kind: "audio",
  id: 1,
  codec: "AAC",
  clockRate: 44100,
  sampleRate: 44100,
  channels: 2,
  config: new Uint8Array([0x12, 0x10]),
};

/** `seconds` of interleaved frames in decode order. */
function stream(seconds: number): Frame[] {
  const out: Frame[] = [];
  const body = new Uint8Array(12_500 - 40).fill(0x5a);
  const au = new Uint8Array(370).fill(0x21);
  let a = 0;
  for (let i = 0; i < 25 * seconds; i++) {
    const dts = i * 3600;
    out.push({
      trackId: 0,
      dts,
      pts: dts + 7200 + (i % 3) * 3600,
      keyframe: i % 25 === 0,
      units: [new Uint8Array(20), new Uint8Array(20), body],
    });
    for (; (a * 1024) / 44100 <= dts / 90000; a++) {
      out.push({
        trackId: 1,
        dts: a * 1024,
        pts: a * 1024,
        keyframe: true,
        units: [au],
      });
    }
  }
  return out;
}

const oneSecond = stream(1);
const minute = stream(60);
const bytes = (frames: Frame[]) =>
  frames.reduce((n, f) => n + f.units.reduce((m, u) => m + u.length, 0), 0);

Deno.bench({
  group: `mp4 fragment (1 s, ${(bytes(oneSecond) / 1e6).toFixed(2)} MB)`,
  name: "Mp4Fragmenter push + flush",
  baseline: true,
}, () => {
  const f = new Mp4Fragmenter([video, audio]);
  for (const frame of oneSecond) f.push(frame);
  f.end();
});

Deno.bench({
  group: `mp4 fragment (1 s, ${(bytes(oneSecond) / 1e6).toFixed(2)} MB)`,
  name: "init segment",
}, () => {
  encodeInitSegment(mp4Tracks([video, audio]));
});

Deno.bench({
  group: `mp4 progressive (60 s, ${(bytes(minute) / 1e6).toFixed(1)} MB)`,
  name: "Mp4FileWriter two passes",
  baseline: true,
}, () => {
  const w = new Mp4FileWriter([video, audio]);
  for (const frame of minute) w.add(frame);
  w.finish();
  for (const frame of minute) w.sample(frame);
});

Deno.bench({
  group: `mp4 progressive (60 s, ${(bytes(minute) / 1e6).toFixed(1)} MB)`,
  name: "index only (pass 1 + moov)",
}, () => {
  const w = new Mp4FileWriter([video, audio]);
  for (const frame of minute) w.add(frame);
  w.finish();
});
