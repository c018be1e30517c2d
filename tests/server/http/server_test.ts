/**
 * The HTTP server's HTTP-FLV, driven by fetch and Sluice's RTMP client:
 * what a player receives, waiting, errors, auth, CORS and slow readers.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { RtmpClient } from "../../../lib/client/rtmp.ts";
import { FlvDemuxer } from "../../../lib/flv/file.ts";
import type { FlvTag } from "../../../lib/flv/tag.ts";
import { httpPath } from "../../../lib/server/http/flv_players.ts";
import { isValidPath } from "../../../lib/path.ts";
import { fixtureTags, publishLoops } from "../../_util/flv_fixture.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";
import { until } from "../../_util/wait.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Reads an HTTP-FLV body into tags until `enough` says so or it ends. */
async function readTags(
  res: Response,
  enough: (tags: FlvTag[]) => boolean,
  timeoutMs = 10_000,
): Promise<{ tags: FlvTag[]; header: FlvDemuxer["header"]; ended: boolean }> {
  const demuxer = new FlvDemuxer();
  const tags: FlvTag[] = [];
  const reader = res.body!.getReader();
  const timer = setTimeout(() => reader.cancel(), timeoutMs);
  let ended = false;
  try {
    while (!enough(tags)) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      demuxer.push(value, { enqueue: (t) => tags.push(t) });
    }
  } finally {
    clearTimeout(timer);
    if (!ended) await reader.cancel();
  }
  return { tags, header: demuxer.header, ended };
}

const codedVideo = (tags: FlvTag[]) =>
  tags.filter((t) => t.type === 9 && t.data[1] === 1);

function why(s: TestSluice): string {
  return s.logs.join("\n");
}

Deno.test(
  "HTTP-FLV: a player gets the header, metadata, sequence headers and a keyframe first, then live frames",
  opts,
  async () => {
    await using s = startTestSluice();
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/h"));
    await pub.publish();
    await publishLoops(pub, tags, 1);
    const res = await fetch(s.flvUrl("live/h"));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "video/x-flv");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const reading = readTags(res, (t) => codedVideo(t).length >= 100);
    const sent = await publishLoops(pub, tags, 3, 20);
    const got = await reading;
    pub.close();

    assert.deepEqual(got.header, { hasAudio: true, hasVideo: true });
    const [meta, first, second] = got.tags;
    assert.equal(meta?.type, 18, "onMetaData first");
    assert.equal(meta?.timestamp, 0);
    const configs = [first, second].map((t) => [t?.type, t?.data[1]]);
    assert.deepEqual(
      configs.sort(),
      [[8, 0], [9, 0]],
      "AAC and AVC sequence headers next",
    );
    const video = codedVideo(got.tags);
    assert.equal(
      video[0]!.data[0]! >> 4,
      1,
      "the first coded frame is a keyframe",
    );
    assert.ok(video.length >= 100, `${video.length} of ${sent} live frames`);
    for (const kind of [8, 9]) {
      const ts = got.tags.filter((t) => t.type === kind).map((t) =>
        t.timestamp
      );
      for (let i = 1; i < ts.length; i++) {
        assert.ok(ts[i]! >= ts[i - 1]!, `type ${kind} timestamps go forward`);
      }
    }
  },
);

Deno.test(
  "HTTP-FLV: a player that comes first waits and starts when the publisher arrives",
  opts,
  async () => {
    await using s = startTestSluice({ playWaitTimeout: "10s" });
    const responding = fetch(s.flvUrl("live/early"));
    let answered = false;
    void responding.then(() => answered = true);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(answered, false, "no answer before there is a stream");
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/early"));
    await pub.publish();
    const publishing = publishLoops(pub, tags, 2, 20);
    const res = await responding;
    assert.equal(res.status, 200);
    const got = await readTags(res, (t) => codedVideo(t).length >= 50);
    await publishing;
    pub.close();
    assert.ok(codedVideo(got.tags).length >= 50);
  },
);

Deno.test(
  "HTTP-FLV: a missing stream is 404 once the wait has passed; other paths are 404, bad paths 400",
  opts,
  async () => {
    await using s = startTestSluice({ playWaitTimeout: "300ms" });
    const started = Date.now();
    const missing = await fetch(s.flvUrl("live/none"));
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /no stream live\/none/);
    assert.ok(Date.now() - started >= 250, "it waited for a publisher first");
    const base = `http://127.0.0.1:${s.sluice.httpPort}`;
    for (
      const [url, status] of [
        [`${base}/live/x`, 404],
        [`${base}/live/..%5cx.flv`, 400],
        [`${base}/%ff.flv`, 400],
        [`${base}/.flv`, 400],
        [`${base}/a%00b.flv`, 400],
      ] as const
    ) {
      const res = await fetch(url);
      await res.body?.cancel();
      assert.equal(res.status, status, url);
    }
  },
);

Deno.test(
  "HTTP-FLV: browsers' CORS preflight is answered",
  opts,
  async () => {
    await using s = startTestSluice();
    const res = await fetch(s.flvUrl("live/c"), {
      method: "OPTIONS",
      headers: {
        Origin: "http://example.test",
        "Access-Control-Request-Method": "GET",
      },
    });
    await res.body?.cancel();
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-allow-methods") ?? "", /GET/);
  },
);

