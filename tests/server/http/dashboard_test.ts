/** The dashboard's data and routes, without a browser. */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { Stream } from "../../../lib/hub/stream.ts";
import { startTestSluice } from "../../_util/sluice.ts";
import { addDashboardRoutes } from "../../../lib/server/http/dashboard.ts";
import {
  DashboardSampler,
  type DashboardSource,
} from "../../../lib/server/http/dashboard_data.ts";

function source(streams: Stream[]): DashboardSource {
  return {
    hub: { streams: () => streams, hasPublisher: () => true },
    relays: { states: () => [] },
    paths: () => ["live/cam", "configured/only"],
    ports: () => ({ rtmp: 1935, rtsp: 8554, http: 8080 }),
  };
}

Deno.test("DashboardSampler measures bitrate and frame rate over windows of at least a second", () => {
  const stream = new Stream("live/cam");
  let now = 10_000;
  const sampler = new DashboardSampler(source([stream]), () => now);
  assert.equal(sampler.snapshot("h").paths[0]!.bitrate, 0); // one sample: no rate yet
  stream.stats.bytesIn += 250_000;
  stream.stats.framesIn += 50;
  now += 2000;
  let cam = sampler.snapshot("h").paths.find((p) => p.name === "live/cam")!;
  assert.equal(cam.bitrate, 1_000_000);
  assert.equal(cam.frameRate, 25);
  // A second browser 100 ms later sees the same rates, not a 100 ms window.
  stream.stats.bytesIn += 1000;
  now += 100;
  cam = sampler.snapshot("h").paths.find((p) => p.name === "live/cam")!;
  assert.equal(cam.bitrate, 1_000_000);
});

Deno.test("DashboardSampler lists configured paths without a stream, sorted, with their URLs", () => {
  const sampler = new DashboardSampler(source([new Stream("live/cam")]));
  const snap = sampler.snapshot("example.org");
  assert.deepEqual(snap.paths.map((p) => [p.name, p.configured]), [
    ["configured/only", true],
    ["live/cam", true],
  ]);
  assert.deepEqual(snap.paths[1]!.urls, {
    rtmp: "rtmp://example.org:1935/live/cam",
    rtsp: "rtsp://example.org:8554/live/cam",
    hls: "http://example.org:8080/live/cam/index.m3u8",
    flv: "http://example.org:8080/live/cam.flv",
  });
});

Deno.test("Dashboard routes serve the page with a strict CSP, its assets and the JSON", async () => {
  const app = new Hono();
  addDashboardRoutes(app, new DashboardSampler(source([])));
  const page = await app.request("http://127.0.0.1:8080/");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("Content-Type")!, /^text\/html/);
  assert.match(
    page.headers.get("Content-Security-Policy")!,
    /script-src 'self'/,
  );
  assert.match(await page.text(), /<script src="\/dashboard.js"/);
  const js = await app.request("http://127.0.0.1:8080/dashboard.js");
  assert.match(js.headers.get("Content-Type")!, /^text\/javascript/);
  assert.doesNotMatch(await js.text(), /innerHTML/);
  const data = await app.request("http://[::1]:8080/api/v1/dashboard");
  const json = await data.json();
  assert.equal(json.paths[0].urls.rtmp, "rtmp://[::1]:1935/configured/only");
});

Deno.test("Dashboard JSON is same-origin only, while HTTP-FLV stays open to any origin", async () => {
  await using s = startTestSluice({ playWaitTimeout: "100ms" });
  const base = `http://127.0.0.1:${s.sluice.httpPort}`;
  const headers = { Origin: "http://elsewhere.example" };
  const data = await fetch(`${base}/api/v1/dashboard`, { headers });
  assert.equal(data.status, 200);
  assert.equal(data.headers.get("Access-Control-Allow-Origin"), null);
  await data.body?.cancel();
  const flv = await fetch(`${base}/live/none.flv`, { headers });
  assert.equal(flv.headers.get("Access-Control-Allow-Origin"), "*");
  await flv.body?.cancel();
});
