import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import { ChunkDemuxer } from "../../lib/rtmp/chunk_demuxer.ts";
import { ChunkMuxer } from "../../lib/rtmp/chunk_muxer.ts";
import type { RtmpMessage } from "../../lib/rtmp/message.ts";
import { PeerControl } from "../../lib/rtmp/peer_control.ts";
import type { StageCore } from "../../lib/stage.ts";
import { collect, hex } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";

/** A message on the protocol control chunk stream (2), message stream 0, as §5.4 and §6.2 send them. */
function control(typeId: number, payload: string): RtmpMessage {
  return {
    chunkStreamId: 2,
    typeId,
    timestamp: 0,
    streamId: 0,
    payload: hex(payload),
  };
}

// §7.1.7 user control: event type (16 bits) | event data
const PING_REQUEST = control(4, "0006 | 0001e240"); // PingRequest, server time 123456 ms
const PING_RESPONSE = control(4, "0007 | 0001e240"); // PingResponse echoing it
// §5.4.4 Window Acknowledgement Size (32 bits)
const WINDOW_256 = control(5, "00000100");

Deno.test("PeerControl answers a Ping Request with a Ping Response of the same time (§7.1.7 events 6 and 7)", () => {
  assert.deepEqual(new PeerControl().handle(PING_REQUEST), PING_RESPONSE);
  // a time past 2^31 stays unsigned
  assert.deepEqual(
    new PeerControl().handle(control(4, "0006 | fffffffe")),
    control(4, "0007 | fffffffe"),
  );
});

Deno.test("PeerControl answers no other user control event", () => {
  for (
    const payload of [
      "0000 | 00000001", // Stream Begin 1
      "0003 | 00000001 00000bb8", // SetBuffer Length: stream 1, 3000 ms
      "0007 | 0001e240", // a Ping Response
      "001f | 00000001", // Flash Media Server 3.5's "buffer empty" (31)
    ]
  ) {
    assert.equal(new PeerControl().handle(control(4, payload)), undefined);
  }
});

Deno.test("PeerControl rejects a Ping Request without its time", () => {
  assert.throws(() => new PeerControl().handle(control(4, "0006 | 0001")), {
    name: "ProtocolError",
    protocol: "rtmp",
    code: "truncated",
  });
  assert.throws(() => new PeerControl().handle(control(4, "00")), {
    name: "ProtocolError",
    code: "truncated",
  });
});

Deno.test("PeerControl ignores media, commands and other control messages", () => {
  const peer = new PeerControl();
  for (
    const m of [
      { ...control(9, "17 01 000000"), chunkStreamId: 7, streamId: 1 },
      control(1, "00001000"), // Set Chunk Size
      control(3, "00000100"), // Acknowledgement
      control(6, "00000100 02"), // Set Peer Bandwidth, dynamic
    ]
  ) {
    assert.equal(peer.handle(m), undefined);
  }
  assert.equal(peer.ack(1_000_000), undefined, "no window, no acknowledgement");
});

// §5.4.3: "The client or the server MUST send an acknowledgment to the peer
// after receiving bytes equal to the window size"; §5.4.4 sets that window.
Deno.test("PeerControl acknowledges each time the bytes received pass the window (§5.4.3, §5.4.4)", () => {
  const peer = new PeerControl();
  assert.equal(peer.handle(WINDOW_256), undefined);
  assert.equal(peer.ack(255), undefined);
  // Acknowledgement: sequence number = bytes received so far (32 bits)
  assert.deepEqual(peer.ack(256), control(3, "00000100"));
  assert.equal(peer.ack(300), undefined);
  assert.equal(peer.ack(511), undefined);
  assert.deepEqual(peer.ack(600), control(3, "00000258"));
  assert.equal(peer.ack(600), undefined, "once per window");
});

Deno.test("PeerControl takes a new window from the next acknowledgement on", () => {
  const peer = new PeerControl();
  peer.handle(WINDOW_256);
  assert.deepEqual(peer.ack(256), control(3, "00000100"));
  peer.handle(control(5, "00001000")); // 4096
  assert.equal(peer.ack(4000), undefined);
  assert.deepEqual(peer.ack(4352), control(3, "00001100"));
});

Deno.test("PeerControl counts bytes past 2^32 and sends the count modulo 2^32 (§5.4.3)", () => {
  const peer = new PeerControl();
  peer.handle(control(5, "80000000")); // 2 GiB
  assert.deepEqual(peer.ack(2 ** 31), control(3, "80000000"));
  assert.deepEqual(peer.ack(2 ** 32 + 5), control(3, "00000005"));
  assert.equal(peer.ack(2 ** 32 + 2 ** 30), undefined);
  assert.deepEqual(peer.ack(2 ** 33 + 5), control(3, "00000005"));
});

Deno.test("PeerControl rejects a Window Acknowledgement Size without its 4 bytes", () => {
  assert.throws(() => new PeerControl().handle(control(5, "0001")), {
    name: "ProtocolError",
    code: "truncated",
  });
});

/** Chunk stream bytes → ChunkDemuxer → PeerControl.handle: the answers owed. */
function peerStage(): StageCore<Uint8Array, RtmpMessage> {
  const demuxer = new ChunkDemuxer();
  const peer = new PeerControl();
  const answer = (out: { enqueue(m: RtmpMessage): void }) => ({
    enqueue: (m: RtmpMessage) => {
      const reply = peer.handle(m);
      if (reply !== undefined) out.enqueue(reply);
    },
  });
  return {
    push: (chunk, out) => demuxer.push(chunk, answer(out)),
    end: () => demuxer.end(),
  };
}

/** Messages as a peer's ChunkMuxer writes them. */
function chunks(messages: RtmpMessage[]): Uint8Array {
  const muxer = new ChunkMuxer();
  const out = collect<Uint8Array>();
  for (const m of messages) muxer.push(m, out);
  return concat(out.items);
}

Deno.test("PeerControl behind ChunkDemuxer keeps the stage contract: one Ping Response per Ping Request", () => {
  checkStageContract(peerStage, {
    fixtures: [
      {
        // §5.3.1: type-0 header on chunk stream 2 (timestamp 0, 6 bytes, type 4, stream 0)
        name: "a Ping Request",
        bytes: hex("02 | 000000 | 000006 | 04 | 00000000 | 0006 0001e240"),
        expect: [PING_RESPONSE],
      },
      {
        name: "a window, media, two Ping Requests and a Stream Begin",
        bytes: chunks([
          WINDOW_256,
          { ...control(9, "17 01 000000"), chunkStreamId: 7, streamId: 1 },
          PING_REQUEST,
          control(4, "0006 | 00000001"),
          control(4, "0000 | 00000001"),
        ]),
        expect: [PING_RESPONSE, control(4, "0007 | 00000001")],
      },
    ],
  });
});
