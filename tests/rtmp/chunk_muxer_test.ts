import assert from "node:assert/strict";
import fc from "fast-check";
import { ChunkDemuxer } from "../../lib/rtmp/chunk_demuxer.ts";
import {
  ChunkMuxer,
  ChunkMuxerStream,
  encodeMessage,
} from "../../lib/rtmp/chunk_muxer.ts";
import { setChunkSize } from "../../lib/rtmp/control.ts";
import { MESSAGE_TYPE, type RtmpMessage } from "../../lib/rtmp/message.ts";
import { collect, hex, toHex } from "../_util/bytes.ts";

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

function mux(messages: RtmpMessage[], muxer = new ChunkMuxer()): Uint8Array[] {
  const out = collect<Uint8Array>();
  for (const m of messages) muxer.push(m, out);
  return out.items;
}

Deno.test("ChunkMuxer writes the §5.3.2.1 audio example as type 0, 2, 3, 3", () => {
  const audio = bytes(32, 100);
  const wire = mux(
    [1000, 1020, 1040, 1060].map((ts) => msg(3, 8, ts, 12345, audio)),
  );
  assert.deepEqual(wire.map(toHex), [
    toHex(join(hex("03 | 0003e8 | 000020 | 08 | 39300000"), audio)),
    toHex(join(hex("83 | 000014"), audio)),
    toHex(join(hex("c3"), audio)),
    toHex(join(hex("c3"), audio)),
  ]);
});

Deno.test("ChunkMuxer writes the §5.3.2.2 video example as three chunks", () => {
  const video = bytes(307);
  const [wire] = mux([msg(4, 9, 1000, 12345, video)]);
  assert.equal(
    toHex(wire!),
    toHex(join(
      hex("04 | 0003e8 | 000133 | 09 | 39300000"),
      video.subarray(0, 128),
      hex("c4"),
      video.subarray(128, 256),
      hex("c4"),
      video.subarray(256),
    )),
  );
});

Deno.test("ChunkMuxer picks type 1 for a new length and type 0 for a new stream or a step back", () => {
  const wire = mux([
    msg(6, 8, 100, 1, bytes(2)),
    msg(6, 8, 140, 1, bytes(3)), // new length: type 1
    msg(6, 8, 150, 2, bytes(3)), // new message stream id: type 0
    msg(6, 8, 120, 2, bytes(3)), // backwards: type 0
    msg(6, 8, 120, 2, bytes(3)), // delta 0, after a type 0: type 2
  ]);
  assert.deepEqual(wire.map((w) => toHex(w.subarray(0, 8))), [
    toHex(hex("06 000064 000002 08")),
    toHex(hex("46 000028 000003 08")),
    toHex(hex("06 000096 000003 08")),
    toHex(hex("06 000078 000003 08")),
    toHex(hex("86 000000 | 000102")), // the whole 7-byte message
  ]);
});

Deno.test("ChunkMuxer without compression always writes type 0", () => {
  const wire = mux(
    [msg(3, 8, 0, 1, bytes(1)), msg(3, 8, 20, 1, bytes(1))],
    new ChunkMuxer({ compress: false }),
  );
  assert.deepEqual(wire.map(toHex), [
    toHex(hex("03 000000 000001 08 01000000 00")),
    toHex(hex("03 000014 000001 08 01000000 00")),
  ]);
});

Deno.test("ChunkMuxer changes its chunk size after a Set Chunk Size message", () => {
  const muxer = new ChunkMuxer();
  const wire = mux([
    msg(7, 9, 0, 1, bytes(200)),
    setChunkSize(4096),
    msg(7, 9, 0, 1, bytes(200)),
  ], muxer);
  assert.equal(wire[0]!.length, 12 + 200 + 1);
  assert.equal(
    toHex(wire[1]!),
    toHex(hex("02 000000 000004 01 00000000 00001000")),
  );
  assert.equal(wire[2]!.length, 4 + 200); // type 2, one chunk
  assert.equal(muxer.chunkSize, 4096);
});

