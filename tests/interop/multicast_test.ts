/**
 * RTSP multicast with real clients (ffmpeg, GStreamer, Sluice's own RTSP
 * client), inside a network namespace this test makes and deletes: the
 * cases in `_multicast_cases.ts` run there, in a `deno test` of their own
 * started with `ip netns exec`, so every multicast packet stays on that
 * namespace's `lo`. Needs root (CI has it); skipped elsewhere, never in CI.
 */
import assert from "node:assert/strict";
import { requireNetns, withNetns } from "../_util/netns.ts";
import { requireTool } from "../_util/tools.ts";

const CASES = new URL("./_multicast_cases.ts", import.meta.url).pathname;
/** Eight cases of a few seconds each, on two shared cores. */
const TIMEOUT_MS = 240_000;

Deno.test({
  name:
    "Multicast: ffmpeg, GStreamer and Sluice play RTSP multicast in a network namespace",
  ignore: requireNetns() || requireTool("ffmpeg") || requireTool("python3"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await withNetns(async (ns) => {
      const child = new Deno.Command("ip", {
        args: [
          "netns",
          "exec",
          ns,
          Deno.execPath(),
          "test",
          "--allow-all",
          CASES,
        ],
        env: { MULTICAST_NETNS: ns, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, TIMEOUT_MS);
      const out = await child.output();
      clearTimeout(timer);
      const text = new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr);
      assert.ok(out.success, text);
      // every case ran and passed: none ignored, none filtered out
      assert.match(text, /ok \| 8 passed \| 0 failed/, text);
    });
  },
});
