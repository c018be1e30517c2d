import assert from "node:assert/strict";
import type { SluiceEvent } from "../../lib/events/events.ts";
import { Hub } from "../../lib/hub/hub.ts";

const A = { id: "a", protocol: "rtmp", remoteAddress: "10.0.0.1", query: "" };
const B = {
  id: "b",
  protocol: "rtsp",
  remoteAddress: "10.0.0.2",
  query: "k=1",
};

function record(hub: Hub): string[] {
  const seen: string[] = [];
  hub.events.listen((e: SluiceEvent) => {
    seen.push(`${e.type} ${"id" in e.data ? e.data.id : ""} ${e.data.path}`);
  });
  return seen;
}

Deno.test("Hub emits publish.stop of a taken-over publisher before the newcomer's publish.start", () => {
  const hub = new Hub({ overridePublisher: true, publisherGracePeriodMs: 0 });
  const seen = record(hub);
  const first = hub.publish("live/x", { session: A });
  const second = hub.publish("live/x", { session: B });
  first.close(); // already stopped: nothing more
  second.close();
  second.close();
  assert.deepEqual(seen, [
    "publish.start a live/x",
    "publish.stop a live/x",
    "publish.start b live/x",
    "publish.stop b live/x",
  ]);
  hub.close();
});

Deno.test("Hub emits read.start and read.stop once per reader session, none without one", () => {
  const hub = new Hub({ publisherGracePeriodMs: 0 });
  const seen = record(hub);
  const p = hub.publish("live/y"); // no session: no publish events
  hub.readerJoined(p.stream, B);
  hub.readerJoined(p.stream, B);
  hub.readerLeft(p.stream, B);
  hub.readerLeft(p.stream, B);
  hub.readerLeft(p.stream, A); // never joined
  hub.readerLeft(p.stream);
  assert.deepEqual(seen, ["read.start b live/y", "read.stop b live/y"]);
  p.close();
  hub.close();
});
