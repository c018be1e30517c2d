import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import type { FlvTag } from "../../lib/flv/tag.ts";
import { parseAggregate } from "../../lib/rtmp/aggregate.ts";
import { ChunkDemuxer } from "../../lib/rtmp/chunk_demuxer.ts";
import { ChunkMuxer } from "../../lib/rtmp/chunk_muxer.ts";
import { MESSAGE_TYPE, type RtmpMessage } from "../../lib/rtmp/message.ts";
import type { StageCore } from "../../lib/stage.ts";
import { collect, hex } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";

// RTMP 1.0 §7.1.6 aggregate message: sub-messages, each an FLV tag (v10.1
// §E.4.1) followed by its back pointer:
//   type (1) | size (3) | timestamp (3) | timestamp bits 31..24 (1) | stream id (3) | data | back pointer (4) = 11 + size
const VIDEO = "09 | 000003 | 0003e8 | 00 | 000000 | 17 01 00 | 0000000e"; // 1000 ms
const AUDIO = "08 | 000002 | 0003ff | 00 | 000000 | af 01 | 0000000d"; // 1023 ms

Deno.test("parseAggregate gives each sub-message the aggregate's timestamp plus its offset from the first (§7.1.6)", () => {
  // the aggregate at 5000 ms: 1000 → 5000, 1023 → 5023
  assert.deepEqual(parseAggregate(hex(`${VIDEO} | ${AUDIO}`), 5000), [
    { type: 9, timestamp: 5000, data: hex("17 01 00") },
    { type: 8, timestamp: 5023, data: hex("af 01") },
  ]);
});

Deno.test("parseAggregate skips a data sub-message but takes its timestamp as the first", () => {
  // §7.1.6: the offset is to the first sub-message, whatever its type
  const data = "12 | 000001 | 0003d4 | 00 | 000000 | 05 | 0000000c"; // 980 ms
  assert.deepEqual(parseAggregate(hex(`${data} | ${VIDEO}`), 0), [
    { type: 9, timestamp: 20, data: hex("17 01 00") },
  ]);
});

Deno.test("parseAggregate reads a sub-message whose stream id is not 0: the aggregate's stream is the one", () => {
  const other = "09 | 000001 | 000000 | 00 | 000005 | 27 | 0000000c";
  assert.deepEqual(parseAggregate(hex(other), 7), [
    { type: 9, timestamp: 7, data: hex("27") },
  ]);
});

Deno.test("parseAggregate takes a last sub-message without its back pointer", () => {
  const cut = hex(`${VIDEO} | ${AUDIO}`);
  for (const missing of [1, 4]) {
    assert.equal(
      parseAggregate(cut.subarray(0, cut.length - missing), 0).length,
      2,
    );
  }
});

Deno.test("parseAggregate wraps timestamps at 2^32 as the aggregate's does (§5.3.1.2.1)", () => {
  // the aggregate at 0xfffffff0 ms; sub-messages 0x20 apart cross the wrap
  const wire = hex(`
    09 | 000001 | 000000 | 00 | 000000 | 27 | 0000000c
    09 | 000001 | 000020 | 00 | 000000 | 27 | 0000000c`);
  assert.deepEqual(
    parseAggregate(wire, 0xfffffff0).map((t) => t.timestamp),
    [0xfffffff0, 0x10],
  );
  // a sub-message before the first: 10 - 50 is 2^32 - 40, not -40
  const back = hex(`
    09 | 000001 | 000064 | 00 | 000000 | 27 | 0000000c
    09 | 000001 | 000032 | 00 | 000000 | 27 | 0000000c`);
  assert.deepEqual(parseAggregate(back, 60).map((t) => t.timestamp), [
    60,
    10,
  ]);
  assert.deepEqual(parseAggregate(back, 10).map((t) => t.timestamp), [
    10,
    0xffffffd8,
  ]);
});

Deno.test("parseAggregate gives nothing for an empty aggregate", () => {
  assert.deepEqual(parseAggregate(new Uint8Array(0), 0), []);
});

Deno.test("parseAggregate rejects a header cut short and a sub-message past the end", () => {
  for (
    const wire of [
      hex("09 000003 0003e8 00 0000"), // 10 of 11 header bytes
      hex("09 000004 0003e8 00 000000 | 17 01 00"), // 4 bytes said, 3 there
      hex(`${VIDEO} | 08`),
    ]
  ) {
    assert.throws(() => parseAggregate(wire, 0), {
      name: "ProtocolError",
      protocol: "rtmp",
      code: "truncated",
    });
  }
});

/** Chunk stream bytes → ChunkDemuxer → the tags of each aggregate message. */
function aggregateStage(): StageCore<Uint8Array, FlvTag> {
  const demuxer = new ChunkDemuxer();
  const tags = (out: { enqueue(t: FlvTag): void }) => ({
    enqueue: (m: RtmpMessage) => {
      if (m.typeId !== MESSAGE_TYPE.AGGREGATE) return;
      for (const tag of parseAggregate(m.payload, m.timestamp)) {
        out.enqueue(tag);
      }
    },
  });
  return {
    push: (chunk, out) => demuxer.push(chunk, tags(out)),
    end: () => demuxer.end(),
  };
}

/** An aggregate of `tags` on chunk stream 6, stream 1, stamped as its first tag, as ChunkMuxer sends it. */
function aggregateOf(tags: FlvTag[]): Uint8Array {
  const subs = tags.map((t) => {
    const size = t.data.length;
    const sub = new Uint8Array(11 + size + 4);
    const view = new DataView(sub.buffer);
    view.setUint32(0, (t.type << 24) | size);
    view.setUint32(4, ((t.timestamp & 0xffffff) << 8) | (t.timestamp >>> 24));
    sub.set(t.data, 11);
    view.setUint32(11 + size, 11 + size);
    return sub;
  });
  const muxer = new ChunkMuxer();
  const out = collect<Uint8Array>();
  muxer.push({
    chunkStreamId: 6,
    typeId: MESSAGE_TYPE.AGGREGATE,
    timestamp: tags[0]?.timestamp ?? 0,
    streamId: 1,
    payload: concat(subs),
  }, out);
  return concat(out.items);
}

Deno.test("parseAggregate behind ChunkDemuxer keeps the stage contract, an aggregate of the tags giving them back", () => {
  const two = [
    { type: 9 as const, timestamp: 1000, data: hex("17 01 00") },
    { type: 8 as const, timestamp: 1023, data: hex("af 01") },
  ];
  checkStageContract(aggregateStage, {
    fixtures: [
      {
        // §5.3.1.2.1 type-0 chunk: timestamp 1000, 35 bytes, type 22, stream 1
        name: "a video and an audio sub-message",
        bytes: hex(
          `06 | 0003e8 | 000023 | 16 | 01000000 | ${VIDEO} | ${AUDIO}`,
        ),
        expect: two,
      },
      {
        // the aggregate at 5000 ms, its sub-messages stamped from 1000
        name: "sub-messages stamped apart from the aggregate",
        bytes: hex(
          `06 | 001388 | 000023 | 16 | 01000000 | ${VIDEO} | ${AUDIO}`,
        ),
        expect: two.map((t) => ({ ...t, timestamp: t.timestamp + 4000 })),
        roundTrip: "items",
      },
      {
        name: "a 1000-byte video sub-message over eight chunks",
        bytes: aggregateOf([
          { type: 9, timestamp: 40, data: new Uint8Array(1000).fill(0x27) },
        ]),
      },
    ],
    encode: aggregateOf,
  });
});
