import assert from "node:assert/strict";
import fc from "fast-check";
import { VodError, VodFolder } from "../../lib/vod/folder.ts";
import { requireTool } from "../_util/tools.ts";
import { makeVodFolder, VOD_CONTAINERS } from "../_util/vod_media.ts";

const ignore = requireTool("ffmpeg");
let folder: Promise<string> | undefined;
const media = () => folder ??= makeVodFolder(4);

Deno.test({
  name:
    "VOD sources: every container gives H.264 + AAC frames with monotonic dts ≤ pts, and seeks to a keyframe",
  ignore,
  fn: async () => {
    const f = new VodFolder(await media());
    for (const ext of VOD_CONTAINERS) {
      const file = await f.open(`clip.${ext}`);
      const s = file.source;
      assert.deepEqual(s.tracks.map((t) => t.codec), ["H264", "AAC"], ext);
      assert.ok(
        Math.abs(s.durationSeconds - 4) < 0.1,
        `${ext}: ${s.durationSeconds}`,
      );
      const c = await s.cursor(0);
      const last = new Map<number, number>();
      let video = 0;
      let keys = 0;
      for (let fr; (fr = await c.next()) !== undefined;) {
        const { trackId, dts, pts, keyframe } = fr.frame;
        assert.ok(dts <= pts, `${ext}: dts ${dts} > pts ${pts}`);
        assert.ok(
          (last.get(trackId) ?? -Infinity) <= dts,
          `${ext}: dts stepped back`,
        );
        last.set(trackId, dts);
        if (trackId === 0) {
          video++;
          if (keyframe) keys++;
        }
      }
      assert.equal(video, 100, ext);
      assert.equal(keys, 4, ext);
      const seek = await s.cursor(2.5);
      const first = await seek.next();
      assert.ok(first?.frame.keyframe && first.frame.trackId === 0, ext);
      assert.ok(
        first.seconds >= 1.9 && first.seconds <= 2.5,
        `${ext}: ${first.seconds}`,
      );
      const back = await s.cursor(3.5, "reverse");
      const times: number[] = [];
      for (let fr; (fr = await back.next()) !== undefined;) {
        times.push(fr.seconds);
      }
      assert.equal(times.length, 4, `${ext} reverse: ${times}`);
      assert.ok(
        times.every((t, i) => i === 0 || t < times[i - 1]!),
        `${ext}: ${times}`,
      );
      file.release();
    }
    assert.equal(f.openFiles, 0);
  },
});

Deno.test({
  name:
    "VOD sources: a mutated or truncated MP4 opens and reads to its end, or is not media, in bounded time",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await media();
    const good = await Deno.readFile(`${dir}/clip.mp4`);
    const work = await Deno.makeTempDir();
    const f = new VodFolder(work);
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(4095), fc.nat(255)), { maxLength: 16 }),
          fc.integer({ min: 64, max: good.length }),
          async (flips, cut) => {
            const bytes = good.slice(0, cut);
            for (const [at, v] of flips) if (at < bytes.length) bytes[at] = v;
            const name = `m${n++}.mp4`;
            await Deno.writeFile(`${work}/${name}`, bytes);
            const run = (async () => {
              try {
                const file = await f.open(name);
                const c = await file.source.cursor(0);
                let frames = 0;
                while ((await c.next()) !== undefined && frames < 10_000) {
                  frames++;
                }
                file.release();
              } catch (e) {
                // a broken file is refused as not media, or its reading ends
                if (!(e instanceof VodError)) {
                  assert.ok(e instanceof Error, String(e));
                }
              }
            })();
            let timer: ReturnType<typeof setTimeout> | undefined;
            const limit = new Promise<"late">((r) => {
              timer = setTimeout(() => r("late"), 5000);
            });
            const done = await Promise.race([
              run.then(() => "ok" as const),
              limit,
            ]);
            clearTimeout(timer);
            assert.equal(done, "ok", "reading a broken file took too long");
            await Deno.remove(`${work}/${name}`);
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      await Deno.remove(work, { recursive: true });
    }
    const heap = Deno.memoryUsage().heapUsed;
    assert.ok(heap < 512 * 2 ** 20, `heap ${heap}`);
  },
});
