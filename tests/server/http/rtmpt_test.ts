/**
 * RTMPT on the HTTP port, driven by fetch: the request paths and their
 * answers, the RTMP handshake through `/send`, and bad input (unknown id,
 * sequence numbers out of order, huge bodies, garbage RTMP, sessions that
 * never poll, many `/open`s).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createLogger } from "../../../lib/log.ts";
import type { StreamConn } from "../../../lib/net/tcp.ts";
import {
  PollInterval,
  RTMPT_CONTENT_TYPE,
  RtmptTunnels,
} from "../../../lib/server/http/rtmpt.ts";
import { RtmptConn } from "../../../lib/server/http/rtmpt_conn.ts";
import {
  MAX_ID_LENGTH,
  MAX_SEQ,
  parseRtmptPath,
  type RtmptRequest,
} from "../../../lib/server/http/rtmpt_path.ts";
import { startTestSluice, type TestSluice } from "../../_util/sluice.ts";
import { until } from "../../_util/wait.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

interface Answer {
  status: number;
  type: string | null;
  bytes: Uint8Array;
}

async function post(
  s: TestSluice,
  path: string,
  body: BodyInit = new Uint8Array([0]),
): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${s.sluice.httpPort}${path}`, {
    method: "POST",
    headers: { "Content-Type": RTMPT_CONTENT_TYPE },
    body,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get("Content-Type"), bytes };
}

async function open(s: TestSluice): Promise<string> {
  const a = await post(s, "/open/1");
  assert.equal(a.status, 200);
  const id = new TextDecoder().decode(a.bytes).trim();
  assert.match(id, /^[0-9a-f]{16}$/);
  return id;
}

/** C0 (version 3) and C1 (time, zero, random) of RTMP §5.2. */
function c0c1(version = 3): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(1 + 1536);
  b[0] = version;
  crypto.getRandomValues(b.subarray(9, 1537));
  return b;
}

function rtmpt(s: TestSluice): RtmptTunnels {
  return s.sluice.http!.rtmpt!;
}

Deno.test(
  "RTMPT: /fcs/ident2 is 404, /open/1 answers an id, /idle answers the interval byte",
  opts,
  async () => {
    await using s = startTestSluice();
    const ident = await post(s, "/fcs/ident2");
    assert.equal(ident.status, 404);
    const id = await open(s);
    const idle = await post(s, `/idle/${id}/0`);
    assert.equal(idle.status, 200);
    assert.equal(idle.type, RTMPT_CONTENT_TYPE);
    assert.deepEqual([...idle.bytes], [1], "the interval byte, nothing else");
    assert.equal(rtmpt(s).sessions, 1);
    const close = await post(s, `/close/${id}/1`);
    assert.equal(close.status, 200);
    assert.equal(close.bytes[0], 1);
    assert.equal(rtmpt(s).sessions, 0);
    await until(
      () => s.sluice.rtmp!.sessions === 0,
      2000,
      () => "RTMP session",
    );
  },
);

Deno.test(
  "RTMPT: /send carries C0C1 and its answer carries S0S1S2 after the interval byte",
  opts,
  async () => {
    await using s = startTestSluice();
    const id = await open(s);
    const a = await post(s, `/send/${id}/0`, c0c1());
    assert.equal(a.status, 200);
    assert.equal(a.bytes.length, 1 + 1 + 1536 + 1536);
    assert.equal(a.bytes[0], 1);
    assert.equal(a.bytes[1], 3, "S0: RTMP version 3");
  },
);

Deno.test("RTMPT: an unknown id gets 404 and is counted", opts, async () => {
  await using s = startTestSluice();
  for (
    const path of ["/idle/0123456789abcdef/0", "/send/abc/1", "/close/x/0"]
  ) {
    const a = await post(s, path);
    assert.equal(a.status, 404, path);
  }
  assert.equal(rtmpt(s).stats.unknown, 3);
  assert.equal(rtmpt(s).stats.opened, 0);
});

