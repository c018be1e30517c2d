/**
 * Who may take a busy path over, with Sluice's RTMP client and raw RTSP:
 * by default (overridePublisher auto) a newcomer is refused while the
 * publisher sends, takes over a silent (half-open) one at once, and takes
 * over any one when it gave the path's publish credentials; true and false
 * are always and never.
 */
import assert from "node:assert/strict";
import { RtmpClient, RtmpStatusError } from "../../lib/client/rtmp.ts";
import type { ConfigInput } from "../../lib/config/schema.ts";
import { fixtureTags } from "../_util/flv_fixture.ts";
import { RawRtsp } from "../_util/rtsp_raw.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { until } from "../_util/wait.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Short, so the silent case does not make the test slow. */
const IDLE = { overridePublisherIdle: "300ms" } as const;

interface Sender {
  client: RtmpClient;
  /** Stops sending (the connection stays open: half-open, as seen from the server). */
  pause(): void;
  close(): Promise<void>;
}

/** An RTMP publisher of the fixture at its own pace, sending until paused. */
async function sending(url: string, name?: string): Promise<Sender> {
  const tags = (await fixtureTags()).filter((t) => t.type !== 18);
  const client = await RtmpClient.connect(url);
  await client.publish(name);
  let running = true;
  const span = tags.at(-1)!.timestamp + 40;
  const loop = (async () => {
    const started = Date.now();
    for (let i = 0; running; i++) {
      for (const t of tags) {
        if (!running) break;
        const at = t.timestamp + i * span;
        const wait = started + at - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await client.sendMedia(t.type, at, t.data).catch(() => {
          running = false;
        });
      }
    }
  })();
  return {
    client,
    pause: () => running = false,
    async close() {
      running = false;
      await loop;
      client.close();
    },
  };
}

const refusedAsBusy = (e: unknown) =>
  e instanceof RtmpStatusError && e.code === "NetStream.Publish.BadName";

function sluiceWith(config: ConfigInput): TestSluice {
  return startTestSluice({ ...IDLE, ...config });
}

