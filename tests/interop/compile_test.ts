/**
 * `deno task compile`: one `sluice` executable with the start task's flags,
 * carrying every module and the dashboard's assets. It is built into a
 * temporary folder, then run from there (nothing beside it) for a
 * publish-and-play smoke test: ffmpeg publishes over RTMP, ffmpeg plays over
 * RTSP and counts the frames it decodes, and `GET /` serves the dashboard.
 *
 * `deno compile` writes the program after a copy of `denort`, Deno's
 * runtime without its tooling, which it downloads from Deno's release site
 * (or takes from `DENORT_BIN`). Where neither is reachable, the build is
 * made on the full `deno` binary instead, which checks the module graph,
 * the flags and the embedded assets but cannot run the program; the smoke
 * run then needs `DENORT_BIN` (see README, "Operating").
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  publishTestSignal,
} from "../_util/ffmpeg.ts";
import { LOOPBACK_ARGS, startServerProcess } from "../_util/server_process.ts";
import { requireTool } from "../_util/tools.ts";

const ROOT = new URL("../../", import.meta.url);
const TARGET = "x86_64-unknown-linux-gnu";

interface DenoJson {
  tasks: Record<string, string>;
}

const tasks = (JSON.parse(
  await Deno.readTextFile(new URL("deno.json", ROOT)),
) as DenoJson).tasks;

/** The denort `deno compile` would use, if it is here: `DENORT_BIN` or Deno's download cache. */
async function denort(): Promise<string | undefined> {
  const given = Deno.env.get("DENORT_BIN");
  if (given !== undefined && given !== "") return given;
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const { denoDir } = JSON.parse(new TextDecoder().decode(stdout));
  const cached =
    `${denoDir}/dl/release/v${Deno.version.deno}/denort-${TARGET}.zip`;
  try {
    await Deno.stat(cached);
    return cached;
  } catch {
    return undefined;
  }
}

const base = await denort();

/** Runs the compile task's own command line, writing to `output`. */
async function compile(output: string, env: Record<string, string> = {}) {
  const words = tasks.compile!.split(/\s+/);
  assert.equal(words.shift(), "deno");
  const at = words.indexOf("--output");
  words[at + 1] = output;
  const out = await new Deno.Command(Deno.execPath(), {
    args: words,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
}

Deno.test("deno task compile runs server.ts with exactly the start task's flags", () => {
  const start = tasks.start!.split(/\s+/);
  const build = tasks.compile!.split(/\s+/);
  assert.deepEqual(start.slice(0, 2), ["deno", "run"]);
  assert.deepEqual(build.slice(0, 2), ["deno", "compile"]);
  // --exclude leaves prom-client's bintrees tests (2 MB of deeply nested
  // samples that overflow deno compile's stack) out of the executable;
  // --include brings in the argon2 worker, which only `new Worker` loads.
  const flags = (words: string[]) =>
    words.filter((w) =>
      w.startsWith("--") && w !== "--output" &&
      !w.startsWith("--exclude=") && !w.startsWith("--include=")
    ).sort();
  assert.deepEqual(flags(build), flags(start));
  assert.ok(
    build.includes(
      "--v8-flags=--max-semi-space-size=4,--heap-growing-percent=50",
    ),
  );
  assert.ok(build.includes("--allow-ffi"));
  assert.ok(build.includes("--include=lib/auth/_argon2_worker.ts"));
  assert.deepEqual(build.slice(-3), ["--output", "sluice", "server.ts"]);
});

Deno.test(
  "deno task compile embeds the program and the dashboard's assets",
  { ignore: base !== undefined, sanitizeResources: false },
  async () => {
    // No denort here: the full deno binary stands in as the base, so the
    // module graph, the flags and the payload are checked all the same.
    const dir = await Deno.makeTempDir();
    try {
      await compile(`${dir}/sluice`, { DENORT_BIN: Deno.execPath() });
      const binary = await Deno.readFile(`${dir}/sluice`);
      const find = (text: string) =>
        indexOf(binary, new TextEncoder().encode(text)) >= 0;
      assert.ok(find("function copyButton(text)"), "dashboard script");
      assert.ok(find(":root { color-scheme: light dark;"), "dashboard style");
      assert.ok(find("--max-semi-space-size=4"), "V8 flags");
      assert.ok(find("--heap-growing-percent=50"), "V8 flags");
      assert.ok(find("export function startSluice("), "lib/sluice.ts");
      // Only `new Worker` loads it: --include brings it in.
      assert.ok(find("self.postMessage(ok)"), "lib/auth/_argon2_worker.ts");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "The compiled sluice, alone in a folder, relays ffmpeg's RTMP publish to an RTSP player and serves the dashboard",
  {
    // Where Deno's runtime base cannot be had, the program cannot run.
    ignore: base === undefined || requireTool("ffmpeg"),
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    const dir = await Deno.makeTempDir();
    try {
      await compile(
        `${dir}/sluice`,
        base!.endsWith(".zip") ? {} : {
          DENORT_BIN: base!,
        },
      );
      await using server = startServerProcess(LOOPBACK_ARGS, {
        executable: `${dir}/sluice`,
        cwd: dir,
      });
      const rtmp = await server.port("RTMP");
      const rtsp = await server.port("RTSP");
      const http = await server.port("HTTP");
      await using _pub = publishTestSignal(
        `rtmp://127.0.0.1:${rtmp}/live/smoke`,
        { seconds: 12 },
      );
      await server.waitFor((l) => l.msg === "publishing", { since: 0 });
      const play = await playAndCount(`rtsp://127.0.0.1:${rtsp}/live/smoke`, {
        seconds: 3,
        timeoutMs: 20_000,
        inputArgs: ["-rtsp_transport", "tcp"],
      });
      assertDecodedH264Aac(play, { video: 60, context: server.text() });
      const page = await fetch(`http://127.0.0.1:${http}/`);
      assert.match(await page.text(), /<title>Sluice<\/title>/);
      const data = await fetch(`http://127.0.0.1:${http}/api/v1/dashboard`);
      const json = await data.json();
      assert.ok(
        json.paths.some((p: { name: string }) => p.name === "live/smoke"),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  for (
    let i = haystack.indexOf(first);
    i >= 0;
    i = haystack.indexOf(first, i + 1)
  ) {
    if (i + needle.length > haystack.length) return -1;
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}
