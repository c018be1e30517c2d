import assert from "node:assert/strict";
import fc from "fast-check";
import {
  confined,
  inside,
  RecordPathPattern,
} from "../../lib/record/path_pattern.ts";
import { parseConfig } from "../../lib/config/load.ts";

const PATTERN = "./recordings/%path/%Y-%m-%d_%H-%M-%S-%f";
const START = Date.UTC(2026, 11, 4, 9, 5, 7, 123);

Deno.test("RecordPathPattern fills in the path and UTC time fields below the root", () => {
  const p = new RecordPathPattern(PATTERN, "/srv/sluice");
  assert.equal(p.root, "/srv/sluice/recordings");
  assert.equal(
    p.file("live/cam1", START, "mp4"),
    "/srv/sluice/recordings/live/cam1/2026-12-04_09-05-07-123000.mp4",
  );
});

Deno.test("RecordPathPattern reads back the path and start of its own names", () => {
  const p = new RecordPathPattern(PATTERN, "/srv");
  const file = p.file("live/cam1", START, "flv")!;
  assert.deepEqual(p.read(file), {
    path: "live/cam1",
    startMs: START,
    format: "flv",
  });
  assert.equal(p.read("/srv/recordings/live/cam1/notes.txt"), undefined);
  assert.equal(p.read("/etc/live/2026-12-04_09-05-07-123000.mp4"), undefined);
});

Deno.test("RecordPathPattern keeps a %Y inside a stream path as text", () => {
  const p = new RecordPathPattern(PATTERN, "/srv");
  assert.equal(
    p.file("live/%Y", START, "mp4"),
    "/srv/recordings/live/%Y/2026-12-04_09-05-07-123000.mp4",
  );
});

Deno.test("RecordPathPattern refuses paths that would leave the root", () => {
  const p = new RecordPathPattern(PATTERN, "/srv");
  for (
    const path of [
      "../etc",
      "live/../../etc",
      "..",
      "/etc/passwd",
      "live/./x",
      "a\\..\\b",
      "",
    ]
  ) {
    assert.equal(p.file(path, START, "mp4"), undefined, path);
  }
});

Deno.test("RecordPathPattern: any stream path lands inside the root or is refused", () => {
  const p = new RecordPathPattern(PATTERN, "/srv");
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.constantFrom("..", ".", "%2e%2e", "", "/", "\\", "a", "%path"),
          fc.string({ maxLength: 8 }),
        ),
        { maxLength: 6 },
      ),
      (parts) => {
        const file = p.file(parts.join("/"), START, "mp4");
        return file === undefined ||
          (inside(p.root, file) && !file.split("/").includes(".."));
      },
    ),
  );
});

Deno.test("RecordPathPattern refuses a pattern with a .. segment", () => {
  assert.throws(
    () => new RecordPathPattern("./rec/../%path/%Y", "/srv"),
    RangeError,
  );
});

Deno.test("config recordPath refuses .. segments and patterns without time fields", () => {
  for (
    const recordPath of [
      "./rec/../../etc/%path/%Y-%m-%d_%H-%M-%S",
      "./rec/%path",
      "./rec/%Y-%m-%d_%H-%M-%S",
    ]
  ) {
    assert.throws(() => parseConfig({ recordPath }), /recordPath/, recordPath);
  }
  assert.equal(parseConfig({}).recordPath, PATTERN);
  assert.equal(parseConfig({ recordFsync: "part" }).recordFsync, "part");
  assert.equal(parseConfig({ recordFsync: "4" }).recordFsync, 4);
  assert.equal(parseConfig({ recordFsync: false }).recordFsync, false);
  assert.throws(() => parseConfig({ recordFsync: "often" }), /recordFsync/);
});

Deno.test("confined refuses a folder that is a link out of the root", async () => {
  const root = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/live`);
    await Deno.symlink(outside, `${root}/live/cam`);
    assert.equal(await confined(root, `${root}/live/x.mp4`), true);
    assert.equal(await confined(root, `${root}/live/cam/x.mp4`), false);
    await Deno.symlink(`${outside}/f.mp4`, `${root}/live/f.mp4`);
    assert.equal(await confined(root, `${root}/live/f.mp4`), false);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
