/**
 * Webhooks during a real session: ffmpeg publishes over RTMP, ffmpeg plays
 * over RTSP and HTTP-FLV; a receiver checks every event, its order and its
 * signature, while a hook that never answers delays no frame.
 */
import assert from "node:assert/strict";
import type { SluiceEvent } from "../../lib/events/events.ts";
import {
  SIGNATURE_HEADER,
  verifySignature,
} from "../../lib/webhooks/webhooks.ts";
import { playAndCount, publishTestSignal } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "Webhooks: publish and read events of ffmpeg over RTMP, RTSP and HTTP-FLV arrive signed and in order; a hanging hook delays no frame",
  opts,
  async () => {
    const got: { event: SluiceEvent; signed: boolean; header: string }[] = [];
    const receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (r) => {
        const body = await r.text();
        got.push({
          event: JSON.parse(body),
          signed: await verifySignature(
            "s3cret",
            body,
            r.headers.get(SIGNATURE_HEADER),
          ),
          header: r.headers.get("X-Sluice-Event") ?? "",
        });
        return new Response(null, { status: 204 });
      },
    );
    const hangs = new AbortController();
    const hanging = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {}, signal: hangs.signal },
      () => new Promise<Response>(() => {}),
    );
    try {
      await using s = startTestSluice({
        webhooks: [
          {
            url: `http://127.0.0.1:${receiver.addr.port}/hook`,
            secret: "s3cret",
          },
          { url: `http://127.0.0.1:${hanging.addr.port}/slow` },
        ],
      });
      const pub = publishTestSignal(`${s.rtmpUrl("live/hook")}?key=abc`, {
        seconds: 6,
        width: 160,
        height: 128,
      });
      await s.published("live/hook", { frames: 10 });
      const rtsp = await playAndCount(s.rtspUrl("live/hook"), {
        seconds: 1.5,
        timeoutMs: 20_000,
      });
      assert.equal(rtsp.code, 0, rtsp.stderr);
      assert.ok(rtsp.video!.frames >= 30, `${rtsp.video?.frames} RTSP frames`);
      const flv = await playAndCount(`${s.flvUrl("live/hook")}?who=me`, {
        seconds: 1.5,
        timeoutMs: 20_000,
      });
      assert.equal(flv.code, 0, flv.stderr);
      assert.ok(flv.video!.frames >= 30, `${flv.video?.frames} FLV frames`);
      await pub.status;
      const end = Date.now() + 10_000;
      while (got.length < 6 && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const seq = got.map((g) => `${g.event.type} ${protocolOf(g.event)}`);
      assert.deepEqual(seq, [
        "publish.start rtmp",
        "read.start rtsp",
        "read.stop rtsp",
        "read.start http",
        "read.stop http",
        "publish.stop rtmp",
      ], seq.join("\n"));
      for (const { event, signed, header } of got) {
        assert.ok(signed, `${event.type} is signed`);
        assert.equal(header, event.type);
        assert.match(event.id, /^[0-9a-f-]{36}$/);
        assert.ok(!Number.isNaN(Date.parse(event.time)));
        const data = event.data as unknown as Record<string, unknown>;
        assert.equal(data.path, "live/hook");
        assert.equal(data.remoteAddress, "127.0.0.1");
        assert.equal(typeof data.id, "string");
        if (event.type.endsWith(".stop")) {
          assert.ok(
            Date.parse(String(data.startedAt)) <= Date.parse(event.time),
          );
        }
      }
      assert.equal(new Set(got.map((g) => g.event.id)).size, got.length);
      const times = got.map((g) => Date.parse(g.event.time));
      assert.deepEqual(times, [...times].sort((a, b) => a - b));
      assert.equal(
        (got[0]!.event.data as { query: string }).query,
        "key=abc",
      );
      assert.equal((got[3]!.event.data as { query: string }).query, "who=me");
      const [good, slow] = s.sluice.webhooks.stats;
      // the receiver has each body before the hook has read the answer to it
      for (let i = 0; i < 500 && good!.delivered < got.length; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(good!.delivered, 6);
      assert.equal(slow!.delivered, 0, "the hanging hook never answered");
    } finally {
      hangs.abort();
      await receiver.shutdown();
      await hanging.finished.catch(() => {});
    }
  },
);

function protocolOf(e: SluiceEvent): string {
  return "protocol" in e.data ? String(e.data.protocol) : "";
}

Deno.test(
  "Webhooks: a pull relay reports its states and publishes as protocol relay",
  opts,
  async () => {
    const got: SluiceEvent[] = [];
    const receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (r) => {
        got.push(await r.json());
        return new Response(null, { status: 200 });
      },
    );
    try {
      await using upstream = startTestSluice();
      await using _pub = publishTestSignal(upstream.rtmpUrl("live/src"), {
        seconds: 20,
        width: 160,
        height: 128,
      });
      await upstream.published("live/src", { frames: 10 });
      await using s = startTestSluice({
        webhooks: [{
          url: `http://127.0.0.1:${receiver.addr.port}/`,
          events: ["relay.state", "publish.start"],
        }],
        paths: { "live/copy": { source: upstream.rtspUrl("live/src") } },
      });
      await s.published("live/copy", { frames: 10 });
      const r = await playAndCount(s.rtmpUrl("live/copy"), {
        seconds: 1.5,
        timeoutMs: 20_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.video!.frames >= 30, `${r.video?.frames} frames`);
      const end = Date.now() + 5000;
      while (got.length < 3 && Date.now() < end) {
        await new Promise((res) => setTimeout(res, 50));
      }
      const seq = got.map((e) =>
        e.type === "relay.state"
          ? `relay.state ${e.data.status}`
          : `${e.type} ${"protocol" in e.data ? e.data.protocol : ""}`
      );
      assert.deepEqual(seq.slice(0, 3), [
        "relay.state connecting",
        "publish.start relay",
        "relay.state running",
      ], seq.join("\n"));
      const state = got.find((e) => e.type === "relay.state")!;
      assert.equal(state.data.path, "live/copy");
      assert.ok(
        seq.every((x) => !x.startsWith("read.")),
        "only the events asked for",
      );
    } finally {
      await receiver.shutdown();
    }
  },
);
