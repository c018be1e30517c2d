import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkMovieBox,
  checkMp4Boxes,
  looksLikeMp4,
} from "../../lib/vod/_mp4_guard.ts";
import { VodError, VodFolder } from "../../lib/vod/folder.ts";
import { VodFormatError } from "../../lib/vod/source.ts";
import { hostileMp4s, mp4File } from "../_util/mp4_hostile.ts";
import { spawn } from "../_util/process.ts";
import { requireTool } from "../_util/tools.ts";

const reader = (b: Uint8Array) => (offset: number, length: number) =>
  Promise.resolve(b.subarray(offset, offset + length));

/** What each hostile file is refused for. */
const REASONS: Record<string, RegExp> = {
  "moov-larger-than-file.mp4":
    /"moov" at byte 24 of 2147483632 bytes runs past the end/,
  "moov-smaller-than-header.mp4":
    /"moov" .* of 4 bytes is smaller than its header/,
  "moov-size-64-overflow.mp4": /"moov" .* runs past the end/,
  "size-0-before-moov.mp4": /"free" .* size 0 \(to the end\) before any moov/,
  "trak-overruns-moov.mp4":
    /"trak" in "moov" of 16777215 bytes overruns its parent/,
  "stsz-2-31.mp4": /stsz claims 2147483648 samples/,
  "stts-2-31.mp4": /stts claims 2147483648 entries/,
  "stts-2-31-samples.mp4": /stts times 2147483648 samples but stsz has 50/,
  "stsc-2-31.mp4": /stsc claims 2147483648 entries/,
  "stco-2-31.mp4": /stco claims 2147483648 entries/,
  "stco-at-moov.mp4": /stco points at byte 24, inside the moov/,
  "stco-beyond-file.mp4": /stco points at byte 2147483632, past the end/,
  "moov-truncated.mp4": /"moov" .* runs past the end \(224\)/,
};

Deno.test("checkMp4Boxes passes the hand-built sound file", async () => {
  const good = mp4File();
  assert.ok(looksLikeMp4(good));
  await checkMp4Boxes(reader(good), good.length);
});

for (const [name, bytes] of Object.entries(hostileMp4s())) {
  const reason = REASONS[name];
  if (reason === undefined) continue; // not ISO BMFF: the demuxer refuses it
  Deno.test(`checkMp4Boxes refuses ${name} and says why`, async () => {
    assert.ok(looksLikeMp4(bytes));
    await assert.rejects(checkMp4Boxes(reader(bytes), bytes.length), (e) => {
      assert.ok(e instanceof VodFormatError);
      assert.match(e.message, reason);
      return true;
    });
  });
}

Deno.test("checkMp4Boxes refuses a chunk of more samples than the track has (the fuzz found 2^24 took a demuxer seconds)", async () => {
  const good = mp4File();
  const v = new DataView(good.buffer, good.byteOffset, good.byteLength);
  // the first stsc entry's samples_per_chunk: after size, type, version and flags, count, first_chunk
  const at = indexOfType(good, "stsc") - 4 + 20;
  for (const perChunk of [0x01000000, 0xffffffff]) {
    const bad = good.slice();
    new DataView(bad.buffer).setUint32(at, perChunk);
    await assert.rejects(
      checkMp4Boxes(reader(bad), bad.length),
      /stsc puts \d+ samples in a chunk; stsz has \d+/,
    );
  }
  assert.ok(v.getUint32(at) > 0, "the sound file's own entry is read there");
});

/** Where the four-character `type` first stands in `b`. */
function indexOfType(b: Uint8Array, type: string): number {
  const t = new TextEncoder().encode(type);
  for (let i = 0; i + 4 <= b.length; i++) {
    if (t.every((x, k) => b[i + k] === x)) return i;
  }
  throw new Error(`no ${type}`);
}

Deno.test("checkMp4Boxes tolerates a cut last mdat after the moov", async () => {
  const good = mp4File();
  const cut = good.subarray(0, good.length - 30);
  await checkMp4Boxes(reader(cut), cut.length);
});

