/** watchConfigFile: one call per burst of changes, editors' rename-over saves included. */
import assert from "node:assert/strict";
import { watchConfigFile } from "../../lib/config/watch.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("watchConfigFile calls once for a burst of writes", () =>
  withDir(async (dir) => {
    const file = `${dir}/sluice.yml`;
    await Deno.writeTextFile(file, "a: 1\n");
    let calls = 0;
    using _watch = watchConfigFile(file, () => calls++, { debounceMs: 150 });
    await sleep(100);
    for (let i = 0; i < 5; i++) {
      await Deno.writeTextFile(file, `a: ${i}\n`);
      await sleep(10);
    }
    await sleep(600);
    assert.equal(calls, 1);
  }));

Deno.test("watchConfigFile sees a save that renames a new file over the old one", () =>
  withDir(async (dir) => {
    const file = `${dir}/sluice.yml`;
    await Deno.writeTextFile(file, "a: 1\n");
    let calls = 0;
    using _watch = watchConfigFile(file, () => calls++, { debounceMs: 100 });
    await sleep(100);
    await Deno.writeTextFile(`${dir}/.sluice.yml.swp`, "a: 2\n");
    await Deno.rename(`${dir}/.sluice.yml.swp`, file);
    await sleep(500);
    assert.equal(calls, 1);
    // Twice: the watch survives the replacement.
    await Deno.writeTextFile(`${dir}/.sluice.yml.swp`, "a: 3\n");
    await Deno.rename(`${dir}/.sluice.yml.swp`, file);
    await sleep(500);
    assert.equal(calls, 2);
  }));

Deno.test("watchConfigFile ignores other files of the folder and stops when closed", () =>
  withDir(async (dir) => {
    const file = `${dir}/sluice.yml`;
    await Deno.writeTextFile(file, "a: 1\n");
    let calls = 0;
    const watch = watchConfigFile(file, () => calls++, { debounceMs: 50 });
    await sleep(100);
    await Deno.writeTextFile(`${dir}/other.yml`, "b: 1\n");
    await sleep(300);
    assert.equal(calls, 0);
    watch.close();
    await Deno.writeTextFile(file, "a: 2\n");
    await sleep(300);
    assert.equal(calls, 0);
  }));
