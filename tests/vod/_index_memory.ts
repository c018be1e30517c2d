/**
 * Opens one file of a folder and prints, as JSON, how much the JavaScript
 * heap and the external (ArrayBuffer) memory kept grew, each measured after
 * a full collection; run it with `--v8-flags=--expose-gc`. The growth of a
 * live heap without collections depends on when V8 collects, which differs
 * with the machine's load; after a full collection it is what the index
 * keeps.
 *
 * deno run -A --v8-flags=--expose-gc tests/vod/_index_memory.ts <dir> <name>
 *
 * @module
 */

import { VodFolder } from "../../lib/vod/folder.ts";

const [dir, name] = Deno.args;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined || dir === undefined || name === undefined) {
  console.error("usage: --v8-flags=--expose-gc _index_memory.ts <dir> <name>");
  Deno.exit(2);
}
gc();
const before = Deno.memoryUsage();
const file = await new VodFolder(dir).open(name);
gc();
const after = Deno.memoryUsage();
console.log(JSON.stringify({
  heapBytes: after.heapUsed - before.heapUsed,
  externalBytes: after.external - before.external,
  durationSeconds: file.source.durationSeconds,
}));
file.release();
