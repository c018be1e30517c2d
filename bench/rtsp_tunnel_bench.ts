// bench/rtsp_tunnel_bench.ts — the base64 of RTSP over HTTP tunnelling: a
// POST body of requests and RTCP reports, each encoded on its own as
// clients send them, decoded from 16 KiB reads; and the client's encoder.
import { concat } from "@std/bytes";
import {
  Base64Decoder,
  Base64DecoderStream,
  encodeBase64,
} from "../lib/rtsp/base64.ts";
import { chunksOf } from "./_util.ts";

const none = { enqueue() {} };

/** `count` pieces of 40–1400 bytes (RTCP reports to SETUP requests), each base64 on its own. */
function postBody(count: number): { raw: Uint8Array[]; body: Uint8Array } {
  const raw: Uint8Array[] = [];
  let state = 7;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    raw.push(new Uint8Array(40 + (state % 1360)).fill(0x52));
  }
  return { raw, body: concat(raw.map((r) => encodeBase64(r))) };
}

const { raw, body } = postBody(1400); // ≈ 1.3 MB of base64
const reads = chunksOf(body, 16 * 1024);
const decodeGroup = `base64 POST body ${(body.length / 1e6).toFixed(2)} MB`;
Deno.bench(
  { group: decodeGroup, name: "decoder (core)", baseline: true },
  () => {
    const d = new Base64Decoder();
    for (const r of reads) d.push(r, none);
  },
);
Deno.bench({ group: decodeGroup, name: "TransformStream" }, async () => {
  const s = ReadableStream.from(reads).pipeThrough(new Base64DecoderStream());
  for await (const _ of s);
});
const rawBytes = raw.reduce((n, r) => n + r.length, 0);
Deno.bench({
  group: `base64 encode ${(rawBytes / 1e6).toFixed(2)} MB`,
  name: "encodeBase64",
  baseline: true,
}, () => {
  for (const r of raw) encodeBase64(r);
});
