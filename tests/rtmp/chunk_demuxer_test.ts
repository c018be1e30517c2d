import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "@std/bytes";
import {
  ChunkDemuxer,
  ChunkDemuxerStream,
} from "../../lib/rtmp/chunk_demuxer.ts";
import { ChunkMuxer, encodeMessage } from "../../lib/rtmp/chunk_muxer.ts";
import type { RtmpMessage } from "../../lib/rtmp/message.ts";
import { collect, hex, splitsOf } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";

/** `n` bytes counting up from `from` (mod 256): easy to tell apart. */
function bytes(n: number, from = 0): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
}

function join(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function msg(
  chunkStreamId: number,
  typeId: number,
  timestamp: number,
  streamId: number,
  payload: Uint8Array,
) {
  return { chunkStreamId, typeId, timestamp, streamId, payload };
}

const PAYLOAD_200 = bytes(200);
const PAYLOAD_307 = bytes(307, 7);
const AUDIO_32 = bytes(32, 100);

const CASES: { name: string; wire: Uint8Array; messages: RtmpMessage[] }[] = [
  {
    // §5.3.1.2.1: type 0 = timestamp | length | type id | stream id (little-endian)
    name: "a type-0 command in one chunk",
    wire: hex("03 | 000000 | 000005 | 14 | 00000000 | 0102030405"),
    messages: [msg(3, 20, 0, 0, hex("0102030405"))],
  },
  {
    // §5.3.2.1 example 1: four audio messages, type 0, type 2, then type 3 reusing delta 20
    name: "the §5.3.2.1 audio example (type 0, 2, 3, 3)",
    wire: join(
      hex("03 | 0003e8 | 000020 | 08 | 39300000"),
      AUDIO_32,
      hex("83 | 000014"),
      AUDIO_32,
      hex("c3"),
      AUDIO_32,
      hex("c3"),
      AUDIO_32,
    ),
    messages: [1000, 1020, 1040, 1060].map((ts) =>
      msg(3, 8, ts, 12345, AUDIO_32)
    ),
  },
  {
    // §5.3.2.2 example 2: a 307-byte message at chunk size 128 (type 0, then type 3 twice)
    name: "the §5.3.2.2 video example (307 bytes in three chunks)",
    wire: join(
      hex("04 | 0003e8 | 000133 | 09 | 39300000"),
      PAYLOAD_307.subarray(0, 128),
      hex("c4"),
      PAYLOAD_307.subarray(128, 256),
      hex("c4"),
      PAYLOAD_307.subarray(256),
    ),
    messages: [msg(4, 9, 1000, 12345, PAYLOAD_307)],
  },
  {
    // §5.3.1.2.2: type 1 = delta | length | type id, stream id kept
    name: "a type-1 header changing length and type",
    wire: join(
      hex("05 | 000064 | 000002 | 09 | 01000000 | aabb"),
      hex("45 | 00000a | 000001 | 08 | cc"),
    ),
    messages: [msg(5, 9, 100, 1, hex("aabb")), msg(5, 8, 110, 1, hex("cc"))],
  },
  {
    // §5.3.1.1: 2-byte form (id - 64 in one byte) and 3-byte form (id - 64, little-endian)
    name: "chunk stream ids 64, 319, 320 and 65599",
    wire: join(
      hex("00 00 | 000000 | 000001 | 08 | 01000000 | 01"),
      hex("00 ff | 000000 | 000001 | 08 | 01000000 | 02"),
      hex("01 00 01 | 000000 | 000001 | 08 | 01000000 | 03"),
      hex("01 ff ff | 000000 | 000001 | 08 | 01000000 | 04"),
      hex("c1 ff ff | 05"), // type 3 on 65599: a new message, delta = type 0 timestamp (0)
    ),
    messages: [
      msg(64, 8, 0, 1, hex("01")),
      msg(319, 8, 0, 1, hex("02")),
      msg(320, 8, 0, 1, hex("03")),
      msg(65599, 8, 0, 1, hex("04")),
      msg(65599, 8, 0, 1, hex("05")),
    ],
  },
  {
    // §5.3.1.3: 0xFFFFFF in the timestamp field, the 32-bit timestamp after the header.
    // ffmpeg and FMLE repeat it after each type-3 continuation header.
    name: "ffmpeg: extended timestamp repeated on type-3 continuation chunks",
    wire: join(
      hex("06 | ffffff | 0000c8 | 09 | 01000000 | 01000000"),
      PAYLOAD_200.subarray(0, 128),
      hex("c6 | 01000000"),
      PAYLOAD_200.subarray(128),
    ),
    messages: [msg(6, 9, 0x1000000, 1, PAYLOAD_200)],
  },
  {
    name:
      "rtmpdump: extended timestamp not repeated on type-3 continuation chunks",
    wire: join(
      hex("06 | ffffff | 0000c8 | 09 | 01000000 | 01000000"),
      PAYLOAD_200.subarray(0, 128),
      hex("c6"),
      PAYLOAD_200.subarray(128),
    ),
    messages: [msg(6, 9, 0x1000000, 1, PAYLOAD_200)],
  },
  {
    // The first chunk's extended field holds a delta; continuations repeat that delta.
    name:
      "an extended type-2 delta, repeated on continuations, then a type-3 message with its own",
    wire: join(
      hex("07 | 000010 | 000082 | 09 | 01000000"),
      bytes(128),
      hex("c7"),
      bytes(2, 128),
      hex("87 | ffffff | 01000000"),
      bytes(128),
      hex("c7 | 01000000"),
      bytes(2, 128),
      hex("c7 | 01000002"), // a new message: the field is its delta
      bytes(128),
      hex("c7 | 01000002"),
      bytes(2, 128),
    ),
    messages: [
      msg(7, 9, 0x10, 1, bytes(130)),
      msg(7, 9, 0x1000010, 1, bytes(130)),
      msg(7, 9, 0x2000012, 1, bytes(130)),
    ],
  },
  {
    // A sender may repeat the message's absolute timestamp instead of the type-1 delta.
    name:
      "an extended type-1 delta with the absolute timestamp on the continuation",
    wire: join(
      hex("08 | 000005 | 000001 | 09 | 01000000 | 00"),
      hex("48 | ffffff | 000081 | 09 | 01000000"),
      bytes(128),
      hex("c8 | 01000005"),
      bytes(1, 128),
    ),
    messages: [msg(8, 9, 5, 1, hex("00")), msg(8, 9, 0x1000005, 1, bytes(129))],
  },
  {
    // ffmpeg and SRS: after a type 0, a type-3 message adds the type-0 timestamp as its delta
    name: "a type-3 message right after a type 0",
    wire: join(
      hex("04 | 0003e8 | 000001 | 08 | 01000000 | aa"),
      hex("c4 | bb"),
    ),
    messages: [msg(4, 8, 1000, 1, hex("aa")), msg(4, 8, 2000, 1, hex("bb"))],
  },
  {
    // §5.4.1 takes effect at once, also inside another chunk stream's message
    name: "Set Chunk Size between two chunks of a video message",
    wire: join(
      hex("07 | 000000 | 00012c | 09 | 01000000"),
      bytes(128),
      hex("02 | 000000 | 000004 | 01 | 00000000 | 00001000"),
      hex("c7"),
      bytes(172, 128), // the rest in one chunk at the new size
    ),
    messages: [msg(2, 1, 0, 0, hex("00001000")), msg(7, 9, 0, 1, bytes(300))],
  },
  {
    name: "audio and video chunks interleaved",
    wire: join(
      hex("07 | 000000 | 000100 | 09 | 01000000"),
      bytes(128),
      hex("06 | 000000 | 000003 | 08 | 01000000 | af0102"),
      hex("c7"),
      bytes(128, 128),
      hex("86 | 000017"),
      hex("af0304"),
    ),
    messages: [
      msg(6, 8, 0, 1, hex("af0102")),
      msg(7, 9, 0, 1, bytes(256)),
      msg(6, 8, 23, 1, hex("af0304")),
    ],
  },
  {
    // §5.4.2: the partial message on chunk stream 7 is dropped
    name: "Abort Message dropping a partial message",
    wire: join(
      hex("07 | 000000 | 00012c | 09 | 01000000"),
      bytes(128),
      hex("02 | 000000 | 000004 | 02 | 00000000 | 00000007"),
      hex("07 | 000028 | 000001 | 09 | 01000000 | ee"),
    ),
    messages: [msg(2, 2, 0, 0, hex("00000007")), msg(7, 9, 40, 1, hex("ee"))],
  },
  {
    name: "an empty message",
    wire: join(hex("03 | 000000 | 000000 | 12 | 01000000"), hex("c3")),
    messages: [
      msg(3, 18, 0, 1, new Uint8Array(0)),
      msg(3, 18, 0, 1, new Uint8Array(0)),
    ],
  },
  {
    // §4: timestamps wrap at 2^32
    name: "a delta across the 32-bit timestamp wrap",
    wire: join(
      hex("08 | ffffff | 000001 | 08 | 01000000 | fffffff0 | 01"),
      hex("88 | 000020 | 02"),
    ),
    messages: [
      msg(8, 8, 0xfffffff0, 1, hex("01")),
      msg(8, 8, 0x10, 1, hex("02")),
    ],
  },
];

for (const c of CASES) {
  Deno.test(`ChunkDemuxer decodes ${c.name} at every split point`, () => {
    for (const parts of splitsOf(c.wire, 40)) {
      const demuxer = new ChunkDemuxer();
      const out = collect<RtmpMessage>();
      for (const part of parts) demuxer.push(part, out);
      demuxer.end();
      assert.deepEqual(out.items, c.messages);
      assert.equal(demuxer.bytesIn, c.wire.length);
    }
  });
}

Deno.test("ChunkDemuxer passes a one-chunk message as a view of its input", () => {
  const wire = hex("03 | 000000 | 000005 | 14 | 00000000 | 0102030405");
  const out = collect<RtmpMessage>();
  new ChunkDemuxer().push(wire, out);
  assert.equal(out.items[0]!.payload.buffer, wire.buffer);
});

Deno.test("ChunkDemuxer keeps no views of an earlier read inside an unfinished message", () => {
  const wire = CASES[2]!.wire;
  const first = wire.slice(0, 100);
  const demuxer = new ChunkDemuxer();
  const out = collect<RtmpMessage>();
  demuxer.push(first, out);
  first.fill(0); // the socket reuses its buffer
  demuxer.push(wire.slice(100), out);
  assert.deepEqual(out.items[0]!.payload, PAYLOAD_307);
});

Deno.test("ChunkDemuxer gathers a message from many small reads into one exact buffer", () => {
  const payload = bytes(20_000, 3);
  const wire = encodeMessage(msg(7, 9, 0, 1, payload), 4096);
  for (const size of [1, 100, 5000]) {
    const demuxer = new ChunkDemuxer({ chunkSize: 4096 });
    const out = collect<RtmpMessage>();
    for (let at = 0; at < wire.length; at += size) {
      demuxer.push(wire.slice(at, at + size), out);
    }
    assert.equal(out.items.length, 1);
    assert.deepEqual(out.items[0]!.payload, payload);
    assert.equal(out.items[0]!.payload.buffer.byteLength, 20_000);
  }
});

Deno.test("ChunkDemuxer applies the chunk size option", () => {
  const wire = join(hex("04 | 000000 | 000133 | 09 | 01000000"), PAYLOAD_307);
  const out = collect<RtmpMessage>();
  const demuxer = new ChunkDemuxer({ chunkSize: 4096 });
  demuxer.push(wire, out);
  assert.deepEqual(out.items, [msg(4, 9, 0, 1, PAYLOAD_307)]);
});

Deno.test("ChunkDemuxer rejects type 1, 2 and 3 headers on a chunk stream it has not seen", () => {
  for (
    const wire of [
      hex("43 000000 000001 08 00"),
      hex("83 000000"),
      hex("c3 00"),
    ]
  ) {
    assert.throws(() => new ChunkDemuxer().push(wire, collect()), {
      name: "ProtocolError",
      code: "sequence",
    });
  }
});

Deno.test("ChunkDemuxer rejects a type 0 header in the middle of a message", () => {
  const wire = join(
    hex("04 000000 000100 09 01000000"),
    bytes(128),
    hex("04 000000 000001 09 01000000 00"),
  );
  assert.throws(() => new ChunkDemuxer().push(wire, collect()), {
    name: "ProtocolError",
    code: "sequence",
  });
});

Deno.test("ChunkDemuxer rejects a message over maxMessageSize from its header alone", () => {
  const demuxer = new ChunkDemuxer({ maxMessageSize: 1000 });
  assert.throws(
    () => demuxer.push(hex("04 000000 0003e9 09 01000000"), collect()),
    {
      name: "ProtocolError",
      code: "limit",
    },
  );
  // a type 1 header announcing too much is caught the same way
  const other = new ChunkDemuxer({ maxMessageSize: 1000 });
  other.push(hex("04 000000 000001 09 01000000 00"), collect());
  assert.throws(() => other.push(hex("44 000000 ffffff 09"), collect()), {
    name: "ProtocolError",
    code: "limit",
  });
});

Deno.test("ChunkDemuxer checks Set Chunk Size: 0 and bit 31 malformed, above maxChunkSize a limit", () => {
  const cases = [
    { size: "00000000", code: "malformed" },
    { size: "80000000", code: "malformed" },
    { size: "7fffffff", code: "limit" },
    { size: "00010001", code: "limit" },
  ];
  for (const c of cases) {
    const demuxer = new ChunkDemuxer({ maxChunkSize: 65536 });
    assert.throws(
      () =>
        demuxer.push(hex(`02 000000 000004 01 00000000 ${c.size}`), collect()),
      {
        name: "ProtocolError",
        code: c.code,
      },
    );
  }
  assert.throws(
    () =>
      new ChunkDemuxer().push(
        hex("02 000000 000002 01 00000000 0010"),
        collect(),
      ),
    {
      name: "ProtocolError",
      code: "truncated",
    },
  );
  const demuxer = new ChunkDemuxer({ maxChunkSize: 65536 });
  demuxer.push(hex("02 000000 000004 01 00000000 00010000"), collect());
  assert.equal(demuxer.chunkSize, 65536);
});

Deno.test("ChunkDemuxer limits the number of chunk streams with state", () => {
  const demuxer = new ChunkDemuxer({ maxChunkStreams: 2 });
  const out = collect<RtmpMessage>();
  demuxer.push(hex("03 000000 000001 14 00000000 00"), out);
  demuxer.push(hex("04 000000 000001 14 00000000 00"), out);
  demuxer.push(hex("04 000000 000001 14 00000000 00"), out); // a known id is fine
  assert.throws(
    () => demuxer.push(hex("05 000000 000001 14 00000000 00"), out),
    {
      name: "ProtocolError",
      code: "limit",
    },
  );
});

Deno.test("ChunkDemuxer end() rejects input that stops inside a header or a message", () => {
  for (
    const wire of [
      hex("04 000000 0000"),
      join(hex("04 000000 000100 09 01000000"), bytes(10)),
    ]
  ) {
    const demuxer = new ChunkDemuxer();
    demuxer.push(wire, collect());
    assert.throws(() => demuxer.end(), {
      name: "ProtocolError",
      code: "truncated",
    });
  }
});

Deno.test("ChunkDemuxerStream decodes chunks from a stream", async () => {
  const wire = CASES[1]!.wire;
  const parts = [wire.subarray(0, 20), wire.subarray(20)];
  const items: RtmpMessage[] = [];
  for await (
    const m of ReadableStream.from(parts).pipeThrough(new ChunkDemuxerStream())
  ) items.push(m);
  assert.deepEqual(items, CASES[1]!.messages);
});

/** Messages back to chunks, as a peer's ChunkMuxer at the default chunk size sends them. */
function mux(messages: RtmpMessage[]): Uint8Array {
  const muxer = new ChunkMuxer();
  const out = collect<Uint8Array>();
  for (const m of messages) muxer.push(m, out);
  return concat(out.items);
}

// §5.3.1.2: which header type a message gets is the sender's choice; the
// muxer's choice gives these fixtures back byte for byte, and the rest the
// same messages.
const MUXED_ALIKE = new Set([
  "a type-0 command in one chunk",
  "the §5.3.2.1 audio example (type 0, 2, 3, 3)",
  "the §5.3.2.2 video example (307 bytes in three chunks)",
  "a type-1 header changing length and type",
  "ffmpeg: extended timestamp repeated on type-3 continuation chunks",
]);

const OVER_256 = new Set([
  "Set Chunk Size between two chunks of a video message",
  "Abort Message dropping a partial message",
]);

Deno.test("ChunkDemuxer keeps the stage contract, ChunkMuxer returning what it reads", () => {
  const fixtures = CASES.map((c) => ({
    name: c.name,
    bytes: c.wire,
    expect: c.messages,
    roundTrip: MUXED_ALIKE.has(c.name) ? "bytes" as const : "items" as const,
  }));
  checkStageContract(() => new ChunkDemuxer(), {
    fixtures,
    encode: mux,
    runs: 300,
  });
  checkStageContract(
    () =>
      new ChunkDemuxer({
        maxMessageSize: 256,
        maxChunkStreams: 4,
        maxChunkSize: 512,
      }),
    {
      // the cases that announce no message over 256 bytes, aborted or not
      fixtures: fixtures.filter((f) =>
        !OVER_256.has(f.name) && f.expect.every((m) => m.payload.length <= 256)
      ),
      encode: mux,
      roundTrip: "items",
      runs: 200,
    },
  );
});

/** The same chunks without the extended timestamp after each type-3 header, as rtmpdump sends them. */
function withoutRepeatedExtended(
  wire: Uint8Array,
  m: RtmpMessage,
  chunkSize: number,
): Uint8Array {
  const basic = m.chunkStreamId < 64 ? 1 : m.chunkStreamId < 320 ? 2 : 3;
  const parts: Uint8Array[] = [wire.subarray(0, basic + 15)];
  let pos = basic + 15;
  let left = m.payload.length;
  while (true) {
    const take = Math.min(chunkSize, left);
    parts.push(wire.subarray(pos, pos + take));
    pos += take;
    left -= take;
    if (left === 0) break;
    parts.push(wire.subarray(pos, pos + basic));
    pos += basic + 4;
  }
  return join(...parts);
}

Deno.test("ChunkDemuxer reads extended timestamps with and without repeats on type 3 alike", () => {
  const message = fc.record({
    chunkStreamId: fc.oneof(
      fc.integer({ min: 2, max: 63 }),
      fc.integer({ min: 64, max: 65599 }),
    ),
    typeId: fc.constantFrom(8, 9),
    timestamp: fc.integer({ min: 0xffffff, max: 0xffffffff }),
    streamId: fc.constant(1),
    payload: fc.tuple(fc.integer({ min: 1, max: 600 }), fc.nat(255)).map((
      [n, from],
    ) => bytes(n, from)),
  });
  fc.assert(
    fc.property(
      message,
      fc.integer({ min: 1, max: 300 }),
      fc.nat(),
      (m, chunkSize, cut) => {
        const repeated = encodeMessage(m, chunkSize);
        const plain = withoutRepeatedExtended(repeated, m, chunkSize);
        // chunk data that starts with the timestamp itself would be taken for a repeat
        const ts = hex(m.timestamp.toString(16).padStart(8, "0"));
        for (let at = chunkSize; at < m.payload.length; at += chunkSize) {
          fc.pre(m.payload.subarray(at, at + 4).join() !== ts.join());
        }
        for (const wire of [repeated, plain]) {
          const demuxer = new ChunkDemuxer({ chunkSize });
          const out = collect<RtmpMessage>();
          const at = cut % (wire.length + 1);
          demuxer.push(wire.subarray(0, at), out);
          demuxer.push(wire.subarray(at), out);
          // rtmpdump's last chunk may be shorter than the 4 bytes looked at: one more chunk ends it
          demuxer.push(hex("02 000000 000000 14 00000000"), out);
          demuxer.end();
          assert.deepEqual(out.items[0], { ...m });
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("ChunkDemuxer bounds the bytes of unfinished messages over all chunk streams", () => {
  const demuxer = new ChunkDemuxer({ maxPendingBytes: 1000 });
  const out = collect<RtmpMessage>();
  // Three 600-byte messages begun on three chunk streams, 128 bytes each: fine (384 held) …
  for (const csid of [4, 5, 6]) {
    const wire = encodeMessage({
      chunkStreamId: csid,
      typeId: 9,
      timestamp: 0,
      streamId: 1,
      payload: new Uint8Array(600),
    }, 128);
    demuxer.push(wire.subarray(0, 12 + 128), out);
  }
  // … and more of each goes past 1000 bytes held at once.
  const more = encodeMessage({
    chunkStreamId: 7,
    typeId: 9,
    timestamp: 0,
    streamId: 1,
    payload: new Uint8Array(900),
  }, 128);
  assert.throws(() => demuxer.push(more.subarray(0, 800), out), {
    name: "ProtocolError",
    code: "limit",
  });
});

Deno.test("ChunkDemuxer frees the pending count as messages complete", () => {
  const demuxer = new ChunkDemuxer({ maxPendingBytes: 1000 });
  const out = collect<RtmpMessage>();
  const wire = encodeMessage({
    chunkStreamId: 4,
    typeId: 9,
    timestamp: 0,
    streamId: 1,
    payload: new Uint8Array(900),
  }, 128);
  for (let i = 0; i < 20; i++) {
    // each message arrives in two reads, so its first part is held
    demuxer.push(wire.subarray(0, 500), out);
    demuxer.push(wire.subarray(500), out);
  }
  assert.equal(out.items.length, 20);
});
