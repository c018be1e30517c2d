// bench/rtmpt_bench.ts — what an RTMPT request costs: an /idle poll answered
// by a Sluice in this process (fetch on a kept-alive connection, client and
// server on one core), beside a plain HTTP 404 on the same port for the cost
// of the HTTP stack alone; and the tunnel's own part, a 14 KB answer (what an
// ffmpeg publisher's request carries) through RtmptConn.
import { parseConfig } from "../lib/config/load.ts";
import { createLogger } from "../lib/log.ts";
import { RtmptConn } from "../lib/server/http/rtmpt_conn.ts";
import { parseRtmptPath } from "../lib/server/http/rtmpt_path.ts";
import { startSluice } from "../lib/sluice.ts";

const sluice = startSluice(
  parseConfig({
    rtmpAddress: "127.0.0.1:0",
    rtsp: false,
    httpAddress: "127.0.0.1:0",
    readTimeout: "60s",
  }),
  createLogger({ write: () => {} }),
);
const base = `http://127.0.0.1:${sluice.httpPort}`;
const opened = await fetch(`${base}/open/1`, { method: "POST", body: "\0" });
const id = (await opened.text()).trim();
let seq = 0;
const zero = new Uint8Array(1);

const group = "one HTTP round trip";
Deno.bench(
  { group, name: "GET 404 (HTTP alone)", baseline: true },
  async () => {
    await (await fetch(`${base}/nothing`)).arrayBuffer();
  },
);
Deno.bench({ group, name: "RTMPT /idle poll" }, async () => {
  const res = await fetch(`${base}/idle/${id}/${seq++}`, {
    method: "POST",
    body: zero,
  });
  await res.arrayBuffer();
});

const remoteAddr: Deno.NetAddr = {
  transport: "tcp",
  hostname: "127.0.0.1",
  port: 1,
};
const conn = new RtmptConn({ remoteAddr });
const media = Array.from({ length: 10 }, () => new Uint8Array(1400));
Deno.bench("RtmptConn 14 KB written in 10 writes and taken", async () => {
  for (const m of media) await conn.write(m);
  conn.take();
});
Deno.bench("parseRtmptPath /send/<16 hex>/<seq>", () => {
  parseRtmptPath("/send/0123456789abcdef/123456");
});

globalThis.addEventListener("unload", () => void sluice.close());
