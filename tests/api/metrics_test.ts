/** Metrics from plain sources: counters that only grow, sessions closed between scrapes. */
import assert from "node:assert/strict";
import { Metrics } from "../../lib/api/metrics.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { Hub } from "../../lib/hub/hub.ts";
import type { SessionInfo } from "../../lib/server/session_info.ts";

function reader(
  id: string,
  bytesOut: number,
  firstFrameMs?: number,
): SessionInfo {
  return {
    id,
    protocol: "flv",
    remoteAddress: "127.0.0.1:1",
    path: "live/x",
    role: "reader",
    state: "playing",
    since: 0,
    bytesIn: 0,
    bytesOut,
    packetsOut: bytesOut / 100,
    firstFrameMs,
  };
}

/** The value of the one sample of `name` with `labels` in the exposition. */
function sample(text: string, name: string, labels = ""): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  assert.ok(line, `${name}${labels} not in:\n${text}`);
  return Number(line.split(" ")[1]);
}

Deno.test("Metrics count bytes out and first frames of sessions that close between scrapes", async () => {
  const hub = new Hub();
  hub.publish("live/x");
  let live: SessionInfo[] = [reader("flv-1", 1000, 120)];
  let closed: SessionInfo[] = [];
  const m = new Metrics({
    hub,
    servers: () => [{
      sessionList: () => live,
      kick: () => false,
      drainClosed: () => {
        const out = closed;
        closed = [];
        return out;
      },
    }],
    relays: () => [],
    config: () => parseConfig({}),
  });
  try {
    const labels = '{path="live/x",protocol="flv"}';
    let text = await m.text();
    assert.equal(sample(text, "sluice_bytes_out_total", labels), 1000);
    assert.equal(sample(text, "sluice_readers", labels), 1);
    const ttff = 'sluice_time_to_first_frame_seconds_count{protocol="flv"}';
    assert.equal(sample(text, ttff), 1);
    // flv-1 sends 500 more bytes and closes; flv-2 comes and goes unseen
    live = [];
    closed = [reader("flv-1", 1500, 120), reader("flv-2", 700, 80)];
    text = await m.text();
    assert.equal(sample(text, "sluice_bytes_out_total", labels), 2200);
    assert.equal(sample(text, ttff), 2);
    assert.equal(sample(text, "sluice_media_packets_out_total", labels), 22);
    assert.match(text, /^# TYPE sluice_readers gauge$/m);
    assert.doesNotMatch(text, /^sluice_readers\{/m);
    text = await m.text(); // nothing new: the counters stay
    assert.equal(sample(text, "sluice_bytes_out_total", labels), 2200);
    assert.equal(sample(text, ttff), 2);
  } finally {
    m.close();
    hub.close();
  }
});
