/**
 * REGISTER and DEREGISTER without sockets: a request in, the status out,
 * against a fake connection, a fake registrar and a real hub; and what a
 * link made by our own REGISTER lets the other side read.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { isValidPath } from "../../../lib/path.ts";
import { RtspAuthenticator } from "../../../lib/auth/credentials.ts";
import { ReaderQueue } from "../../../lib/egress/reader_queue.ts";
import { Hub } from "../../../lib/hub/hub.ts";
import { createLogger } from "../../../lib/log.ts";
import { BatchWriter, WriteBatcher } from "../../../lib/net/batch_writer.ts";
import type { StreamConn } from "../../../lib/net/tcp.ts";
import { RtspFramer } from "../../../lib/rtsp/framer.ts";
import { encodeRequest, type RtspRequest } from "../../../lib/rtsp/message.ts";
import { authorize } from "../../../lib/server/rtsp/access.ts";
import type {
  ConnectionContext,
  Registrar,
  Registration,
  ServerContext,
} from "../../../lib/server/rtsp/context.ts";
import { dispatch } from "../../../lib/server/rtsp/methods.ts";
import { MAX_REGISTERS_PER_CONNECTION } from "../../../lib/server/rtsp/register.ts";
import { answerOf } from "../../../lib/server/rtsp/reply.ts";
import {
  type Session,
  SessionTable,
} from "../../../lib/server/rtsp/sessions.ts";

const log = createLogger({ level: "error", write: () => {} });
const URL = "rtsp://10.0.0.5:8554/cam1";

function request(method: string, url: string, transport?: string): RtspRequest {
  let req: RtspRequest | undefined;
  const headers: [string, string][] = [["CSeq", "1"]];
  if (transport !== undefined) headers.push(["Transport", transport]);
  new RtspFramer().push(encodeRequest({ method, url, headers }), {
    enqueue: (m) => m.kind === "request" && (req = m),
  });
  return req!;
}

class FakeRegistrar implements Registrar {
  readonly calls: Registration[] = [];
  readonly paths = new Set<string>();
  readonly stats = { registered: 0, deregistered: 0, refused: 0 };
  fail: { status?: number } | undefined;
  has(path: string): boolean {
    return this.paths.has(path);
  }
  get size(): number {
    return this.paths.size;
  }
  register(r: Registration): Promise<void> {
    this.calls.push(r);
    if (this.fail) {
      return Promise.reject(Object.assign(new Error("no"), this.fail));
    }
    this.paths.add(r.path);
    return Promise.resolve();
  }
  deregister(path: string): boolean {
    return this.paths.delete(path);
  }
}

function fixture(
  options: { registrar?: boolean; paths?: ServerContext["config"]["paths"] } =
    {},
) {
  const hub = new Hub({ playWaitTimeoutMs: 0 });
  const registrar = new FakeRegistrar();
  const server: ServerContext = {
    hub,
    config: {
      readTimeout: 10_000,
      writeTimeout: 10_000,
      writeQueueSize: 1 << 20,
      writeBatchInterval: 0,
      gopCache: true,
      playWaitTimeout: 0,
      overridePublisher: "auto",
      rtspSessionTimeout: 60_000,
      paths: options.paths ?? {
        "site/cam": { publishUser: "u", publishPass: "p" },
        "fixed": { source: "rtsp://elsewhere/x" },
      },
    },
    auth: new RtspAuthenticator(),
    sessions: new SessionTable({ hub, log }),
    batcher: new WriteBatcher(0),
    udp: () => {
      throw new Error("no UDP in this test");
    },
    serverPorts: { rtp: 8000, rtcp: 8001 },
    registrar: options.registrar === false ? undefined : registrar,
  };
  const queue = new ReaderQueue();
  const handed: string[] = [];
  let closed = 0;
  const conn: ConnectionContext = {
    log,
    remoteHostname: "127.0.0.1",
    signal: new AbortController().signal,
    announced: undefined,
    channels: new Map(),
    sessions: new Set<Session>(),
    closed: false,
    queue,
    writer: new BatchWriter(
      { write: (p) => Promise.resolve(p.length) },
      () => queue.take(),
    ),
    sessionEnded(s) {
      this.sessions.delete(s);
    },
    close: () => {
      closed++;
      return Promise.resolve();
    },
    handOver: () => {
      handed.push("socket");
      return Promise.resolve({} as StreamConn);
    },
  };
  return { server, conn, registrar, handed, closedCount: () => closed };
}

async function answer(
  f: ReturnType<typeof fixture>,
  req: RtspRequest,
): Promise<{ status: number; after?: () => void }> {
  try {
    return await dispatch(f.server, f.conn, req, undefined);
  } catch (e) {
    const a = answerOf(e);
    if (a === undefined) throw e;
    return { status: a.status ?? 400 };
  }
}

const BASIC = `Basic ${btoa("u:p")}`;
function authed(method: string, url: string, transport?: string): RtspRequest {
  const req = request(method, url, transport);
  req.headers.set("Authorization", BASIC);
  return req;
}

Deno.test("REGISTER with reuse_connection takes the path, answers 200 and then hands the socket on", async () => {
  const f = fixture();
  const reply = await answer(
    f,
    authed("REGISTER", URL, "reuse_connection; proxy_url_suffix=site/cam"),
  );
  assert.equal(reply.status, 200);
  assert.deepEqual(f.registrar.calls.map((c) => [c.path, c.url, c.transport]), [
    ["site/cam", URL, "tcp"],
  ]);
  assert.deepEqual(f.handed, [], "not before the 200 is queued");
  reply.after?.();
  assert.deepEqual(f.handed, ["socket"]);
  assert.equal(f.registrar.stats.registered, 1);
});

Deno.test("REGISTER without a suffix publishes on the URL's path; connecting out follows preferred_delivery_protocol", async () => {
  const f = fixture({
    paths: { cam1: { publishUser: "u", publishPass: "p" } },
  });
  const reply = await answer(
    f,
    authed("REGISTER", URL, "preferred_delivery_protocol=udp"),
  );
  assert.equal(reply.status, 200);
  const call = f.registrar.calls[0]!;
  assert.deepEqual([call.path, call.transport, call.conn], [
    "cam1",
    "automatic",
    undefined,
  ]);
});

for (
  const [name, make, status] of [
    ["no registrar", () => fixture({ registrar: false }), 501],
    ["a path registered already", () => {
      const f = fixture();
      f.registrar.paths.add("site/cam");
      return f;
    }, 451],
  ] as const
) {
  Deno.test(`REGISTER with ${name} is ${status}`, async () => {
    const f = make();
    const r = await answer(
      f,
      authed("REGISTER", URL, "reuse_connection; proxy_url_suffix=site/cam"),
    );
    assert.equal(r.status, status);
  });
}

Deno.test("REGISTER refusals: each status, each counted", async () => {
  const f = fixture();
  const cases: [RtspRequest, number][] = [
    [
      authed("REGISTER", "rtsps://10.0.0.5/cam1", "proxy_url_suffix=site/cam"),
      400,
    ],
    [authed("REGISTER", "rtsp://10.0.0.5/", "reuse_connection"), 400],
    [
      authed("REGISTER", URL, "reuse_connection; proxy_url_suffix=a/%2e%2e"),
      400,
    ],
    [authed("REGISTER", URL, "reuse_connection; proxy_url_suffix=fixed"), 451],
    [
      request("REGISTER", URL, "reuse_connection; proxy_url_suffix=site/cam"),
      401,
    ],
    [authed("REGISTER", URL, 'proxy_url_suffix="open'), 400],
  ];
  for (const [req, status] of cases) {
    assert.equal((await answer(f, req)).status, status, req.url);
  }
  assert.equal(f.registrar.stats.refused, cases.length);
  assert.equal(f.registrar.calls.length, 0);
});

Deno.test("REGISTER that connects out answers 504 or 502 as the registrar failed, and 403 on a path without credentials", async () => {
  const f = fixture({
    paths: {
      "site/cam": { publishUser: "u", publishPass: "p" },
      "open": {},
    },
  });
  f.registrar.fail = { status: 504 };
  assert.equal(
    (await answer(f, authed("REGISTER", URL, "proxy_url_suffix=site/cam")))
      .status,
    504,
  );
  f.registrar.fail = {};
  assert.equal(
    (await answer(f, authed("REGISTER", URL, "proxy_url_suffix=site/cam")))
      .status,
    502,
  );
  assert.equal(
    (await answer(f, request("REGISTER", URL, "proxy_url_suffix=open"))).status,
    403,
  );
  assert.equal(
    (await answer(
      f,
      request("REGISTER", URL, "reuse_connection; proxy_url_suffix=open"),
    )).status,
    200,
    "over a reused connection a path open to publishers is open to REGISTER",
  );
});

Deno.test("REGISTER with reuse_connection on a connection with sessions is 455", async () => {
  const f = fixture();
  f.conn.sessions.add({} as Session);
  const r = await answer(
    f,
    authed("REGISTER", URL, "reuse_connection; proxy_url_suffix=site/cam"),
  );
  assert.equal(r.status, 455);
});

Deno.test("DEREGISTER frees a registered path; one not registered is 451", async () => {
  const f = fixture();
  f.registrar.paths.add("site/cam");
  const req = () => authed("DEREGISTER", URL, "proxy_url_suffix=site/cam");
  assert.equal((await answer(f, req())).status, 200);
  assert.equal(f.registrar.has("site/cam"), false);
  assert.equal((await answer(f, req())).status, 451);
  assert.deepEqual(f.registrar.stats, {
    registered: 0,
    deregistered: 1,
    refused: 1,
  });
});

Deno.test("REGISTER past the limit on one connection is 400, then the connection closes", async () => {
  const f = fixture();
  for (let i = 0; i < MAX_REGISTERS_PER_CONNECTION; i++) {
    assert.equal(
      (await answer(f, request("REGISTER", URL, "proxy_url_suffix=site/cam")))
        .status,
      401,
    );
  }
  const over = await answer(
    f,
    request("REGISTER", URL, "proxy_url_suffix=site/cam"),
  );
  assert.equal(over.status, 400);
  assert.equal(f.closedCount(), 0, "closed once the answer is queued");
  over.after?.();
  assert.equal(f.closedCount(), 1);
});

Deno.test("A link made by our own REGISTER lets the other side read its path without credentials, and nothing else", async () => {
  const server = {
    config: { paths: { cam: { readUser: "r", readPass: "s" } } },
    auth: new RtspAuthenticator(),
  } as unknown as ServerContext;
  const link = { log, registeredPath: "cam" };
  const req = request("DESCRIBE", "rtsp://x/cam");
  assert.equal(await authorize(server, link, req, "cam", "read"), "any");
  for (
    const [path, action] of [["other", "read"], ["cam", "publish"]] as const
  ) {
    await assert.rejects(
      () => authorize(server, link, req, path, action),
      { name: "Refusal", status: 403 },
    );
  }
  // Anywhere else the path's credentials apply.
  await assert.rejects(
    () => authorize(server, { log }, req, "cam", "read"),
    { name: "Refusal", status: 401 },
  );
});

Deno.test("REGISTER with random URLs and Transport values gets an RTSP status, and registers only valid paths", async () => {
  const segment = fc.constantFrom(
    "cam",
    "site",
    "..",
    ".",
    "%2e%2e",
    "%2F",
    "%252e",
    "caf%C3%A9",
    "%",
    "",
    "a b",
    "x;y",
  );
  const path = fc.array(segment, { maxLength: 4 }).map((p) => p.join("/"));
  const url = fc.oneof(
    fc.string({ maxLength: 30 }),
    path.map((p) => `rtsp://10.0.0.5:8554/${p}`),
    path.map((p) => `http://10.0.0.5/${p}`),
  );
  const transport = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.tuple(
      fc.boolean(),
      fc.option(path),
      fc.constantFrom("", "udp", "interleaved", "tcp"),
    )
      .map(([reuse, suffix, delivery]) =>
        [
          reuse ? "reuse_connection" : "",
          suffix === null ? "" : `proxy_url_suffix=${suffix}`,
          delivery === "" ? "" : `preferred_delivery_protocol=${delivery}`,
        ].join("; ")
      ),
  );
  const statuses = new Set([200, 400, 401, 403, 451, 455, 501, 502, 503, 504]);
  const seen = new Set<number>();
  await fc.assert(
    fc.asyncProperty(url, transport, async (u, t) => {
      const f = fixture({
        paths: { "site/cam": { publishUser: "u", publishPass: "p" } },
      });
      let req: RtspRequest | undefined;
      try {
        req = request(
          "REGISTER",
          u.replace(/\s/g, "") || "*",
          t.replace(/[\r\n]/g, ""),
        );
      } catch {
        return; // not a request encodeRequest writes
      }
      if (req === undefined) return;
      const r = await answer(f, req);
      assert.ok(statuses.has(r.status), `${r.status}`);
      seen.add(r.status);
      for (const c of f.registrar.calls) assert.ok(isValidPath(c.path), c.path);
    }),
    {
      numRuns: 1500,
      // One of each answer the loop below asks for, whatever the seed draws.
      examples: [
        ["rtsp://10.0.0.5:8554/site/cam", "reuse_connection"],
        ["http://10.0.0.5/site/cam", "reuse_connection"],
        ["rtsp://10.0.0.5:8554/other", "reuse_connection"],
        ["rtsp://10.0.0.5:8554/cam", ""],
      ],
    },
  );
  // The inputs reached past the URL check: refusals of several kinds, and acceptances.
  for (const s of [200, 400, 401, 403]) assert.ok(seen.has(s), `no ${s}`);
});