Deno.test(
  "HTTP-FLV: read credentials are asked for with Basic, taken from Authorization or the query",
  opts,
  async () => {
    await using s = startTestSluice({
      paths: { "live/sec": { readUser: "viewer", readPass: "s3cret" } },
    });
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/sec"));
    await pub.publish();
    await publishLoops(pub, tags, 1);

    const none = await fetch(s.flvUrl("live/sec"));
    await none.body?.cancel();
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("www-authenticate"), 'Basic realm="Sluice"');
    const wrong = await fetch(s.flvUrl("live/sec"), {
      headers: { Authorization: `Basic ${btoa("viewer:nope")}` },
    });
    await wrong.body?.cancel();
    assert.equal(wrong.status, 401);
    const garbage = await fetch(s.flvUrl("live/sec"), {
      headers: { Authorization: "Basic !!!" },
    });
    await garbage.body?.cancel();
    assert.equal(garbage.status, 401);

    const basic = await fetch(s.flvUrl("live/sec"), {
      headers: { Authorization: `Basic ${btoa("viewer:s3cret")}` },
    });
    assert.equal(basic.status, 200);
    const byQuery = await fetch(
      `${s.flvUrl("live/sec")}?user=viewer&pass=s3cret`,
    );
    assert.equal(byQuery.status, 200);
    const reading = [basic, byQuery].map((r) =>
      readTags(r, (t) => codedVideo(t).length >= 20)
    );
    await publishLoops(pub, tags, 1, 20);
    for (const got of await Promise.all(reading)) {
      assert.ok(codedVideo(got.tags).length >= 20);
    }
    pub.close();
  },
);

Deno.test(
  "HTTP-FLV: the body ends when the stream ends, and a player that leaves is forgotten",
  opts,
  async () => {
    await using s = startTestSluice({ publisherGracePeriod: "200ms" });
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/end"));
    await pub.publish();
    await publishLoops(pub, tags, 1);
    const leaving = await fetch(s.flvUrl("live/end"));
    await readTags(leaving, (t) => codedVideo(t).length >= 1);
    const staying = await fetch(s.flvUrl("live/end"));
    const stream = s.sluice.hub.stream("live/end")!;
    await until(() => stream.readers === 1, 5000, () => why(s));
    assert.equal(s.sluice.http!.players, 1);
    pub.close();
    const got = await readTags(staying, () => false);
    assert.ok(got.ended, "the body ended");
    assert.ok(codedVideo(got.tags).length > 0);
    await until(() => s.sluice.http!.players === 0, 5000, () => why(s));
  },
);

Deno.test(
  "HTTP-FLV: a player that stops reading is dropped; another one gets every frame",
  opts,
  async () => {
    await using s = startTestSluice({
      writeQueueSize: "1MiB",
      writeTimeout: "1s",
    });
    const tags = await fixtureTags();
    const pub = await RtmpClient.connect(s.rtmpUrl("live/slow"));
    await pub.publish();
    await publishLoops(pub, tags, 1);
    const good = await fetch(s.flvUrl("live/slow"));
    const stuck = await fetch(s.flvUrl("live/slow")); // its body is never read
    let goodVideo = 0;
    let goodDone = false;
    const reading = (async () => {
      const d = new FlvDemuxer();
      for await (const chunk of good.body!) {
        d.push(chunk, {
          enqueue: (t) => {
            if (t.type === 9 && t.data[1] === 1) goodVideo++;
          },
        });
        if (goodDone) break;
      }
    })();
    // ~20 MB: more than loopback socket buffers can absorb for the stuck player
    const published = await publishLoops(pub, tags, 400, 2);
    await until(
      () => s.logs.some((l) => l.includes("dropping reader")),
      15_000,
      () => why(s),
    );
    // The dropped player's connection closes though its client reads nothing.
    await until(
      () => s.sluice.http!.stats.connections === 1,
      5_000,
      () => `${s.sluice.http!.stats.connections} connections\n${why(s)}`,
    );
    await until(
      () => goodVideo >= published,
      10_000,
      () => `good player got ${goodVideo} of ${published}\n${why(s)}`,
    );
    const stream = s.sluice.hub.stream("live/slow")!;
    assert.ok(stream.stats.readerDrops > 0);
    assert.equal(stream.stats.readersDropped, 1);
    assert.equal(s.sluice.http!.stats.readersDropped, 1);
    assert.equal(stream.readers, 1, "only the good player is left");
    goodDone = true;
    pub.close();
    await stuck.body?.cancel().catch(() => {});
    await reading.catch(() => {});
  },
);

Deno.test("httpPath: any URL path gives a valid hub path or undefined, never a throw", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (raw) => {
      const path = httpPath(raw);
      if (path !== undefined) assert.ok(isValidPath(path), path);
    }),
  );
  assert.equal(httpPath("/live//cam1/"), "live/cam1");
  assert.equal(httpPath("/live/caf%C3%A9"), "live/café");
  assert.equal(httpPath("/live/%2e%2e"), undefined);
  assert.equal(httpPath("/%E0%A4%A"), undefined);
});

Deno.test("HTTP server on a busy port fails at start naming the address", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    assert.throws(
      () => startTestSluice({ httpAddress: `127.0.0.1:${port}` }, "error"),
      new RegExp(`Cannot listen on TCP 127.0.0.1:${port}`),
    );
  } finally {
    taken.close();
  }
});