Deno.test(
  "RTMPT: a replayed or skipped sequence number gets 400 and ends that session alone",
  opts,
  async () => {
    await using s = startTestSluice();
    const a = await open(s);
    const b = await open(s);
    assert.equal((await post(s, `/idle/${a}/0`)).status, 200);
    assert.equal((await post(s, `/idle/${a}/1`)).status, 200);
    const replay = await post(s, `/idle/${a}/1`);
    assert.equal(replay.status, 400);
    assert.match(new TextDecoder().decode(replay.bytes), /sequence number 1/);
    assert.equal((await post(s, `/idle/${a}/2`)).status, 404, "a is gone");
    assert.equal((await post(s, `/idle/${b}/5`)).status, 400, "first seq 5");
    const c = await open(s);
    assert.equal((await post(s, `/idle/${c}/1`)).status, 200, "first seq 1");
    assert.equal((await post(s, `/idle/${c}/3`)).status, 400, "skipped 2");
    assert.equal(rtmpt(s).stats.rejected, 3);
    assert.equal(rtmpt(s).sessions, 0);
  },
);

Deno.test(
  "RTMPT: a body over 4 MiB gets 413, by Content-Length or chunked",
  opts,
  async () => {
    await using s = startTestSluice();
    const huge = new Uint8Array(4 * 1024 * 1024 + 1);
    const a = await open(s);
    assert.equal((await post(s, `/send/${a}/0`, huge)).status, 413);
    const b = await open(s);
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 65; i++) c.enqueue(new Uint8Array(65536));
        c.close();
      },
    });
    assert.equal((await post(s, `/send/${b}/0`, chunked)).status, 413);
    assert.equal(rtmpt(s).sessions, 0);
    assert.equal(rtmpt(s).stats.rejected, 2);
  },
);

