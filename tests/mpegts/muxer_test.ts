import assert from "node:assert/strict";
import fc from "fast-check";
import {
  crc32Mpeg,
  encodePat,
  encodePmt,
  pesHeader,
  readTimestamp,
  STREAM_TYPE,
  TS_PACKET_SIZE,
  TS_PID,
  TsMuxer,
  writeUnit,
} from "../../lib/mpegts/mod.ts";
import type { Track } from "../../lib/media/track.ts";
import { hex } from "../_util/bytes.ts";

const TRACKS: Track[] = [
  { kind: "video", id: 0, codec: "H264", clockRate: 90000 },
  {
    kind: "audio",
    id: 1,
    codec: "AAC",
    clockRate: 48000,
    sampleRate: 48000,
    channels: 2,
    config: hex("11 90"),
  },
];

Deno.test("crc32Mpeg of a section with its CRC appended is 0", () => {
  const pat = encodePat(1, 0x1000);
  assert.equal(crc32Mpeg(pat.subarray(1)), 0);
});

// ISO/IEC 13818-1 §2.4.4.3: the PAT ffmpeg writes for program 1, PMT PID 0x1000.
Deno.test("encodePat writes program 1 → PMT 0x1000 with its CRC", () => {
  assert.deepEqual(
    encodePat(1, 0x1000),
    hex("00 | 00 b00d | 0001 c1 00 00 | 0001 f000 | 2ab104b2"),
  );
});

Deno.test("encodePmt lists H.264 and AAC with the PCR on the video PID", () => {
  const pmt = encodePmt(1, 0x100, [
    { streamType: STREAM_TYPE.H264, pid: 0x100 },
    { streamType: STREAM_TYPE.AAC_ADTS, pid: 0x101 },
  ]);
  assert.deepEqual(
    pmt.subarray(0, 23),
    hex(
      "00 | 02 b017 | 0001 c1 00 00 | e100 f000 | 1b e100 f000 | 0f e101 f000",
    ),
  );
  assert.equal(crc32Mpeg(pmt.subarray(1)), 0);
});

// §2.4.3.7: PTS 0x1_0000_0001 with markers; DTS written only when it differs.
Deno.test("pesHeader writes 33-bit PTS and DTS with marker bits", () => {
  const h = pesHeader(0xe0, 100, 2 ** 32 + 1, 3000);
  assert.deepEqual(h.subarray(0, 9), hex("000001 e0 0071 84 c0 0a"));
  assert.equal(h[9]! >> 4, 0x3);
  assert.equal(readTimestamp(h, 9), 2 ** 32 + 1);
  assert.equal(readTimestamp(h, 14), 3000);
  const audio = pesHeader(0xc0, 10, 5, 5);
  assert.deepEqual(audio.subarray(0, 9), hex("000001 c0 0012 84 80 05"));
  assert.equal(readTimestamp(audio, 9), 5);
});

Deno.test("writeUnit pads the last packet with adaptation-field stuffing", () => {
  for (const size of [1, 182, 183, 184, 185, 366, 367, 368]) {
    const out = new Uint8Array(4 * TS_PACKET_SIZE);
    const payload = new Uint8Array(size).map((_, i) => i & 0xff);
    const next = writeUnit(out, 0, 0x100, 15, payload);
    const packets = Math.ceil(size / 184);
    assert.equal(next, (15 + packets) & 15);
    assert.deepEqual(
      reassemble(out.subarray(0, packets * 188), 0x100)[0],
      payload,
    );
  }
});

Deno.test("writeUnit writes a PCR and the random access flag on the first packet", () => {
  const out = new Uint8Array(TS_PACKET_SIZE);
  writeUnit(out, 0, 0x100, 0, new Uint8Array(10), {
    pcr: 90000 * 300 + 7,
    randomAccess: true,
  });
  assert.deepEqual(out.subarray(0, 6), hex("47 4100 30 | ad 50"));
  const base = out[6]! * 2 ** 25 + out[7]! * 2 ** 17 + out[8]! * 2 ** 9 +
    out[9]! * 2 + (out[10]! >> 7);
  assert.equal(base, 90000);
  assert.equal(((out[10]! & 1) << 8) | out[11]!, 7);
});

/** Payloads of units of `pid`, checking sync bytes and continuity counters. */
function reassemble(ts: Uint8Array, pid: number): Uint8Array[] {
  assert.equal(ts.length % TS_PACKET_SIZE, 0);
  const units: number[][] = [];
  let cc: number | undefined;
  for (let at = 0; at < ts.length; at += TS_PACKET_SIZE) {
    const p = ts.subarray(at, at + TS_PACKET_SIZE);
    assert.equal(p[0], 0x47);
    if ((((p[1]! & 0x1f) << 8) | p[2]!) !== pid) continue;
    const counter = p[3]! & 0x0f;
    if (cc !== undefined) assert.equal(counter, (cc + 1) & 15, "continuity");
    cc = counter;
    const field = p[3]! & 0x20 ? 1 + p[4]! : 0;
    const payload = p.subarray(4 + field);
    if (p[1]! & 0x40) units.push([]);
    units.at(-1)!.push(...payload);
  }
  return units.map((u) => new Uint8Array(u));
}

Deno.test("TsMuxer: random frames become whole packets whose PES carry the frames", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          video: fc.boolean(),
          size: fc.integer({ min: 1, max: 3000 }),
          step: fc.integer({ min: 0, max: 9000 }),
          keyframe: fc.boolean(),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      (frames) => {
        const muxer = new TsMuxer(TRACKS);
        const chunks = [muxer.tables()];
        let dts = 0;
        const videoSizes: number[] = [];
        const audioSizes: number[] = [];
        for (const f of frames) {
          dts += f.step;
          const unit = new Uint8Array(f.size).fill(0x41);
          unit[0] = f.keyframe ? 0x65 : 0x41;
          chunks.push(muxer.frame({
            trackId: f.video ? 0 : 1,
            dts: f.video ? dts : Math.round(dts * 48000 / 90000),
            pts: f.video ? dts + 3000 : Math.round(dts * 48000 / 90000),
            keyframe: f.video ? f.keyframe : true,
            units: [unit],
          }));
          (f.video ? videoSizes : audioSizes).push(f.size);
        }
        const ts = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) {
          ts.set(c, at);
          at += c.length;
        }
        const video = reassemble(ts, TS_PID.VIDEO);
        const audio = reassemble(ts, TS_PID.AUDIO);
        assert.equal(video.length, videoSizes.length);
        assert.equal(audio.length, audioSizes.length);
        video.forEach((pes, i) => {
          const headerSize = 9 + pes[8]!;
          // AUD (4 + 2) then the frame behind a start code
          assert.equal(pes.length - headerSize, 6 + 4 + videoSizes[i]!);
        });
        audio.forEach((pes, i) => {
          const headerSize = 9 + pes[8]!;
          const adts = pes.subarray(headerSize);
          assert.equal(adts[0], 0xff);
          const length = ((adts[3]! & 3) << 11) | (adts[4]! << 3) |
            (adts[5]! >> 5);
          assert.equal(length, 7 + audioSizes[i]!);
          assert.equal(pes.length - headerSize, length);
        });
      },
    ),
    { numRuns: 200 },
  );
});
