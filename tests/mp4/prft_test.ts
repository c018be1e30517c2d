import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeInitSegment, mp4Tracks } from "../../lib/mp4/mod.ts";
import { decodePrft, encodePrft, wallClockStart } from "../../lib/mp4/prft.ts";
import { concat } from "@std/bytes";
import { parseBoxes, viewOf } from "./_boxes.ts";
import { aacTrack, h264Track } from "./_tracks.ts";

const T0 = Date.UTC(2026, 11, 4, 10, 15, 0, 250);

// ISO/IEC 14496-12 §8.16.5: version 1, flags 24 (as ffmpeg -write_prft wallclock) | track_ID | NTP (seconds since 1900, fraction) | media_time (64)
Deno.test("encodePrft writes version 1, flags 24 with NTP time and a 64-bit media time", () => {
  const b = encodePrft({ referenceTrackId: 1, utcMs: T0, mediaTime: 90000 });
  assert.equal(b.length, 32);
  const [prft] = parseBoxes(b);
  assert.equal(prft!.type, "prft");
  const v = viewOf(prft!);
  assert.equal(v.getUint32(0), 0x01000018);
  assert.equal(v.getUint32(4), 1);
  assert.equal(v.getUint32(8), Math.floor(T0 / 1000) + 2_208_988_800);
  assert.equal(v.getUint32(12), 2 ** 30); // .25 s
  assert.equal(v.getUint32(20), 90000);
});

Deno.test("decodePrft reads what encodePrft wrote, to a microsecond", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.integer({ min: 1, max: 0xffff }),
      fc.integer({ min: 0, max: 2 ** 50 }),
      (ms, id, mediaTime) => {
        const utcMs = ms + 0.5;
        const p = decodePrft(
          encodePrft({ referenceTrackId: id, utcMs, mediaTime }).subarray(8),
        )!;
        assert.equal(p.referenceTrackId, id);
        assert.equal(p.mediaTime, mediaTime);
        assert.ok(Math.abs(p.utcMs - utcMs) < 0.001, `${p.utcMs} ${utcMs}`);
      },
    ),
  );
});

function recordingHead(startSeconds?: number): Uint8Array {
  const tracks = mp4Tracks([h264Track(), aacTrack()]);
  const init = encodeInitSegment(tracks, {
    ...(startSeconds !== undefined
      ? { presentationStartSeconds: startSeconds }
      : {}),
  });
  // the second fragment: media time 1 s of track 1 (90 kHz) at T0 + 1 s
  const prft = encodePrft({
    referenceTrackId: 1,
    utcMs: T0 + 1000,
    mediaTime: 90000,
  });
  const moof = new Uint8Array([0, 0, 0, 8, 0x6d, 0x6f, 0x6f, 0x66]);
  return concat([init, prft, moof]);
}

Deno.test("wallClockStart maps presentation 0 through the prft and the edit list", () => {
  assert.equal(wallClockStart(recordingHead()), T0);
  // the presentation starts 80 ms into the media: its time 0 is 80 ms later
  assert.ok(Math.abs(wallClockStart(recordingHead(0.08))! - (T0 + 80)) < 1e-6);
});

Deno.test("wallClockStart has no answer for a file without prft or cut before it", () => {
  const init = encodeInitSegment(mp4Tracks([h264Track()]));
  const moof = new Uint8Array([0, 0, 0, 8, 0x6d, 0x6f, 0x6f, 0x66]);
  assert.equal(wallClockStart(concat([init, moof])), undefined);
  const head = recordingHead();
  assert.equal(wallClockStart(head.subarray(0, head.length - 20)), undefined);
  assert.equal(wallClockStart(new Uint8Array(0)), undefined);
});

Deno.test("wallClockStart gives a number or nothing for random and mutated bytes", () => {
  const head = recordingHead(0.04);
  const mutated = fc.tuple(
    fc.array(fc.tuple(fc.nat(head.length - 1), fc.nat(255)), {
      maxLength: 8,
    }),
    fc.nat(head.length),
  ).map(([edits, cut]) => {
    const b = head.slice(0, cut);
    for (const [at, v] of edits) if (at < b.length) b[at] = v;
    return b;
  });
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated),
      (bytes) => {
        const t = wallClockStart(bytes);
        assert.ok(t === undefined || typeof t === "number");
      },
    ),
    { numRuns: 3000 },
  );
});
