/**
 * The HLS routes against a live ffmpeg publisher: Low-Latency HLS blocking
 * reload, blocking part requests, delta updates, Cache-Control per object,
 * and bad input (traversal, absurd `_HLS_msn`/`_HLS_part`, a flood of
 * blocking requests, segments long gone), each answered with its 4xx while
 * the stream plays on.
 */
import assert from "node:assert/strict";
import { publishTestSignal } from "../../_util/ffmpeg.ts";
import { rawExchange, rawHttp } from "../../_util/http_raw.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";
import { requireTool } from "../../_util/tools.ts";
import { MAX_BLOCKED_PER_CLIENT } from "../../../lib/server/http/hls.ts";

const ignore = requireTool("ffmpeg");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

function base(s: TestSluice, path: string): string {
  return `http://127.0.0.1:${s.sluice.httpPort}/${path}/`;
}

async function get(url: string, init?: RequestInit) {
  const r = await fetch(url, init);
  const body = new Uint8Array(await r.arrayBuffer());
  return {
    status: r.status,
    headers: r.headers,
    body,
    text: new TextDecoder().decode(body),
  };
}

/** The last `#EXT-X-PART` URI and the preload hint of a playlist. */
function lastParts(text: string) {
  const parts = [...text.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)].map((
    m,
  ) => m[1]!);
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1];
  return { last: parts.at(-1), hint, parts };
}

/** msn and part index of a part URI `<prefix>_<msn>_<part>.mp4`. */
function numbers(uri: string): [number, number] {
  const m = /_(\d+)_(\d+)\.mp4$/.exec(uri)!;
  return [Number(m[1]), Number(m[2])];
}

Deno.test(
  "HLS: LL-HLS playlist, blocking reload, blocking part request, delta update and caching",
  opts,
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtmpUrl("live/ll"), { seconds: 30 });
    await s.published("live/ll", { frames: 10 });
    const url = base(s, "live/ll");

    const multi = await get(url + "index.m3u8");
    assert.equal(multi.status, 200);
    assert.equal(
      multi.headers.get("content-type"),
      "application/vnd.apple.mpegurl",
    );
    assert.equal(multi.headers.get("cache-control"), "public, max-age=5");
    assert.equal(multi.headers.get("access-control-allow-origin"), "*");
    assert.match(
      multi.text,
      /CODECS="avc1\.[0-9a-fA-F]{6},mp4a\.40\.2",RESOLUTION=320x240\nstream\.m3u8\n/,
    );

    const media = await get(url + "stream.m3u8");
    assert.equal(media.status, 200);
    assert.equal(media.headers.get("cache-control"), "public, max-age=1");
    for (
      const tag of [
        "#EXT-X-PART-INF:PART-TARGET=0.2",
        "CAN-BLOCK-RELOAD=YES",
        "PART-HOLD-BACK=",
        "#EXT-X-PROGRAM-DATE-TIME:",
        "#EXT-X-MAP:URI=",
      ]
    ) {
      assert.ok(media.text.includes(tag), `${tag} in\n${media.text}`);
    }
    const { hint } = lastParts(media.text);
    assert.ok(hint !== undefined, media.text);
    const [msn, part] = numbers(hint);

    // Blocking part request: the preload hint is answered once it exists.
    const started = Date.now();
    const hinted = await get(url + hint);
    assert.equal(hinted.status, 200);
    assert.equal(
      hinted.headers.get("cache-control"),
      "public, max-age=31536000, immutable",
    );
    assert.equal(new TextDecoder().decode(hinted.body.subarray(4, 8)), "moof");
    assert.ok(Date.now() - started < 3000);

    // Blocking reload for the part after it: the playlist then lists it.
    const next = await get(
      `${url}stream.m3u8?_HLS_msn=${msn}&_HLS_part=${part + 1}`,
    );
    assert.equal(next.status, 200);
    assert.equal(next.headers.get("cache-control"), "public, max-age=60");
    const listed = lastParts(next.text).parts.map(numbers);
    assert.ok(
      listed.some(([m, p]) => m > msn || (m === msn && p >= part + 1)),
      next.text,
    );

    // The init segment is immutable and an ftyp.
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(media.text)![1]!;
    const initBody = await get(url + init);
    assert.equal(
      new TextDecoder().decode(initBody.body.subarray(4, 8)),
      "ftyp",
    );
    assert.equal(
      initBody.headers.get("cache-control"),
      "public, max-age=31536000, immutable",
    );

    // Delta update once the window is longer than CAN-SKIP-UNTIL (6 s).
    await new Promise((r) => setTimeout(r, 7500));
    const full = await get(url + "stream.m3u8");
    const delta = await get(url + "stream.m3u8?_HLS_skip=YES");
    assert.match(delta.text, /#EXT-X-SKIP:SKIPPED-SEGMENTS=\d+\n/);
    assert.ok(delta.text.length < full.text.length);

    // Segments are their parts, and names stay valid while in the window.
    const seg = /\n([0-9a-f]{8}_\d+\.mp4)\n/.exec(full.text)![1]!;
    const segBody = await get(url + seg);
    assert.equal(segBody.status, 200);
    assert.equal(segBody.headers.get("content-type"), "video/mp4");
  },
);

