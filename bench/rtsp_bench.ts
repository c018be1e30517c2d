// bench/rtsp_bench.ts — the RTSP connection framer over what a publisher sends
// during RECORD (RTP over TCP with RTCP and keep-alives), read in 64 KiB socket
// reads; then requests alone, and the header parsers a server runs per request.
import { RtspFramer, RtspFramerStream } from "../lib/rtsp/framer.ts";
import {
  encodeInterleaved,
  InterleavedFramer,
} from "../lib/rtsp/interleaved.ts";
import { encodeRequest } from "../lib/rtsp/message.ts";
import {
  digestResponse,
  parseAuthorization,
} from "../lib/rtsp/headers/auth.ts";
import { parseTransport } from "../lib/rtsp/headers/transport.ts";
import { chunksOf } from "./_util.ts";

const none = { enqueue() {} };

/** `frames` RTP packets of 200–1400 bytes on channels 0/2, an RTCP report every 100, a GET_PARAMETER every 1000. */
function recordSession(
  frames: number,
): { wire: Uint8Array; media: Uint8Array } {
  const parts: Uint8Array[] = [];
  const mediaParts: Uint8Array[] = [];
  let state = 1;
  for (let i = 0; i < frames; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const size = i % 8 === 7 ? 200 + (state % 200) : 1400; // video MTU-sized, audio smaller
    const payload = new Uint8Array(size);
    payload[0] = 0x80;
    payload[1] = 96;
    const frame = encodeInterleaved(i % 8 === 7 ? 2 : 0, payload);
    parts.push(frame);
    mediaParts.push(frame);
    if (i % 100 === 99) {
      const rtcp = encodeInterleaved(1, new Uint8Array(52).fill(0x81));
      parts.push(rtcp);
      mediaParts.push(rtcp);
    }
    if (i % 1000 === 999) {
      parts.push(encodeRequest({
        method: "GET_PARAMETER",
        url: "rtsp://127.0.0.1:8554/live/cam",
        headers: [["CSeq", String(i)], ["User-Agent", "Lavf59.27.100"], [
          "Session",
          "12345678",
        ]],
      }));
    }
  }
  const join = (list: Uint8Array[]) => {
    const out = new Uint8Array(list.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of list) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  return { wire: join(parts), media: join(mediaParts) };
}

const { wire, media } = recordSession(3000);
const mb = (wire.length / 1e6).toFixed(2);
for (const size of [64 * 1024, 1460]) {
  const reads = chunksOf(wire, size);
  const group = `RTSP framer ${mb} MB of RTP/RTCP + requests, ${size} B reads`;
  Deno.bench({ group, name: "RtspFramer core", baseline: true }, () => {
    const framer = new RtspFramer();
    for (const read of reads) framer.push(read, none);
  });
  Deno.bench({ group, name: "RtspFramerStream" }, async () => {
    for await (
      const _ of ReadableStream.from(reads).pipeThrough(new RtspFramerStream())
    );
  });
  const mediaReads = chunksOf(media, size);
  Deno.bench({ group, name: "InterleavedFramer core (frames only)" }, () => {
    const framer = new InterleavedFramer();
    for (const read of mediaReads) framer.push(read, none);
  });
}

const requests = chunksOf(
  (() => {
    const one = encodeRequest({
      method: "SETUP",
      url: "rtsp://127.0.0.1:8554/live/cam/trackID=0",
      headers: [
        ["CSeq", "3"],
        ["User-Agent", "LibVLC/3.0.20 (LIVE555 Streaming Media v2016.11.28)"],
        ["Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"],
        [
          "Authorization",
          'Digest username="admin", realm="Sluice", nonce="1ae117ce84194f06", uri="rtsp://127.0.0.1:8554/live/cam/", response="fcde779aa1c6a5b955823f59ca6e9df2"',
        ],
      ],
    });
    const all = new Uint8Array(one.length * 1000);
    for (let i = 0; i < 1000; i++) all.set(one, i * one.length);
    return all;
  })(),
  64 * 1024,
);
Deno.bench({
  group: "requests",
  name: "RtspFramer, 1000 pipelined SETUP requests",
  baseline: true,
}, () => {
  const framer = new RtspFramer();
  for (const read of requests) framer.push(read, none);
});
Deno.bench({ group: "requests", name: "parseTransport ×1000" }, () => {
  for (let i = 0; i < 1000; i++) {
    parseTransport("RTP/AVP/UDP;unicast;client_port=25790-25791;mode=record");
  }
});
Deno.bench({ group: "requests", name: "parseAuthorization ×1000" }, () => {
  for (let i = 0; i < 1000; i++) {
    parseAuthorization(
      'Digest username="admin", realm="Sluice", nonce="1ae117ce84194f06", uri="rtsp://127.0.0.1:8554/live/cam/", response="fcde779aa1c6a5b955823f59ca6e9df2"',
    );
  }
});
Deno.bench({ group: "requests", name: "digestResponse (MD5) ×1000" }, () => {
  for (let i = 0; i < 1000; i++) {
    digestResponse({
      username: "admin",
      password: "pw",
      realm: "Sluice",
      nonce: "1ae117ce84194f06",
      method: "SETUP",
      uri: "rtsp://h/x/",
    });
  }
});
