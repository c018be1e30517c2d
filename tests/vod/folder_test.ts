import assert from "node:assert/strict";
import fc from "fast-check";
import { VodError, VodFolder, vodSegments } from "../../lib/vod/folder.ts";

Deno.test("vodSegments: any name either is refused or has only plain segments", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 64 }),
        fc.array(
          fc.constantFrom(
            "..",
            ".",
            "a",
            "%2e",
            "/",
            "\\",
            "b.mp4",
            "\0",
            "C:",
          ),
        )
          .map((a) => a.join("")),
      ),
      (name) => {
        let segments: string[];
        try {
          segments = vodSegments(name);
        } catch (e) {
          assert.ok(e instanceof VodError && e.code === "bad-name");
          return;
        }
        for (const s of segments) {
          assert.ok(s !== "" && s !== "." && s !== "..", name);
          assert.ok(!/[\\\0%]/.test(s), name);
        }
        assert.ok(!name.startsWith("/"));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("VodFolder: traversal, symlinks out, folders and missing files open nothing", async () => {
  const root = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${outside}/secret.mp4`, "secret");
    await Deno.symlink(`${outside}/secret.mp4`, `${root}/out.mp4`);
    await Deno.symlink(outside, `${root}/outdir`);
    await Deno.mkdir(`${root}/sub`);
    await Deno.writeTextFile(`${root}/sub/text.mp4`, "not media ".repeat(50));
    const folder = new VodFolder(root);
    const cases: [string, VodError["code"]][] = [
      ["../secret.mp4", "bad-name"],
      ["sub/../../secret.mp4", "bad-name"],
      [`/${outside}/secret.mp4`, "bad-name"],
      ["%2e%2e/secret.mp4", "bad-name"],
      ["out.mp4", "not-found"],
      ["outdir/secret.mp4", "not-found"],
      ["sub", "not-found"],
      ["nothere.mp4", "not-found"],
      ["sub/text.mp4", "not-media"],
    ];
    for (const [name, code] of cases) {
      await assert.rejects(
        folder.open(name),
        (e) => e instanceof VodError && e.code === code,
        name,
      );
    }
    assert.equal(folder.openFiles, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