/** Sends a /send whose body stops after 10 of 100 bytes; resolves with what came back. */
async function stalledSend(s: TestSluice, id: string): Promise<string> {
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: s.sluice.httpPort!,
  });
  try {
    await conn.write(
      new TextEncoder().encode(
        `POST /send/${id}/0 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          `Content-Type: ${RTMPT_CONTENT_TYPE}\r\nContent-Length: 100\r\n\r\n`,
      ),
    );
    await conn.write(new Uint8Array(10));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0));
  } finally {
    conn.close();
  }
}

Deno.test(
  "RTMPT: a body that stalls gets 408 after the read timeout and ends its session",
  opts,
  async () => {
    await using s = startTestSluice({ readTimeout: "1s" });
    const id = await open(s);
    const started = Date.now();
    const text = await stalledSend(s, id);
    assert.match(text, /^HTTP\/1\.1 408/);
    assert.ok(Date.now() - started >= 900, "not before the timeout");
    assert.equal(rtmpt(s).stats.rejected, 1);
    assert.equal(rtmpt(s).sessions, 0);
  },
);

Deno.test(
  "RTMPT: shutting down does not wait for a body that stalls",
  opts,
  async () => {
    const s = startTestSluice({ readTimeout: "30s" });
    const id = await open(s);
    const sent = stalledSend(s, id);
    await until(() => rtmpt(s).sessions === 1, 1000, () => "open");
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await s.close();
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    await sent.catch(() => "");
    assert.equal(rtmpt(s).sessions, 0);
  },
);

Deno.test(
  "RTMPT: garbage RTMP ends that session; another session goes on",
  opts,
  async () => {
    await using s = startTestSluice({ rtmpMaxMessageSize: "64KiB" });
    const bad = await open(s);
    const good = await open(s);
    const g = await post(s, `/send/${good}/0`, c0c1());
    assert.equal(g.bytes.length, 1 + 3073);
    // Not RTMP at all: C0 is no version Sluice speaks.
    const a = await post(s, `/send/${bad}/0`, c0c1(0x47));
    assert.equal(a.status, 200);
    assert.equal(a.bytes.length, 1, "no S0S1S2");
    assert.equal((await post(s, `/idle/${bad}/1`)).status, 404);
    // After a good handshake, a chunk announcing a 16 MiB message (§5.3.1.2).
    const c2 = g.bytes.subarray(2, 2 + 1536);
    const chunk = new Uint8Array([0x03, 0, 0, 0, 0xff, 0xff, 0xff, 0x14]);
    const b = await post(
      s,
      `/send/${good}/1`,
      new Uint8Array([...c2, ...chunk, 0, 0, 0, 0, 1, 2, 3]),
    );
    assert.equal(b.status, 200);
    assert.equal((await post(s, `/idle/${good}/2`)).status, 404);
    assert.equal(s.sluice.rtmp!.stats.protocolErrors, 2);
    // A third session still gets its handshake.
    const other = await open(s);
    const o = await post(s, `/send/${other}/0`, c0c1());
    assert.equal(o.bytes.length, 1 + 3073);
  },
);

Deno.test(
  "RTMPT: a session that never polls is closed after the read timeout, its RTMP session too",
  opts,
  async () => {
    await using s = startTestSluice({ readTimeout: "1s" });
    const id = await open(s);
    assert.equal(s.sluice.rtmp!.sessions, 1);
    await until(() => rtmpt(s).sessions === 0, 5000, () => "tunnel open");
    await until(() => s.sluice.rtmp!.sessions === 0, 2000, () => "RTMP open");
    assert.equal((await post(s, `/idle/${id}/0`)).status, 404);
  },
);

Deno.test(
  "RTMPT: many /open that never poll all time out; each got its own id",
  opts,
  async () => {
    // Long enough that no tunnel times out while 100 open on a loaded machine.
    await using s = startTestSluice({ readTimeout: "4s" });
    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) ids.add(await open(s));
    assert.equal(ids.size, 100);
    assert.equal(rtmpt(s).sessions, 100);
    // the tunnel's timeout or the RTMP handshake's, whichever ticks first
    await until(() => rtmpt(s).sessions === 0, 10_000, () => "tunnels open");
    await until(() => s.sluice.rtmp!.sessions === 0, 2000, () => "RTMP open");
  },
);

Deno.test("RTMPT: /open beyond maxSessions gets 503", async () => {
  const conns: StreamConn[] = [];
  const t = new RtmptTunnels({
    run: (conn) => conns.push(conn),
    log: createLogger({ write: () => {} }),
    timeoutMs: 60_000,
    maxSessions: 3,
  });
  const remote: Deno.NetAddr = {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 1,
  };
  const openReq = () => new Request("http://h/open/1", { method: "POST" });
  for (let i = 0; i < 3; i++) {
    assert.equal((await t.handle(openReq(), "/open/1", remote)).status, 200);
  }
  const refused = await t.handle(openReq(), "/open/1", remote);
  assert.equal(refused.status, 503);
  assert.equal(t.stats.refused, 1);
  conns[0]!.close(); // the RTMP session ended: room for one more
  assert.equal((await t.handle(openReq(), "/open/1", remote)).status, 200);
  t.close();
  assert.equal(t.sessions, 0);
});

Deno.test("RtmptTunnels closes a session with no request for timeoutMs", async () => {
  const conns: RtmptConn[] = [];
  const t = new RtmptTunnels({
    run: (conn) => conns.push(conn as RtmptConn),
    log: createLogger({ write: () => {} }),
    timeoutMs: 10_000,
  });
  const remote: Deno.NetAddr = {
    transport: "tcp",
    hostname: "127.0.0.1",
    port: 1,
  };
  const req = new Request("http://h/open/1", { method: "POST" });
  const id = (await (await t.handle(req, "/open/1", remote)).text()).trim();
  t.tick(Date.now() + 5_000);
  assert.equal(t.sessions, 1, "within the timeout");
  const idle = new Request(`http://h/idle/${id}/0`, { method: "POST" });
  assert.equal((await t.handle(idle, `/idle/${id}/0`, remote)).status, 200);
  t.tick(Date.now() + 9_000);
  assert.equal(t.sessions, 1, "the poll restarted the clock");
  t.tick(Date.now() + 10_100);
  assert.equal(t.sessions, 0);
  assert.equal(t.stats.timedOut, 1);
  assert.equal(conns[0]!.closed, true);
  assert.equal(await conns[0]!.read(new Uint8Array(1)), null);
});

Deno.test(
  "RTMPT: it is off when the rtmpt key is false, or RTMP is",
  opts,
  async () => {
    await using s = startTestSluice({ rtmpt: false });
    assert.equal((await post(s, "/open/1")).status, 404);
    assert.equal(s.sluice.http!.rtmpt, undefined);
    // Its sessions are the RTMP server's: without one there is no RTMPT either.
    await using noRtmp = startTestSluice({ rtmp: false });
    assert.equal((await post(noRtmp, "/open/1")).status, 404);
  },
);

Deno.test("PollInterval stays 1 while data flows and grows to 0x21 when idle", () => {
  const p = new PollInterval();
  const quiet = Array.from({ length: 20 }, () => p.next(false));
  assert.deepEqual(quiet.slice(0, 10), Array(10).fill(1));
  assert.deepEqual(quiet.slice(10, 16), [2, 4, 8, 16, 32, 0x21]);
  assert.equal(quiet[19], 0x21);
  assert.equal(p.next(true), 1);
  assert.equal(p.next(false), 1);
});

const remote: Deno.NetAddr = { transport: "tcp", hostname: "h", port: 1 };

Deno.test("RtmptConn: a write past maxQueuedBytes waits for a poll", async () => {
  const conn = new RtmptConn({ remoteAddr: remote, maxQueuedBytes: 4 });
  assert.equal(await conn.write(new Uint8Array([1, 2, 3])), 3);
  let done = false;
  const w = conn.write(new Uint8Array([4, 5])).then((n) => (done = true, n));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(done, false, "5 bytes queued, over 4");
  assert.deepEqual([...conn.take()], [1, 2, 3, 4, 5]);
  assert.equal(await w, 2);
  assert.equal(conn.take().length, 0);
  // A close fails the waiting write as a socket close would.
  assert.equal(await conn.write(new Uint8Array(4)), 4);
  const stuck = conn.write(new Uint8Array(1));
  conn.close();
  await assert.rejects(stuck);
});

Deno.test("RtmptConn: reads what was pushed, in order, then the end", async () => {
  const conn = new RtmptConn({ remoteAddr: remote });
  const pending = conn.read(new Uint8Array(3));
  const pushed = conn.push(new Uint8Array([1, 2, 3, 4, 5]));
  assert.equal(await pending, 3);
  assert.equal(conn.unreadBytes, 2);
  const p = new Uint8Array(8);
  assert.equal(await conn.read(p), 2);
  assert.deepEqual([...p.subarray(0, 2)], [4, 5]);
  await pushed; // resolved once all of it was read
  const last = conn.push(new Uint8Array([6]));
  conn.end();
  assert.equal(await conn.read(p), 1, "what came before the end is read");
  await last;
  assert.equal(await conn.read(p), null);
});

const COMMANDS = ["send", "idle", "close"] as const;
const idArb = fc.stringMatching(/^[A-Za-z0-9]{1,63}$/);
const seqArb = fc.integer({ min: 0, max: MAX_SEQ });

function format(r: RtmptRequest): string {
  if (r.command === "ident") return "/fcs/ident2";
  if (r.command === "open") return "/open/1";
  return `/${r.command}/${r.id}/${r.seq}`;
}

Deno.test("parseRtmptPath reads every well-formed path back", () => {
  fc.assert(
    fc.property(fc.constantFrom(...COMMANDS), idArb, seqArb, (c, id, seq) => {
      assert.deepEqual(parseRtmptPath(`/${c}/${id}/${seq}`), {
        command: c,
        id,
        seq,
      });
    }),
  );
});

Deno.test("parseRtmptPath accepts only the canonical form of a request", () => {
  const piece = fc.oneof(
    fc.constantFrom(...COMMANDS, "open", "fcs", "ident2", "1", "0", "01"),
    fc.constantFrom("-1", "+1", "2147483648", "99999999999", " 1", "1.0"),
    idArb,
    fc.string({ maxLength: 70 }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 5 }), (parts) => {
      const path = "/" + parts.join("/");
      const r = parseRtmptPath(path);
      if (r === undefined) return;
      assert.equal(format(r), path);
      if (r.command === "ident" || r.command === "open") return;
      assert.ok(r.seq >= 0 && r.seq <= MAX_SEQ && Number.isInteger(r.seq));
      assert.ok(r.id.length >= 1 && r.id.length <= MAX_ID_LENGTH);
    }),
    { numRuns: 2000 },
  );
  for (
    const bad of [
      "/send/abc/01",
      "/send/abc/-1",
      "/send/abc/2147483648",
      "/send//1",
      "/send/a-b/1",
      `/send/${"a".repeat(64)}/1`,
      "/send/abc/1/",
      "/open/2",
      "/OPEN/1",
      "/idle/abc",
    ]
  ) assert.equal(parseRtmptPath(bad), undefined, bad);
});
