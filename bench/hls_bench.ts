/**
 * HLS: 10 s of 25 fps video (20 KB frames: 4 Mbit/s, a keyframe a second) and
 * 48 kHz AAC (300 B frames) cut into LL-HLS parts and segments, as fMP4 and
 * as MPEG-TS; and one LL-HLS playlist render. Bytes per iteration ≈ 5.1 MB.
 */
import { HlsSegmenter } from "../lib/hls/segmenter.ts";
import type { HlsVariant } from "../lib/hls/part_writer.ts";
import { renderMediaPlaylist } from "../lib/hls/playlist.ts";
import type { Frame } from "../lib/media/frame.ts";
import type { Track } from "../lib/media/track.ts";

const SPS = new Uint8Array([
  0x67,
  0x42,
  0xc0,
  0x1e,
  0xd9,
  0,
  0xa0,
  0x47,
  0xfe,
  0xc8,
]);
const PPS = new Uint8Array([0x68, 0xce, 0x3c, 0x80]);
const TRACKS: Track[] = [
  {
    kind: "video",
    id: 0,
    codec: "H264",
    clockRate: 90000,
    parameterSets: { sps: [SPS], pps: [PPS] },
  },
  {
    kind: "audio",
    id: 1,
    codec: "AAC",
    clockRate: 48000,
    sampleRate: 48000,
    channels: 2,
    config: new Uint8Array([0x11, 0x90]),
  },
];

const FRAMES: Frame[] = [];
{
  const video = new Uint8Array(20_000).fill(0x41);
  const key = new Uint8Array(20_000).fill(0x65);
  const audio = new Uint8Array(300).fill(0x21);
  let a = 0;
  for (let i = 0; i < 250; i++) {
    const dts = i * 3600;
    FRAMES.push({
      trackId: 0,
      dts,
      pts: dts,
      keyframe: i % 25 === 0,
      units: [i % 25 === 0 ? key : video],
    });
    while ((a * 1024 * 90000) / 48000 <= dts) {
      FRAMES.push({
        trackId: 1,
        dts: a * 1024,
        pts: a * 1024,
        keyframe: true,
        units: [audio],
      });
      a++;
    }
  }
}

function run(variant: HlsVariant): HlsSegmenter {
  const s = new HlsSegmenter({ variant, prefix: "bench000" });
  s.setTracks(TRACKS);
  let now = 0;
  for (const f of FRAMES) s.frame(f, now += 10);
  return s;
}

const group = "HLS segmenter, 10 s of 4 Mbit/s video + AAC (5.1 MB)";
Deno.bench({ group, name: "LL-HLS fMP4", baseline: true }, () => {
  run("lowLatency");
});
Deno.bench({ group, name: "MPEG-TS" }, () => {
  run("mpegts");
});

const full = run("lowLatency");
Deno.bench("LL-HLS media playlist render (7 segments, 35 parts)", () => {
  full.playlist(String(Math.random()), renderMediaPlaylist);
});
