/**
 * A PLAY reader joins its output as the PLAY is handled but sends nothing
 * until the answer is queued: the output cannot be dropped for lack of
 * readers in between, and no media goes out before the 200.
 */
import assert from "node:assert/strict";
import { PACKET_KIND } from "../../../lib/egress/packet.ts";
import { ReaderQueue } from "../../../lib/egress/reader_queue.ts";
import type { RtpPacketOut } from "../../../lib/egress/rtp_output.ts";
import type { BatchWriter } from "../../../lib/net/batch_writer.ts";
import {
  TcpReader,
  UdpReader,
  type UdpSockets,
} from "../../../lib/server/rtsp/readers.ts";

function owner() {
  const queue = new ReaderQueue();
  return { queue, writer: {} as BatchWriter };
}

const packet = (n: number) => ({
  bytes: new Uint8Array([0x80, 96, 0, n]),
  kind: n === 0 ? PACKET_KIND.KEY : PACKET_KIND.DELTA,
});

Deno.test("TcpReader holds packets until release, then sends them in order after what came first", () => {
  const o = owner();
  const reader = new TcpReader(
    o,
    new Map([[0, { rtp: 0, rtcp: 1 }]]),
    () => {},
  );
  reader.offer(0, packet(0), false);
  reader.offer(0, packet(1), false);
  assert.deepEqual(o.queue.take(), [], "nothing before the answer");

  const reply = new TextEncoder().encode("RTSP/1.0 200 OK\r\n\r\n");
  o.queue.offer({ bytes: reply, kind: PACKET_KIND.CONTROL });
  reader.release();
  reader.offer(0, packet(2), false);
  reader.offer(0, packet(3), true);

  const out = o.queue.take();
  assert.deepEqual(out[0], reply);
  // Interleaved header ($, channel, length) then the packet, for each.
  const sent = [];
  for (let i = 1; i < out.length; i += 2) {
    assert.deepEqual([...out[i]!], [0x24, i === 7 ? 1 : 0, 0, 4]);
    sent.push(out[i + 1]![3]);
  }
  assert.deepEqual(sent, [0, 1, 2, 3]);
});

Deno.test("TcpReader drops packets of tracks it does not send, held or not", () => {
  const o = owner();
  const reader = new TcpReader(
    o,
    new Map([[0, { rtp: 0, rtcp: 1 }]]),
    () => {},
  );
  reader.offer(5, packet(0), false);
  reader.release();
  reader.offer(5, packet(1), false);
  assert.deepEqual(o.queue.take(), []);
});

Deno.test("UdpReader keeps its packets while the writer is backlogged and sends them all when called back", () => {
  const sent: [number, number][] = [];
  const waiting: (() => void)[] = [];
  let backlogged = true;
  const sockets: UdpSockets = {
    rtp: {
      send: (bytes, to) => (sent.push([bytes[3]!, to.port]), true),
      get backlogged() {
        return backlogged;
      },
      whenReady: (callback) => waiting.push(callback),
    },
    rtcp: { send: () => true },
  };
  const reader = new UdpReader(
    sockets,
    new Map([[0, { hostname: "127.0.0.1", rtpPort: 5000, rtcpPort: 5001 }]]),
    { maxBytes: 1 << 20, onEnd: () => {} },
  );
  reader.release();
  reader.offer(0, packet(0), false);
  reader.offer(0, packet(1), false);
  reader.flush();
  assert.deepEqual(sent, []);
  assert.equal(waiting.length, 1);
  reader.flush(); // a tick while it waits asks for no second call back
  assert.equal(waiting.length, 1);
  reader.offer(0, packet(2), false);
  backlogged = false;
  waiting[0]!();
  assert.deepEqual(sent, [[0, 5000], [1, 5000], [2, 5000]]);
  reader.close();
});

Deno.test("TcpReaders on one channel share a packet framed once; a reader on another channel gets the header and the packet", () => {
  const rtp = new Uint8Array([0x80, 96, 0, 7, 1, 2]);
  const framed = new Uint8Array(4 + rtp.length);
  framed.set(rtp, 4);
  const p: RtpPacketOut = {
    bytes: framed.subarray(4),
    kind: PACKET_KIND.KEY,
    trackId: 0,
    seq: 7,
    rtptime: 0,
    roc: 0,
    framed,
    framedChannel: -1,
  };
  const readers = [0, 0, 2].map((channel) => {
    const o = owner();
    const r = new TcpReader(
      o,
      new Map([[0, { rtp: channel, rtcp: channel + 1 }]]),
      () => {},
    );
    r.release();
    r.offer(0, p, false);
    return o.queue.take();
  });
  assert.equal(
    readers[0]!.length,
    1,
    "one part: header and packet in one buffer",
  );
  assert.equal(readers[0]![0], readers[1]![0], "the second reader shares it");
  assert.deepEqual([...readers[0]![0]!], [0x24, 0, 0, 6, ...rtp]);
  assert.equal(readers[2]!.length, 2, "another channel: its own header");
  assert.deepEqual([...readers[2]![0]!], [0x24, 2, 0, 6]);
  assert.equal(readers[2]![1], p.bytes);
  assert.deepEqual([...p.bytes], [...rtp], "the RTP bytes are untouched");
});