Deno.test("checkMovieBox and checkMp4Boxes give VodFormatError or pass for any mutation", async () => {
  const good = mp4File();
  const moovAt = new DataView(good.buffer).getUint32(0);
  const moovSize = new DataView(good.buffer).getUint32(moovAt);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.nat(good.length),
      async (flips, cut) => {
        const b = good.slice(0, Math.max(cut, 8));
        for (const [i, v] of flips) if (i < b.length) b[i] = v;
        const t0 = performance.now();
        try {
          await checkMp4Boxes(reader(b), b.length);
          const moov = b.subarray(moovAt, moovAt + moovSize);
          if (moov.length === moovSize) checkMovieBox(moov, moovAt, b.length);
        } catch (e) {
          if (!(e instanceof VodFormatError)) throw e;
        }
        assert.ok(performance.now() - t0 < 200, "bounded time");
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("checkMovieBox takes random bytes after a moov header", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
      const moov = new Uint8Array(8 + body.length);
      new DataView(moov.buffer).setUint32(0, moov.length);
      moov.set([0x6d, 0x6f, 0x6f, 0x76], 4);
      moov.set(body, 8);
      try {
        checkMovieBox(moov, 0, 1000);
      } catch (e) {
        if (!(e instanceof VodFormatError)) throw e;
      }
    }),
  );
});

Deno.test({
  name:
    "VodFolder opens a mutated MP4 or refuses it as not media, within a bounded time",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-mp4-fuzz-" });
    const folder = new VodFolder(dir);
    const good = mp4File();
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), {
            minLength: 1,
            maxLength: 6,
          }),
          async (flips) => {
            const b = good.slice();
            for (const [i, v] of flips) b[i] = v;
            const name = `m${n++}.mp4`;
            await Deno.writeFile(`${dir}/${name}`, b);
            const t0 = performance.now();
            try {
              const file = await folder.open(name);
              try {
                const c = await file.source.cursor(0);
                for (let k = 0; k < 60; k++) {
                  if (await c.next().catch(() => undefined) === undefined) {
                    break;
                  }
                }
              } finally {
                file.release();
              }
            } catch (e) {
              if (!(e instanceof VodError) || e.code !== "not-media") throw e;
            }
            assert.ok(performance.now() - t0 < 2000, "bounded time");
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "checkMp4Boxes passes ffmpeg's MP4 (moov first or last), MOV and fragmented MP4, whole or cut inside a fragment",
  ignore: requireTool("ffmpeg"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-mp4-ok-" });
    try {
      const kinds: [string, string[]][] = [
        ["a.mp4", []],
        ["b.mp4", ["-movflags", "+faststart"]],
        ["c.mov", []],
        ["d.mp4", ["-movflags", "frag_keyframe+empty_moov+default_base_moof"]],
      ];
      for (const [name, flags] of kinds) {
        const run = spawn("ffmpeg", [
          ...["-loglevel", "error", "-y", "-f", "lavfi"],
          ...["-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi"],
          ...["-i", "sine=sample_rate=44100", "-t", "3", "-c:v", "libx264"],
          ...["-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", ...flags],
          `${dir}/${name}`,
        ], { timeoutMs: 60_000 });
        assert.equal((await run.status).code, 0, run.stderr());
        const bytes = await Deno.readFile(`${dir}/${name}`);
        await checkMp4Boxes(reader(bytes), bytes.length);
      }
      // a recording cut by a crash: its last fragment is partial
      const frag = await Deno.readFile(`${dir}/d.mp4`);
      const cut = frag.subarray(0, Math.floor(frag.length * 0.7));
      await checkMp4Boxes(reader(cut), cut.length);
      await Deno.writeFile(`${dir}/cut.mp4`, cut);
      const file = await new VodFolder(dir).open("cut.mp4");
      assert.deepEqual(file.source.tracks.map((t) => t.codec), ["H264", "AAC"]);
      file.release();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