Deno.test(
  "HLS: bad input gets its 4xx and the stream plays on",
  opts,
  async () => {
    await using s = startTestSluice({ hlsSegmentCount: 2 });
    await using _pub = publishTestSignal(s.rtmpUrl("live/bad"), {
      seconds: 30,
    });
    await s.published("live/bad", { frames: 10 });
    const url = base(s, "live/bad");
    const first = await get(url + "stream.m3u8");
    assert.equal(first.status, 200);
    const firstSegment = /\n([0-9a-f]{8})_(\d+)\.mp4\n/.exec(first.text)!;
    const prefix = firstSegment[1]!;

    // Path traversal, as sent on the wire (fetch would resolve the dots).
    const port = s.sluice.httpPort!;
    for (
      const target of [
        "/live/../../etc/index.m3u8",
        "/live/%2e%2e/bad/index.m3u8",
        "/live/bad/..%2fstream.m3u8",
      ]
    ) {
      const r = await rawHttp(
        port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      assert.ok(r.status === 400 || r.status === 404, `${target}: ${r.status}`);
    }
    // Absurd and negative _HLS_msn / _HLS_part, _HLS_part without _HLS_msn
    for (
      const q of [
        "_HLS_msn=-1",
        "_HLS_msn=99999999",
        "_HLS_msn=1e3",
        "_HLS_msn=0&_HLS_part=-2",
        "_HLS_msn=0&_HLS_part=x",
        "_HLS_part=1",
        `_HLS_msn=0&_HLS_part=9999`,
        "_HLS_msn=123456789012",
      ]
    ) {
      const r = await get(`${url}stream.m3u8?${q}`);
      assert.equal(
        r.status,
        q === "_HLS_msn=0&_HLS_part=9999" ? 200 : 400,
        `${q}: ${r.text}`,
      );
      if (r.status === 400) {
        assert.equal(
          r.headers.get("cache-control"),
          "no-store",
        );
      }
    }
    // Files of another muxer run, and unknown names
    for (
      const name of [
        "00000000_0.mp4",
        `${prefix}_init99.mp4`,
        "stream.txt",
        `${prefix}_0_0.ts`,
        "index.m3u8.bak",
      ]
    ) {
      const r = await get(url + name);
      assert.equal(r.status, 404, name);
    }
    // A flood of blocking requests from one client: bounded, the rest get 429.
    const hint = /PRELOAD-HINT:TYPE=PART,URI="[0-9a-f]{8}_(\d+)_/.exec(
      first.text,
    )!;
    const ahead = Number(hint[1]) + 2; // allowed, and a second or two away
    const flood = [];
    const abort = new AbortController();
    for (let i = 0; i < MAX_BLOCKED_PER_CLIENT + 20; i++) {
      flood.push(
        fetch(`${url}stream.m3u8?_HLS_msn=${ahead}&_HLS_part=0&n=${i}`, {
          signal: abort.signal,
        })
          .then(async (r) => {
            await r.body?.cancel();
            return r.status;
          })
          .catch(() => 0),
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    const h = s.sluice.http!;
    void h;
    abort.abort();
    const statuses = await Promise.all(flood);
    const refused = statuses.filter((st) => st === 429).length;
    assert.ok(
      refused >= 20,
      `429 for ${refused} of ${statuses.length}: ${statuses}`,
    );
    // Segments long gone: 404, cacheable briefly
    await new Promise((r) => setTimeout(r, 4000));
    const gone = await get(`${url}${prefix}_0.mp4`);
    assert.equal(gone.status, 404);
    assert.equal(gone.headers.get("cache-control"), "public, max-age=1");
    // And the stream plays on.
    const after = await get(url + "stream.m3u8");
    assert.equal(after.status, 200);
    const seg = /\n([0-9a-f]{8}_\d+\.mp4)\n/.exec(after.text)![1]!;
    assert.equal((await get(url + seg)).status, 200);
  },
);

Deno.test(
  "HLS: a path without a publisher is 404 after playWaitTimeout; credentials as for HTTP-FLV",
  opts,
  async () => {
    await using s = startTestSluice({
      playWaitTimeout: "300ms",
      paths: { "live/sec": { readUser: "viewer", readPass: "pw" } },
    });
    const none = await get(base(s, "live/none") + "index.m3u8");
    assert.equal(none.status, 404);
    await using _pub = publishTestSignal(s.rtmpUrl("live/sec"), {
      seconds: 20,
    });
    await s.published("live/sec", { frames: 10 });
    const refused = await get(base(s, "live/sec") + "index.m3u8");
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get("www-authenticate") ?? "", /^Basic/);
    const ok = await get(base(s, "live/sec") + "index.m3u8", {
      headers: { Authorization: `Basic ${btoa("viewer:pw")}` },
    });
    assert.equal(ok.status, 200, ok.text);
    const query = await get(
      base(s, "live/sec") + "index.m3u8?user=viewer&pass=pw",
    );
    assert.equal(query.status, 200);
  },
);

Deno.test(
  "HLS: what is answered straight from the request head is what the routes answer",
  opts,
  async () => {
    await using s = startTestSluice({
      paths: { "live/same": { readUser: "viewer", readPass: "pw" } },
    });
    await using _pub = publishTestSignal(s.rtmpUrl("live/same"), {
      seconds: 30,
    });
    await s.published("live/same", { frames: 10 });
    const port = s.sluice.httpPort!;
    const basic = `Authorization: Basic ${btoa("viewer:pw")}\r\n`;
    const media = await get(base(s, "live/same") + "stream.m3u8", {
      headers: { Authorization: `Basic ${btoa("viewer:pw")}` },
    });
    assert.equal(media.status, 200, media.text);
    const { last } = lastParts(media.text);
    const segment = /\n([0-9a-f]{8}_\d+\.mp4)\n/.exec(media.text)![1]!;
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(media.text)![1]!;
    const cases: [string, string, string][] = [
      ["GET", "index.m3u8", basic],
      ["GET", "index.m3u8?user=viewer&pass=pw", ""],
      ["GET", "stream.m3u8", ""],
      ["GET", "stream.m3u8?user=viewer&pass=wrong", ""],
      ["GET", init, basic],
      ["GET", segment, basic],
      ["HEAD", segment, basic],
      ["GET", last!, basic],
      ["GET", "00000000_1.mp4", basic],
      ["GET", "stream.m3u8?_HLS_msn=x", basic],
    ];
    const direct = s.sluice.http!.stats.hlsDirect;
    for (const [method, file, auth] of cases) {
      const target = `/live/same/${file}`;
      const headers = `Host: 127.0.0.1\r\n${auth}Connection: close\r\n\r\n`;
      // The absolute form goes through hono; the origin form does not.
      const routed = await rawExchange(
        port,
        `${method} http://127.0.0.1${target} HTTP/1.1\r\n${headers}`,
      );
      const straight = await rawExchange(
        port,
        `${method} ${target} HTTP/1.1\r\n${headers}`,
      );
      assert.equal(straight.status, routed.status, `${method} ${file}`);
      assert.deepEqual(straight.fields, routed.fields, `${method} ${file}`);
      assert.deepEqual(straight.body, routed.body, `${method} ${file}`);
    }
    assert.equal(s.sluice.http!.stats.hlsDirect - direct, cases.length);
    // Asked again, a segment goes out from a memory file (sendfile): the same bytes.
    const routed = await rawExchange(
      port,
      `GET http://127.0.0.1/live/same/${segment} HTTP/1.1\r\nHost: 127.0.0.1\r\n${basic}Connection: close\r\n\r\n`,
    );
    for (let i = 0; i < 3; i++) {
      const again = await rawExchange(
        port,
        `GET /live/same/${segment} HTTP/1.1\r\nHost: 127.0.0.1\r\n${basic}Connection: close\r\n\r\n`,
      );
      assert.equal(again.status, "HTTP/1.1 200 OK");
      assert.deepEqual(again.body, routed.body);
    }
  },
);