Deno.test("ChunkMuxer writes 2- and 3-byte basic headers (§5.3.1.1)", () => {
  const wire = mux([
    msg(64, 8, 0, 1, bytes(1)),
    msg(319, 8, 0, 1, bytes(1)),
    msg(320, 8, 0, 1, bytes(1)),
  ]);
  assert.deepEqual(wire.map((w) => toHex(w.subarray(0, 3))), [
    toHex(hex("00 00 00")),
    toHex(hex("00 ff 00")),
    toHex(hex("01 00 01")),
  ]);
  const [big] = mux([msg(65599, 8, 0, 1, bytes(130))]);
  assert.equal(toHex(big!.subarray(0, 3)), toHex(hex("01 ff ff")));
  assert.equal(
    toHex(big!.subarray(3 + 11 + 128, 3 + 11 + 128 + 3)),
    toHex(hex("c1 ff ff")),
  );
});

Deno.test("ChunkMuxer reset() makes the next message on that id a type 0", () => {
  const muxer = new ChunkMuxer();
  mux([msg(6, 8, 0, 1, bytes(1))], muxer);
  muxer.reset(6);
  assert.equal(mux([msg(6, 8, 20, 1, bytes(1))], muxer)[0]![0], 0x06);
});

Deno.test("encodeMessage repeats the extended timestamp on type-3 chunks (§5.3.1.3)", () => {
  const payload = bytes(200);
  const wire = encodeMessage(msg(6, 9, 0x1000000, 1, payload), 128);
  assert.equal(
    toHex(wire),
    toHex(join(
      hex("06 | ffffff | 0000c8 | 09 | 01000000 | 01000000"),
      payload.subarray(0, 128),
      hex("c6 | 01000000"),
      payload.subarray(128),
    )),
  );
  assert.equal(
    wire.byteLength,
    wire.buffer.byteLength,
    "allocated exactly once",
  );
});

Deno.test("encodeMessage uses the 24-bit field up to 0xFFFFFE", () => {
  const wire = encodeMessage(msg(6, 9, 0xfffffe, 1, bytes(1)), 128);
  assert.equal(toHex(wire), toHex(hex("06 fffffe 000001 09 01000000 00")));
});

Deno.test("encodeMessage writes an empty message as one header", () => {
  assert.equal(
    toHex(encodeMessage(msg(5, 18, 0, 1, new Uint8Array(0)), 128)),
    toHex(hex("05 000000 000000 12 01000000")),
  );
});

Deno.test("ChunkMuxer and encodeMessage reject messages they cannot write", () => {
  const bad = [
    msg(1, 8, 0, 1, bytes(1)),
    msg(65600, 8, 0, 1, bytes(1)),
    msg(3, 256, 0, 1, bytes(1)),
    msg(3, 8, -1, 1, bytes(1)),
    msg(3, 8, 2 ** 32, 1, bytes(1)),
    msg(3, 8, 0, 2 ** 32, bytes(1)),
    msg(3, 8, 0.5, 1, bytes(1)),
    msg(2, 1, 0, 0, hex("00000000")), // Set Chunk Size 0
  ];
  for (const m of bad) {
    assert.throws(() => new ChunkMuxer().push(m, collect()), RangeError);
  }
  assert.throws(() => encodeMessage(msg(3, 8, 0, 1, bytes(1)), 0), RangeError);
  assert.throws(() => new ChunkMuxer({ chunkSize: 2 ** 31 }), RangeError);
});

Deno.test("ChunkMuxerStream muxes messages from a stream", async () => {
  const messages = [msg(3, 20, 0, 0, bytes(5)), msg(3, 20, 0, 0, bytes(5))];
  const out: Uint8Array[] = [];
  for await (
    const b of ReadableStream.from(messages).pipeThrough(new ChunkMuxerStream())
  ) out.push(b);
  assert.deepEqual(out, mux(messages));
});

// --- Encode → decode round trips ---

