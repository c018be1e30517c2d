/**
 * Metrics with the real thing: Debian's Prometheus scrapes Sluice on
 * loopback while ffmpeg publishes and plays, and its query API returns the
 * series Sluice exposes; `promtool check metrics` accepts the exposition.
 */
import assert from "node:assert/strict";
import { playAndCount, publishTestSignal } from "../_util/ffmpeg.ts";
import { spawn } from "../_util/process.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool, toolPath } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("prometheus") ||
  requireTool("promtool");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

/** A TCP port free on loopback now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** `query` through Prometheus's HTTP API: the vector's samples. */
async function query(
  base: string,
  q: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(
    `${base}/api/v1/query?query=${encodeURIComponent(q)}`,
  );
  const body = await res.json();
  assert.equal(body.status, "success", JSON.stringify(body));
  return body.data.result;
}

Deno.test(
  "Metrics: promtool accepts /metrics and Prometheus scrapes the expected series",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtmpUrl("live/cam"), {
      seconds: 30,
    });
    await s.published("live/cam", { frames: 10 });
    const played = await playAndCount(s.flvUrl("live/cam"), {
      seconds: 2,
      timeoutMs: 20_000,
    });
    assert.ok((played.video?.frames ?? 0) >= 40, played.stderr);
    const target = `127.0.0.1:${s.sluice.httpPort}`;

    const text = await (await fetch(`http://${target}/metrics`)).text();
    for (
      const name of [
        "sluice_connections_total",
        "sluice_bytes_in_total",
        "sluice_frames_in_total",
        "sluice_bytes_out_total",
        "sluice_media_packets_out_total",
        "sluice_time_to_first_frame_seconds",
        "sluice_event_loop_lag_seconds",
        "sluice_process_memory_bytes",
      ]
    ) {
      assert.match(text, new RegExp(`^# HELP ${name} `, "m"), name);
      assert.match(text, new RegExp(`^# TYPE ${name} `, "m"), name);
    }
    const check = new Deno.Command(toolPath("promtool"), {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = check.stdin.getWriter();
    await w.write(new TextEncoder().encode(text));
    await w.close();
    const out = await check.output();
    const dec = new TextDecoder();
    assert.ok(
      out.success,
      `promtool: ${dec.decode(out.stdout)}${dec.decode(out.stderr)}`,
    );

    const dir = await Deno.makeTempDir({ prefix: "sluice-prom-" });
    try {
      await Deno.writeTextFile(
        `${dir}/prometheus.yml`,
        [
          "global:",
          "  scrape_interval: 1s",
          "  evaluation_interval: 1s",
          "scrape_configs:",
          "  - job_name: sluice",
          "    static_configs:",
          `      - targets: ["${target}"]`,
          "",
        ].join("\n"),
      );
      const port = freePort();
      await using prom = (() => {
        const p = spawn("prometheus", [
          `--config.file=${dir}/prometheus.yml`,
          `--storage.tsdb.path=${dir}/data`,
          `--web.listen-address=127.0.0.1:${port}`,
        ], { timeoutMs: 60_000 });
        return { ...p, [Symbol.asyncDispose]: p.stop };
      })();
      const base = `http://127.0.0.1:${port}`;
      const end = Date.now() + 40_000;
      let bytes: Awaited<ReturnType<typeof query>> = [];
      let up: Awaited<ReturnType<typeof query>> = [];
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 500));
        try {
          up = await query(base, 'up{job="sluice"}');
          bytes = await query(base, 'sluice_bytes_in_total{path="live/cam"}');
        } catch {
          continue; // not listening yet
        }
        if (bytes.length > 0 && up[0]?.value[1] === "1") break;
      }
      assert.equal(up[0]?.value[1], "1", prom.stderr());
      assert.equal(bytes.length, 1, prom.stderr());
      assert.ok(Number(bytes[0]!.value[1]) > 10_000, JSON.stringify(bytes));
      const pubs = await query(base, "sluice_publishers");
      assert.deepEqual(
        pubs.map((r) => [r.metric.path, r.metric.protocol, r.value[1]]),
        [["live/cam", "rtmp", "1"]],
      );
      const conns = await query(
        base,
        'sluice_connections_total{protocol="rtmp"}',
      );
      assert.ok(Number(conns[0]?.value[1]) >= 1, JSON.stringify(conns));
      // the player that came and went before the first scrape was counted
      const ttff = await query(
        base,
        'sluice_time_to_first_frame_seconds_count{protocol="flv"}',
      );
      assert.equal(ttff[0]?.value[1], "1", JSON.stringify(ttff));
      const out = await query(
        base,
        'sluice_bytes_out_total{path="live/cam",protocol="flv"}',
      );
      assert.ok(Number(out[0]?.value[1]) > 50_000, JSON.stringify(out));
      const pub = await query(
        base,
        "sluice_publisher_first_frame_seconds_count",
      );
      assert.equal(pub[0]?.value[1], "1", JSON.stringify(pub));
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
