import assert from "node:assert/strict";
import { EventBus, type SluiceEvent } from "../../lib/events/events.ts";
import { createLogger } from "../../lib/log.ts";
import {
  SIGNATURE_HEADER,
  verifySignature,
  Webhooks,
} from "../../lib/webhooks/webhooks.ts";

const log = createLogger({ level: "error", write: () => {} });
const SESSION = {
  id: "s1",
  protocol: "rtmp",
  remoteAddress: "10.0.0.1",
  query: "",
};

/** A receiver that fails the first `failures` deliveries with 503. */
function receiver(failures = 0) {
  const got: { event: SluiceEvent; signed: boolean }[] = [];
  let calls = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (r) => {
      const body = await r.text();
      calls++;
      if (calls <= failures) return new Response("busy", { status: 503 });
      got.push({
        event: JSON.parse(body),
        signed: await verifySignature(
          "k",
          body,
          r.headers.get(SIGNATURE_HEADER),
        ),
      });
      return new Response(null, { status: 204 });
    },
  );
  return {
    server,
    got,
    calls: () => calls,
    url: `http://127.0.0.1:${server.addr.port}/hook`,
  };
}

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("Webhooks retries with backoff, keeps order and signs every body", async () => {
  const r = receiver(2);
  const bus = new EventBus();
  const hooks = new Webhooks([{ url: r.url, secret: "k" }], {
    log,
    backoffMs: 50,
  });
  hooks.listen(bus);
  try {
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) {
      bus.emit("read.start", { ...SESSION, path: `p${i}` });
    }
    await until(() => r.got.length === 5);
    assert.deepEqual(
      r.got.map((g) => g.event.type === "read.start" && g.event.data.path),
      ["p0", "p1", "p2", "p3", "p4"],
    );
    assert.ok(r.got.every((g) => g.signed));
    assert.ok(Date.now() - t0 >= 150, "waited 50 + 100 ms between tries");
    // the receiver has each body before the hook has read the answer to it
    const s = hooks.stats[0]!;
    await until(() => s.delivered + s.failed + s.dropped >= 5).catch(() => {});
    assert.deepEqual(hooks.stats[0], {
      delivered: 5,
      failed: 0,
      dropped: 0,
      retries: 2,
    });
  } finally {
    hooks.close();
    await r.server.shutdown();
  }
});

Deno.test("Webhooks: a dead receiver costs the emitter nothing and its queue stays bounded", () => {
  const bus = new EventBus();
  const hooks = new Webhooks(
    [{ url: "http://127.0.0.1:9/dead", events: ["publish.start"] }],
    { log, maxQueue: 10, backoffMs: 1000, attempts: 3 },
  );
  hooks.listen(bus);
  try {
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) {
      bus.emit("publish.start", { ...SESSION, path: "x" });
      bus.emit("read.start", { ...SESSION, path: "x" }); // not wanted
    }
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `emitting 20 000 events took ${ms} ms`);
    assert.equal(hooks.stats[0]!.dropped, 10_000 - 10);
  } finally {
    hooks.close();
  }
});

Deno.test("verifySignature refuses another secret, another body and a malformed header", async () => {
  const r = receiver();
  const hooks = new Webhooks([{ url: r.url, secret: "k" }], { log });
  const bus = new EventBus();
  hooks.listen(bus);
  try {
    bus.emit("relay.state", {
      path: "a",
      kind: "pull",
      url: "rtsp://h/a",
      status: "running",
    });
    await until(() => r.got.length === 1);
    const body = JSON.stringify(r.got[0]!.event);
    assert.ok(r.got[0]!.signed);
    assert.ok(
      !await verifySignature("other", body, "sha256=" + "0".repeat(64)),
    );
    assert.ok(!await verifySignature("k", body, "md5=abc"));
    assert.ok(!await verifySignature("k", body, null));
  } finally {
    hooks.close();
    await r.server.shutdown();
  }
});

Deno.test("Webhooks.configure adds and removes hooks, keeping an unchanged one's counters", async () => {
  const r = receiver();
  const bus = new EventBus();
  const hooks = new Webhooks([], { log });
  hooks.listen(bus);
  try {
    bus.emit("read.start", { ...SESSION, path: "before" }); // no hook yet
    hooks.configure([{ url: r.url, secret: "k" }]);
    bus.emit("read.start", { ...SESSION, path: "one" });
    await until(() => r.got.length === 1);
    hooks.configure([{ url: r.url, secret: "k" }, {
      url: "http://127.0.0.1:9/",
    }]);
    assert.equal(hooks.stats[0]!.delivered, 1, "kept its counters");
    hooks.configure([]);
    bus.emit("read.start", { ...SESSION, path: "after" });
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(
      r.got.map((g) => g.event.type === "read.start" && g.event.data.path),
      ["one"],
    );
  } finally {
    hooks.close();
    await r.server.shutdown();
  }
});