const chunkStreamId = fc.oneof(
  fc.integer({ min: 2, max: 63 }),
  fc.integer({ min: 64, max: 319 }),
  fc.integer({ min: 320, max: 65599 }),
);
const timestamp = fc.oneof(
  fc.integer({ min: 0, max: 5000 }),
  fc.integer({ min: 0xffff00, max: 0x1000100 }),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const message = fc.record({
  chunkStreamId,
  typeId: fc.constantFrom(8, 9, 18, 20),
  timestamp,
  streamId: fc.constantFrom(0, 1, 0xffffffff),
  // lengths spread evenly (fast-check's own arrays stay mostly a few bytes long)
  payload: fc.tuple(fc.integer({ min: 0, max: 700 }), fc.nat(255)).map((
    [n, from],
  ) => bytes(n, from)),
});
/** Messages with a few Set Chunk Size messages and repeated headers mixed in. */
const script = fc.array(
  fc.oneof(
    { weight: 6, arbitrary: message },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 1000 }).map((n) => setChunkSize(n)),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        repeat: fc.nat(),
        step: fc.integer({ min: 0, max: 0x1000010 }),
      }),
    },
  ),
  { maxLength: 25, size: "max" },
);

/** Resolves the `repeat` entries into messages close to an earlier one (so compression kicks in). */
function resolve(
  entries: (RtmpMessage | { repeat: number; step: number })[],
): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  for (const e of entries) {
    if (!("repeat" in e)) {
      out.push(e);
      continue;
    }
    const media = out.filter((m) => m.typeId !== MESSAGE_TYPE.SET_CHUNK_SIZE);
    const base = media[e.repeat % Math.max(1, media.length)];
    if (base === undefined) continue;
    out.push({ ...base, timestamp: (base.timestamp + e.step) % 2 ** 32 });
  }
  return out;
}

function splitAt(wire: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((
    a,
    b,
  ) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(wire.subarray(from, p));
    from = p;
  }
  parts.push(wire.subarray(from));
  return parts;
}

Deno.test("ChunkMuxer output decodes to the same messages, split anywhere", () => {
  fc.assert(
    fc.property(
      script,
      fc.boolean(),
      fc.array(fc.nat(), { maxLength: 6 }),
      (entries, compress, cuts) => {
        const messages = resolve(entries);
        const wire = join(...mux(messages, new ChunkMuxer({ compress })));
        const demuxer = new ChunkDemuxer();
        const out = collect<RtmpMessage>();
        for (const part of splitAt(wire, cuts)) demuxer.push(part, out);
        demuxer.end();
        assert.deepEqual(out.items.map(plain), messages.map(plain));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("encodeMessage output decodes on its own and between ChunkMuxer messages", () => {
  fc.assert(
    fc.property(
      script,
      fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
      fc.integer({ min: 1, max: 5000 }),
      (entries, shared, chunkSize) => {
        const messages = resolve(entries).filter((m) =>
          m.typeId !== MESSAGE_TYPE.SET_CHUNK_SIZE
        );
        const muxer = new ChunkMuxer({ chunkSize });
        const out = collect<Uint8Array>();
        messages.forEach((m, i) => {
          if (shared[i]) {
            const bytes = encodeMessage(m, chunkSize);
            // on its own, to a fresh player
            const alone = collect<RtmpMessage>();
            new ChunkDemuxer({ chunkSize }).push(bytes, alone);
            assert.deepEqual(alone.items.map(plain), [plain(m)]);
            out.enqueue(bytes);
            muxer.reset(m.chunkStreamId);
          } else muxer.push(m, out);
        });
        const demuxer = new ChunkDemuxer({ chunkSize });
        const decoded = collect<RtmpMessage>();
        for (const b of out.items) demuxer.push(b, decoded);
        demuxer.end();
        assert.deepEqual(decoded.items.map(plain), messages.map(plain));
      },
    ),
    { numRuns: 300 },
  );
});

/** Compares payloads by content, not by buffer. */
function plain(m: RtmpMessage) {
  return { ...m, payload: toHex(m.payload) };
}
