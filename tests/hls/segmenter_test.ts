import assert from "node:assert/strict";
import { HlsSegmenter } from "../../lib/hls/segmenter.ts";
import { codecStrings, type HlsVariant } from "../../lib/hls/part_writer.ts";
import { renderMediaPlaylist } from "../../lib/hls/playlist.ts";
import type { Track } from "../../lib/media/track.ts";
import type { Frame } from "../../lib/media/frame.ts";
import { hex } from "../_util/bytes.ts";

const SPS = hex("67 42c01e d9 00 a0 47 fe c8");
const PPS = hex("68 ce 3c 80");
const VIDEO: Track = {
  kind: "video",
  id: 0,
  codec: "H264",
  clockRate: 90000,
  width: 320,
  height: 240,
  parameterSets: { sps: [SPS], pps: [PPS] },
};
const AUDIO: Track = {
  kind: "audio",
  id: 1,
  codec: "AAC",
  clockRate: 48000,
  sampleRate: 48000,
  channels: 2,
  config: hex("11 90"),
};
const PCMA: Track = {
  kind: "audio",
  id: 2,
  codec: "PCMA",
  clockRate: 8000,
  sampleRate: 8000,
  channels: 1,
};

/** 25 fps video with a keyframe every `gop` frames, and 48 kHz AAC, for `seconds`. */
function* frames(seconds: number, gop = 25, from = 0): Generator<Frame> {
  let audio = 0;
  for (let i = 0; i < seconds * 25; i++) {
    const dts = (from + i) * 3600;
    yield {
      trackId: 0,
      dts,
      pts: dts,
      keyframe: i % gop === 0,
      units: [hex(i % gop === 0 ? "65 88 84" : "41 9a 02")],
    };
    while (audio * 1024 * 90000 / 48000 <= dts) {
      const t = (Math.round(from * 3600 * 48000 / 90000 / 1024) + audio) *
        1024;
      yield {
        trackId: 1,
        dts: t,
        pts: t,
        keyframe: true,
        units: [hex("21 10 04")],
      };
      audio++;
    }
  }
}

function segmenter(variant: HlsVariant = "lowLatency", left: Track[] = []) {
  return new HlsSegmenter({
    variant,
    prefix: "abc",
    segmentCount: 3,
    onTrackLeftOut: (t) => left.push(t),
  });
}