/** Whether `client`'s connection is closed by the server within `ms`. */
async function cutOff(client: RtmpClient, ms = 5000): Promise<boolean> {
  const reading = (async () => {
    for await (const _ of client.messages());
    return true;
  })().catch(() => true);
  return await Promise.race([
    reading,
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
}

Deno.test(
  "RTMP (auto, the default): a newcomer is refused with Publish.BadName while the publisher sends",
  opts,
  async () => {
    await using s = sluiceWith({});
    const first = await sending(s.rtmpUrl("live/t"));
    await s.published("live/t", { frames: 10 });
    const second = await RtmpClient.connect(s.rtmpUrl("live/t"));
    await assert.rejects(second.publish(), refusedAsBusy);
    second.close();
    const before = s.sluice.hub.stream("live/t")!.stats.framesIn;
    await until(
      () => s.sluice.hub.stream("live/t")!.stats.framesIn > before + 10,
      5000,
      () => s.logs.join("\n"),
    );
    assert.equal(s.sluice.hub.stream("live/t")!.stats.publishers, 1);
    assert.equal(await cutOff(first.client, 500), false, "still connected");
    assert.ok(s.logs.some((l) => l.includes("another publisher is sending")));
    await first.close();
  },
);

Deno.test(
  "RTMP (auto): a reconnecting encoder takes over its silent, half-open connection at once",
  opts,
  async () => {
    await using s = sluiceWith({});
    const first = await sending(s.rtmpUrl("live/t"));
    await s.published("live/t", { frames: 10 });
    first.pause(); // the network dropped: the socket stays open, nothing comes
    await new Promise((r) => setTimeout(r, 400));
    const second = await sending(s.rtmpUrl("live/t"));
    assert.ok(await cutOff(first.client), "the half-open connection is closed");
    assert.equal(s.sluice.hub.stream("live/t")!.stats.publishers, 2);
    assert.ok(s.logs.some((l) => l.includes("took the path over")));
    await second.close();
    await first.close();
  },
);

Deno.test(
  "RTMP (auto): a newcomer with the path's publish credentials takes over a sending publisher",
  opts,
  async () => {
    await using s = sluiceWith({
      paths: { "live/t": { publishUser: "enc", publishPass: "pw" } },
    });
    const first = await sending(s.rtmpUrl("live/t"), "t?user=enc&pass=pw");
    await s.published("live/t", { frames: 10 });
    const second = await sending(s.rtmpUrl("live/t"), "t?user=enc&pass=pw");
    assert.ok(await cutOff(first.client), "the first publisher is cut off");
    assert.equal(s.sluice.hub.stream("live/t")!.stats.publishers, 2);
    await second.close();
    await first.close();
  },
);

Deno.test(
  "RTMP (auto): credentials of a path that asks for none do not count",
  opts,
  async () => {
    await using s = sluiceWith({});
    const first = await sending(s.rtmpUrl("live/t"));
    await s.published("live/t", { frames: 10 });
    const second = await RtmpClient.connect(s.rtmpUrl("live/t"));
    await assert.rejects(second.publish("t?user=enc&pass=pw"), refusedAsBusy);
    second.close();
    await first.close();
  },
);

Deno.test(
  "RTMP: overridePublisher true lets anyone take over a sending publisher",
  opts,
  async () => {
    await using s = sluiceWith({ overridePublisher: true });
    const first = await sending(s.rtmpUrl("live/t"));
    await s.published("live/t", { frames: 10 });
    const second = await sending(s.rtmpUrl("live/t"));
    assert.ok(await cutOff(first.client));
    await second.close();
    await first.close();
  },
);

Deno.test(
  "RTMP: overridePublisher false refuses a newcomer even to a silent path, per path as globally",
  opts,
  async () => {
    for (
      const config of [
        { overridePublisher: false },
        { paths: { "live/t": { overridePublisher: false } } },
      ] satisfies ConfigInput[]
    ) {
      await using s = sluiceWith(config);
      const first = await sending(s.rtmpUrl("live/t"));
      await s.published("live/t", { frames: 10 });
      first.pause();
      await new Promise((r) => setTimeout(r, 400));
      const second = await RtmpClient.connect(s.rtmpUrl("live/t"));
      await assert.rejects(second.publish(), refusedAsBusy);
      second.close();
      await first.close();
    }
  },
);

const SDP = [
  "v=0",
  "o=- 0 0 IN IP4 127.0.0.1",
  "s=No Name",
  "t=0 0",
  "m=video 0 RTP/AVP 96",
  "a=rtpmap:96 H264/90000",
  "a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LADdoFB+wEQAAAAwBAAAAMg8UKqA==,aM4PyA==; profile-level-id=42C00D",
  "a=control:streamid=0",
  "",
].join("\r\n");

/** ANNOUNCE, SETUP and RECORD over TCP as ffmpeg sends them; the RECORD status. */
async function record(
  s: TestSluice,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; c: RawRtsp }> {
  const c = await RawRtsp.connect(s.sluice.rtspPort!);
  const url = s.rtspUrl(path);
  const announce = await c.request("ANNOUNCE", url, {
    "Content-Type": "application/sdp",
    ...headers,
  }, SDP);
  assert.equal(announce.status, 200);
  const setup = await c.request("SETUP", `${url}/streamid=0`, {
    Transport: "RTP/AVP/TCP;unicast;interleaved=0-1;mode=record",
    ...headers,
  });
  assert.equal(setup.status, 200);
  const session = setup.headers.get("Session")!.split(";")[0]!;
  const r = await c.request("RECORD", url, {
    Session: session,
    Range: "npt=0.000-",
    ...headers,
  });
  return { status: r.status, c };
}

Deno.test(
  "RTSP (auto): RECORD to a path whose publisher sends is refused with 403; with credentials it takes over",
  opts,
  async () => {
    await using s = sluiceWith({
      paths: { "live/auth": { publishUser: "enc", publishPass: "pw" } },
    });
    const first = await sending(s.rtmpUrl("live/t"));
    await s.published("live/t", { frames: 10 });
    const refused = await record(s, "live/t");
    assert.equal(refused.status, 403);
    refused.c.close();
    assert.equal(s.sluice.hub.stream("live/t")!.stats.publishers, 1);

    const owner = await sending(
      s.rtmpUrl("live/auth"),
      "auth?user=enc&pass=pw",
    );
    await s.published("live/auth", { frames: 10 });
    const basic = `Basic ${btoa("enc:pw")}`;
    const taken = await record(s, "live/auth", { Authorization: basic });
    assert.equal(taken.status, 200);
    assert.ok(await cutOff(owner.client), "the RTMP publisher is cut off");
    taken.c.close();
    await owner.close();
    await first.close();
  },
);

Deno.test(
  "RTSP (auto): RECORD takes over a silent publisher",
  opts,
  async () => {
    await using s = sluiceWith({});
    const first = await sending(s.rtmpUrl("live/t"));
    await s.published("live/t", { frames: 10 });
    first.pause();
    await new Promise((r) => setTimeout(r, 400));
    const taken = await record(s, "live/t");
    assert.equal(taken.status, 200);
    assert.ok(await cutOff(first.client));
    taken.c.close();
    await first.close();
  },
);
