import assert from "node:assert/strict";
import { VodError } from "../../lib/vod/folder.ts";
import { VodBusyError, VodHls } from "../../lib/vod/hls.ts";
import { fakeFolder, fakeFrames, fakeSource } from "./_fake_source.ts";

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

Deno.test("VodHls: 50 concurrent requests for one segment build it once", async () => {
  const source = fakeSource(fakeFrames(4, 25), 4, { delay: tick });
  const hls = new VodHls(fakeFolder(source));
  const all = await hls.with("a.mp4", 1, (f) =>
    Promise.all(
      Array.from({ length: 50 }, () => hls.segment(f, "fmp4", 2)!),
    ));
  assert.equal(hls.built, 1);
  assert.equal(source.cursors, 1);
  assert.ok(all.every((b) => b === all[0]));
  // later requests come from the cache
  await hls.with("a.mp4", 1, (f) => hls.segment(f, "fmp4", 2));
  assert.equal(hls.built, 1);
  // the other variant is another object
  await hls.with("a.mp4", 1, (f) => hls.segment(f, "mpegts", 2));
  assert.equal(hls.built, 2);
  assert.equal(
    await hls.with("a.mp4", 1, (f) => hls.segment(f, "fmp4", 9)),
    undefined,
  );
  hls.close();
});

Deno.test("VodHls: built segments stay within the byte budget", async () => {
  const source = fakeSource(fakeFrames(20, 25), 20);
  const hls = new VodHls(fakeFolder(source), { cacheBytes: 100_000 });
  await hls.with("a.mp4", 1, async (f) => {
    assert.equal(f.spans.length, 20);
    for (let i = 0; i < f.spans.length; i++) {
      await hls.segment(f, "mpegts", i);
      assert.ok(hls.cachedBytes <= 100_000, `${hls.cachedBytes} bytes`);
    }
  });
  assert.equal(hls.built, 20);
  assert.ok(hls.cachedBytes > 0);
  hls.close();
  assert.equal(hls.cachedBytes, 0);
});

Deno.test("VodHls: idle files are let go, busy ones kept; tags follow the file's version", async () => {
  let now = 0;
  const source = fakeSource(fakeFrames(2, 25), 2);
  const folder = fakeFolder(source);
  const hls = new VodHls(folder, { idleMs: 1000, now: () => now });
  const tag1 = await hls.with("a.mp4", 1, (f) => f.tag);
  assert.equal(await hls.with("a.mp4", 1, (f) => f.tag), tag1);
  assert.equal(folder.opened, 1);
  assert.notEqual(
    await hls.with("a.mp4", 2, (f) => f.tag),
    tag1,
    "another target",
  );
  now = 5000;
  await hls.with("b.mp4", 1, () => {});
  assert.equal(folder.released, 2, "both a.mp4 entries were idle");
  assert.equal(hls.openFiles, 1);
  // a file held by a request is not let go however old
  let release!: () => void;
  const held = hls.with(
    "b.mp4",
    1,
    () => new Promise<void>((r) => release = r),
  );
  await tick();
  now = 10_000;
  await hls.with("c.mp4", 1, () => {});
  assert.equal(folder.released, 2);
  release();
  await held;
  hls.close();
  await tick();
  assert.equal(folder.released, folder.opened);
  const other = new VodHls(fakeFolder(source, "v2"));
  assert.notEqual(await other.with("a.mp4", 1, (f) => f.tag), tag1);
  other.close();
});

Deno.test("VodHls: builds beyond the waiting bound are refused, the rest complete", async () => {
  const source = fakeSource(fakeFrames(4, 25), 4, { delay: tick });
  const hls = new VodHls(fakeFolder(source), { builds: 1, maxWaiting: 1 });
  await hls.with("a.mp4", 1, async (f) => {
    const results = await Promise.allSettled(
      [0, 1, 2].map((i) => hls.segment(f, "fmp4", i)!),
    );
    assert.equal(results[0]!.status, "fulfilled");
    assert.equal(results[1]!.status, "fulfilled");
    assert.equal(results[2]!.status, "rejected");
    assert.ok(
      (results[2] as PromiseRejectedResult).reason instanceof VodBusyError,
    );
    // the slot is free again
    assert.ok((await hls.segment(f, "fmp4", 2)!).length > 0);
  });
  hls.close();
});

Deno.test("VodHls: a file replaced while in use gets new names; one removed is gone", async () => {
  let now = 0;
  const source = fakeSource(fakeFrames(2, 25), 2);
  const folder = fakeFolder(source);
  const hls = new VodHls(folder, { recheckMs: 1000, now: () => now });
  const tag1 = await hls.with("a.mp4", 1, (f) => f.tag);
  folder.version = "v2";
  now = 500;
  assert.equal(
    await hls.with("a.mp4", 1, (f) => f.tag),
    tag1,
    "not checked yet",
  );
  // a request holding the old version keeps it until it is done
  let release!: () => void;
  const held = hls.with(
    "a.mp4",
    1,
    () => new Promise<void>((r) => release = r),
  );
  await tick();
  now = 1500;
  const tag2 = await hls.with("a.mp4", 1, (f) => f.tag);
  assert.notEqual(tag2, tag1);
  const opened = folder.opened;
  assert.equal(
    folder.released,
    opened - 2,
    "the old one is held, the new one open",
  );
  release();
  await held;
  assert.equal(folder.released, opened - 1, "the old one let go");
  folder.version = undefined;
  now = 3000;
  await assert.rejects(hls.with("a.mp4", 1, () => {}), VodError);
  assert.equal(hls.openFiles, 0);
  assert.equal(folder.released, folder.opened);
  hls.close();
});