Deno.test("HlsSegmenter cuts 200 ms parts and 1 s segments on keyframes", () => {
  const s = segmenter();
  s.setTracks([VIDEO, AUDIO]);
  assert.equal(s.ready, false);
  let now = 1_000_000;
  for (const f of frames(2.1)) s.frame(f, now += 10);
  assert.equal(s.lastMsn, 2);
  assert.ok(s.segment(0) !== undefined && s.segment(1) !== undefined);
  assert.equal(s.part(0, 4)!.length > 0, true);
  assert.equal(s.part(0, 5), undefined);
  const text = s.playlist("", renderMediaPlaylist);
  assert.match(text, /#EXT-X-MAP:URI="abc_init1.mp4"/);
  assert.equal(text.match(/#EXTINF:1.0,/g)?.length, 2);
  assert.match(text, /URI="abc_0_0.mp4",INDEPENDENT=YES/);
  assert.match(text, /#EXT-X-PART:DURATION=0.2,URI="abc_1_4.mp4"\n/);
  assert.match(text, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="abc_2_0.mp4"/);
  // the segment is its parts, byte for byte
  const parts = [0, 1, 2, 3, 4].map((i) => s.part(1, i)!);
  assert.equal(parts.reduce((n, p) => n + p.length, 0), s.segment(1)!.length);
  assert.ok(s.has(1, 4) && s.has(1) && !s.has(2) && !s.has(2, 0));
});

Deno.test("HlsSegmenter keeps a sliding window and drops old inits", () => {
  const s = segmenter();
  s.setTracks([VIDEO, AUDIO]);
  let now = 0;
  for (const f of frames(6.1)) s.frame(f, now += 10);
  assert.equal(s.segment(2), undefined);
  assert.ok(s.segment(3) && s.segment(5));
  const text = s.playlist("", renderMediaPlaylist);
  assert.match(text, /#EXT-X-MEDIA-SEQUENCE:3\n/);
  assert.ok(s.bytes > 0);
});

Deno.test("HlsSegmenter marks a discontinuity on a new publisher and keeps numbering", () => {
  const s = segmenter();
  s.setTracks([VIDEO, AUDIO]);
  let now = 0;
  for (const f of frames(2.1)) s.frame(f, now += 10);
  s.discontinuity();
  for (const f of frames(2.1, 25, 60)) s.frame(f, now += 10);
  const text = s.playlist("", renderMediaPlaylist);
  assert.match(text, /abc_2\.mp4\n#EXT-X-DISCONTINUITY\n/);
  assert.equal(s.lastMsn, 5);
  // new codec parameters: a new init segment after a discontinuity
  s.setTracks([
    {
      ...VIDEO,
      parameterSets: { sps: [hex("67 42c01f d9 00 a0 47 fe c8")], pps: [PPS] },
    },
    AUDIO,
  ]);
  for (const f of frames(1.1, 25, 120)) s.frame(f, now += 10);
  const after = s.playlist("", renderMediaPlaylist);
  assert.match(after, /#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="abc_init2.mp4"/);
  assert.ok(s.init(2) !== undefined);
});

Deno.test("HlsSegmenter leaves out a track HLS cannot carry, once", () => {
  const left: Track[] = [];
  const s = segmenter("lowLatency", left);
  s.setTracks([VIDEO, PCMA]);
  s.setTracks([VIDEO, PCMA]);
  assert.deepEqual(left.map((t) => t.codec), ["PCMA"]);
  assert.deepEqual(codecStrings(s.tracks), ["avc1.42C01E"]);
});

Deno.test("HlsSegmenter MPEG-TS: segments start with PAT and PMT and count whole packets", () => {
  const s = segmenter("mpegts");
  s.setTracks([VIDEO, AUDIO]);
  let now = 0;
  for (const f of frames(3.1)) s.frame(f, now += 10);
  for (const msn of [0, 1]) {
    const seg = s.segment(msn)!;
    assert.equal(seg.length % 188, 0);
    assert.deepEqual([...seg.subarray(0, 3)], [0x47, 0x40, 0x00]); // PAT
    assert.deepEqual([...seg.subarray(188, 191)], [0x47, 0x50, 0x00]); // PMT
  }
  const text = s.playlist("", renderMediaPlaylist);
  assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:3\n/);
  assert.ok(text.includes("abc_1.ts") && !text.includes("EXT-X-PART"));
});

Deno.test("HlsSegmenter bounds a segment that never sees a keyframe", () => {
  const s = new HlsSegmenter({ prefix: "x", maxBytes: 50_000 });
  s.setTracks([VIDEO]);
  const big = new Uint8Array(5000).fill(0x41);
  s.frame(
    { trackId: 0, dts: 0, pts: 0, keyframe: true, units: [hex("65 00")] },
    0,
  );
  for (let i = 1; i < 200; i++) {
    s.frame({
      trackId: 0,
      dts: i * 3600,
      pts: i * 3600,
      keyframe: false,
      units: [big],
    }, i);
  }
  assert.ok(s.bytes <= 60_000, `${s.bytes} bytes`);
});

Deno.test("HlsSegmenter waits for H.264 parameter sets instead of throwing", () => {
  const reasons: string[] = [];
  const s = new HlsSegmenter({
    prefix: "p",
    onUnwritable: (r) => reasons.push(r),
  });
  s.setTracks([{ ...VIDEO, parameterSets: undefined }]);
  s.frame(
    { trackId: 0, dts: 0, pts: 0, keyframe: true, units: [hex("65")] },
    0,
  );
  assert.equal(s.ready, false);
  assert.equal(reasons.length, 1);
  s.setTracks([VIDEO, AUDIO]);
  let now = 0;
  for (const f of frames(1.1)) s.frame(f, now += 10);
  assert.ok(s.segment(0) !== undefined);
});

Deno.test("HlsSegmenter closes its first segment at the first keyframe a part on, then keeps the segment target", () => {
  // A keyframe every 12 frames (480 ms), segments of at least 1 s.
  const s = segmenter();
  s.setTracks([VIDEO, AUDIO]);
  let now = 0;
  for (const f of frames(3.3, 12)) s.frame(f, now += 10);
  const text = s.playlist("", renderMediaPlaylist);
  const extinf = [...text.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => m[1]);
  // 0.48 s (the first keyframe after the start), then at least 1 s: 3 GOPs
  assert.deepEqual(extinf, ["0.48", "1.44"]);
});

// VP9 bitstream §6.2: frame marker, profile 0, key frame, shown | sync code
// 49 83 42 | color space BT.601, studio range | width - 1, height - 1 (16 bits each)
const VP9_KEY = hex("82 | 49 83 42 | 20 13 f0 0e f0 00");

Deno.test("HlsSegmenter writes a VP9 init segment with the size of the first keyframe (FLV and RTP carry none)", () => {
  const vp9: Track = {
    kind: "video",
    id: 0,
    codec: "VP9",
    clockRate: 90000,
    // vpcC version 1 (VP codec ISOBMFF binding §2.2): profile 0, level 2.1, 8 bits, 4:2:0
    record: hex("01000000 | 00 15 82 01 01 01 | 0000"),
  };
  const s = segmenter("fmp4");
  s.setTracks([vp9]);
  for (let i = 0; i < 30; i++) {
    const key = i % 25 === 0;
    s.frame({
      trackId: 0,
      dts: i * 3600,
      pts: i * 3600,
      keyframe: key,
      units: [key ? VP9_KEY : hex("86 00 40")],
    }, i * 40);
  }
  const video = s.tracks[0]!;
  assert.deepEqual(
    video.kind === "video" ? [video.width, video.height] : [],
    [320, 240],
  );
  const init = s.init(1)!;
  const at = findType(init, "vp09");
  // VisualSampleEntry (ISO/IEC 14496-12 §12.1.3): width and height 28 and 30 bytes after the type
  const view = new DataView(init.buffer, init.byteOffset);
  assert.deepEqual([view.getUint16(at + 28), view.getUint16(at + 30)], [
    320,
    240,
  ]);
});

/** Where the four-character box type `type` stands in `bytes`. */
function findType(bytes: Uint8Array, type: string): number {
  const want = new TextEncoder().encode(type);
  for (let i = 0; i + 4 <= bytes.length; i++) {
    if (want.every((b, k) => bytes[i + k] === b)) return i;
  }
  throw new Error(`no ${type}`);
}
