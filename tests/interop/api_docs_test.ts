/**
 * The API reference page in a real browser: headless Chromium loads
 * `/api/v1/docs` from Sluice alone (its script and the description come
 * from Sluice, nothing from a CDN) and renders every operation.
 */
import assert from "node:assert/strict";
import { openApiDocument } from "../../lib/api/openapi.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool, toolPath } from "../_util/tools.ts";

Deno.test({
  name: "API reference page renders every operation in headless Chromium",
  ignore: requireTool("chromium"),
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  await using s = startTestSluice();
  const profile = await Deno.makeTempDir({ prefix: "sluice-chromium-" });
  try {
    const run = new Deno.Command(toolPath("chromium"), {
      args: [
        ...["--headless", "--no-sandbox", "--disable-gpu"],
        `--user-data-dir=${profile}`,
        "--virtual-time-budget=5000",
        "--dump-dom",
        `http://127.0.0.1:${s.sluice.httpPort}/api/v1/docs`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const timer = setTimeout(() => run.kill("SIGKILL"), 60_000);
    const out = await run.output();
    clearTimeout(timer);
    const dom = new TextDecoder().decode(out.stdout);
    const doc = openApiDocument("0.1.0") as {
      paths: Record<string, Record<string, unknown>>;
    };
    const operations = Object.values(doc.paths)
      .reduce((n, item) => n + Object.keys(item).length, 0);
    assert.equal((dom.match(/class="op"/g) ?? []).length, operations, dom);
    assert.match(dom, /Version 0\.1\.0\./);
    assert.match(dom, /\/api\/v1\/paths\/\{name\}\/inspect/);
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
});
