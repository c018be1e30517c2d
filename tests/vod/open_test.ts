import assert from "node:assert/strict";
import type { FileHandle } from "node:fs/promises";
import { openMedia } from "../../lib/vod/_open.ts";
import { VodFormatError } from "../../lib/vod/source.ts";
import { mp4File } from "../_util/mp4_hostile.ts";

/** A file whose reads never finish, as on a hung network mount. */
function hungFile(): FileHandle {
  return {
    read: () => new Promise(() => {}),
    close: () => Promise.resolve(),
  } as unknown as FileHandle;
}

Deno.test("openMedia gives up on a file that does not open in time", async () => {
  const t0 = Date.now();
  for (const head of [mp4File().subarray(0, 8), new Uint8Array(8)]) {
    await assert.rejects(
      openMedia(hungFile(), 100_000, "/media/x.mp4", head, 200),
      (e) =>
        e instanceof VodFormatError &&
        /not opened within 0.2 s/.test(e.message),
    );
  }
  assert.ok(Date.now() - t0 < 2000);
});
