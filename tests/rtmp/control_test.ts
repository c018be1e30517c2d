import assert from "node:assert/strict";
import fc from "fast-check";
import { ProtocolError } from "../../lib/errors.ts";
import { encodeMessage } from "../../lib/rtmp/chunk_muxer.ts";
import {
  abort,
  acknowledgement,
  decodeControl,
  decodeUserControl,
  PEER_BANDWIDTH_LIMIT,
  pingRequest,
  pingResponse,
  setBufferLength,
  setChunkSize,
  setPeerBandwidth,
  streamBegin,
  streamDry,
  streamEof,
  streamIsRecorded,
  windowAckSize,
} from "../../lib/rtmp/control.ts";
import { hex, toHex } from "../_util/bytes.ts";

// §5.4: protocol control messages travel on chunk stream 2, message stream 0.
const CONTROL = [
  // §5.4.1 Set Chunk Size: 0 | chunk size (31 bits)
  {
    name: "Set Chunk Size",
    message: setChunkSize(4096),
    typeId: 1,
    payload: "00001000",
    decoded: { type: "setChunkSize", size: 4096 },
  },
  // §5.4.2 Abort Message: chunk stream id (32 bits)
  {
    name: "Abort Message",
    message: abort(7),
    typeId: 2,
    payload: "00000007",
    decoded: { type: "abort", chunkStreamId: 7 },
  },
  // §5.4.3 Acknowledgement: sequence number (32 bits)
  {
    name: "Acknowledgement",
    message: acknowledgement(2 ** 32 + 5), // byte counts wrap at 2^32
    typeId: 3,
    payload: "00000005",
    decoded: { type: "acknowledgement", sequenceNumber: 5 },
  },
  // §5.4.4 Window Acknowledgement Size (32 bits)
  {
    name: "Window Acknowledgement Size",
    message: windowAckSize(2_500_000),
    typeId: 5,
    payload: "002625a0",
    decoded: { type: "windowAckSize", size: 2_500_000 },
  },
  // §5.4.5 Set Peer Bandwidth: window size (32 bits) | limit type (8 bits)
  {
    name: "Set Peer Bandwidth",
    message: setPeerBandwidth(2_500_000, PEER_BANDWIDTH_LIMIT.DYNAMIC),
    typeId: 6,
    payload: "002625a0 | 02",
    decoded: { type: "setPeerBandwidth", size: 2_500_000, limitType: 2 },
  },
];

for (const c of CONTROL) {
  Deno.test(`${c.name} is built on chunk stream 2 and decodes back`, () => {
    assert.equal(c.message.chunkStreamId, 2);
    assert.equal(c.message.streamId, 0);
    assert.equal(c.message.timestamp, 0);
    assert.equal(c.message.typeId, c.typeId);
    assert.equal(toHex(c.message.payload), toHex(hex(c.payload)));
    assert.deepEqual(decodeControl(c.message), c.decoded);
  });
}

Deno.test("setChunkSize goes on the wire as the 16-byte message of §5.4.1", () => {
  assert.equal(
    toHex(encodeMessage(setChunkSize(4096), 128)),
    toHex(hex("02 000000 000004 01 00000000 | 00001000")),
  );
});

// §7.1.7: event type (16 bits) | event data
const EVENTS = [
  {
    name: "Stream Begin",
    message: streamBegin(1),
    payload: "0000 | 00000001",
    decoded: { type: "streamBegin", streamId: 1 },
  },
  {
    name: "Stream EOF",
    message: streamEof(1),
    payload: "0001 | 00000001",
    decoded: { type: "streamEof", streamId: 1 },
  },
  {
    name: "StreamDry",
    message: streamDry(1),
    payload: "0002 | 00000001",
    decoded: { type: "streamDry", streamId: 1 },
  },
  {
    name: "SetBuffer Length",
    message: setBufferLength(1, 3000),
    payload: "0003 | 00000001 | 00000bb8",
    decoded: { type: "setBufferLength", streamId: 1, bufferMs: 3000 },
  },
  {
    name: "StreamIs Recorded",
    message: streamIsRecorded(1),
    payload: "0004 | 00000001",
    decoded: { type: "streamIsRecorded", streamId: 1 },
  },
  {
    name: "PingRequest",
    message: pingRequest(0x1_0000_0010), // server time wraps at 2^32
    payload: "0006 | 00000010",
    decoded: { type: "pingRequest", timestamp: 0x10 },
  },
  {
    name: "PingResponse",
    message: pingResponse(0xfffffff0),
    payload: "0007 | fffffff0",
    decoded: { type: "pingResponse", timestamp: 0xfffffff0 },
  },
];

for (const e of EVENTS) {
  Deno.test(`user control ${e.name} is built as type 4 on chunk stream 2 and decodes back`, () => {
    assert.equal(e.message.typeId, 4);
    assert.equal(e.message.chunkStreamId, 2);
    assert.equal(e.message.streamId, 0);
    assert.equal(toHex(e.message.payload), toHex(hex(e.payload)));
    assert.deepEqual(decodeUserControl(e.message.payload), e.decoded);
  });
}

Deno.test("decodeUserControl passes events outside the specification through", () => {
  // Flash Media Server 3.5: 31 "buffer empty" and 32 "buffer ready", with a stream id
  assert.deepEqual(decodeUserControl(hex("001f 00000001")), {
    type: "unknown",
    eventType: 31,
    data: hex("00000001"),
  });
});

Deno.test("decodeUserControl rejects events shorter than their data", () => {
  for (
    const payload of ["", "00", "0000 000000", "0003 00000001 0000", "0006"]
  ) {
    assert.throws(() => decodeUserControl(hex(payload)), {
      name: "ProtocolError",
      code: "truncated",
    });
  }
});

Deno.test("decodeControl rejects short payloads and bad limit types, and skips other types", () => {
  for (const typeId of [1, 2, 3, 5, 6]) {
    assert.throws(() => decodeControl({ typeId, payload: hex("000000") }), {
      name: "ProtocolError",
      code: "truncated",
    });
  }
  assert.throws(() => decodeControl({ typeId: 6, payload: hex("00000001") }), {
    name: "ProtocolError",
    code: "truncated",
  });
  assert.throws(
    () => decodeControl({ typeId: 6, payload: hex("00000001 03") }),
    {
      name: "ProtocolError",
      code: "malformed",
    },
  );
  assert.equal(
    decodeControl({ typeId: 4, payload: hex("0000 00000000") }),
    undefined,
  );
  assert.equal(decodeControl({ typeId: 9, payload: hex("17") }), undefined);
});

Deno.test("control builders reject values their fields cannot hold", () => {
  assert.throws(() => setChunkSize(0), RangeError);
  assert.throws(() => setChunkSize(2 ** 31), RangeError);
  assert.throws(() => windowAckSize(-1), RangeError);
  assert.throws(() => abort(2 ** 32), RangeError);
  assert.throws(() => acknowledgement(1.5), RangeError);
  assert.throws(() => setPeerBandwidth(1, 3 as 0), RangeError);
  assert.throws(() => setBufferLength(1, -1), RangeError);
});

Deno.test("decodeControl and decodeUserControl give values or ProtocolErrors on random payloads", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 30 }),
      fc.uint8Array({ maxLength: 12 }),
      (typeId, payload) => {
        for (
          const decode of [
            () => decodeControl({ typeId, payload }),
            () => decodeUserControl(payload),
          ]
        ) {
          try {
            decode();
          } catch (e) {
            if (!(e instanceof ProtocolError)) throw e;
          }
        }
      },
    ),
    { numRuns: 500 },
  );
});
