import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import {
  encodeFlvTag,
  FlvDemuxer,
  FlvDemuxerStream,
  flvHeader,
  FlvMuxer,
  FlvMuxerStream,
} from "../../lib/flv/file.ts";
import type { FlvTag } from "../../lib/flv/tag.ts";
import { collect, hex, splitsOf } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";
import { tagsOf, testdata } from "./_util.ts";

// FLV v10.1 §E.2 header, §E.3 body, §E.4.1 tag header
const HEADER = "464c56 | 01 | 05 | 00000009"; // "FLV", version 1, audio + video, DataOffset 9
const CASES: { name: string; wire: string; tags: FlvTag[] }[] = [
  {
    name: "a header and no tags",
    wire: `${HEADER} | 00000000`,
    tags: [],
  },
  {
    name: "an audio and a video tag",
    wire: `${HEADER} | 00000000
      | 08 000002 000028 00 000000 | af01 | 0000000d
      | 09 000003 000050 00 000000 | 270100 | 0000000e`,
    tags: [
      { type: 8, timestamp: 0x28, data: hex("af01") },
      { type: 9, timestamp: 0x50, data: hex("270100") },
    ],
  },
  {
    name: "a timestamp with TimestampExtended (bits 31..24)",
    wire: `${HEADER} | 00000000 | 12 000001 123456 01 000000 | 02 | 0000000c`,
    tags: [{ type: 18, timestamp: 0x01123456, data: hex("02") }],
  },
  {
    name: "a DataOffset past the 9-byte header and a skipped tag type",
    wire: `464c56 01 01 0000000b | eeee | 00000000
      | 0f 000001 000000 00 000000 | 00 | 0000000c
      | 09 000001 000001 00 000000 | 17 | 0000000c`,
    tags: [{ type: 9, timestamp: 1, data: hex("17") }],
  },
  {
    name: "a file ending without its last PreviousTagSize",
    wire: `${HEADER} | 00000000 | 08 000001 000000 00 000000 | af`,
    tags: [{ type: 8, timestamp: 0, data: hex("af") }],
  },
];
for (const c of CASES) {
  Deno.test(`FlvDemuxer reads ${c.name} at every split point`, () => {
    for (const parts of splitsOf(hex(c.wire))) {
      const demuxer = new FlvDemuxer();
      const out = collect<FlvTag>();
      for (const part of parts) demuxer.push(part, out);
      demuxer.end();
      assert.deepEqual(out.items, c.tags);
    }
  });
}

Deno.test("FlvDemuxer rejects a bad signature, a tag over maxTagSize, an encrypted tag", () => {
  assert.throws(
    () => new FlvDemuxer().push(hex("464c57 01 05 00000009"), collect()),
    {
      name: "ProtocolError",
      code: "malformed",
    },
  );
  assert.throws(
    () => new FlvDemuxer().push(hex("464c56 01 05 00001000"), collect()),
    { code: "limit" },
  );
  const big = hex(`${HEADER} | 00000000 | 09 000101 000000 00 000000`);
  assert.throws(
    () => new FlvDemuxer({ maxTagSize: 256 }).push(big, collect()),
    { protocol: "flv", code: "limit" },
  );
  const encrypted = hex(
    `${HEADER} | 00000000 | 28 000001 000000 00 000000 | 00`,
  );
  assert.throws(() => new FlvDemuxer().push(encrypted, collect()), {
    code: "unsupported",
  });
});

Deno.test("FlvDemuxer rejects input that ends inside a tag or a PreviousTagSize", () => {
  for (
    const wire of [
      `${HEADER} | 00000000 | 08 000002 000000 00 000000 | af`,
      `${HEADER} | 0000`,
      "464c56",
    ]
  ) {
    const demuxer = new FlvDemuxer();
    demuxer.push(hex(wire), collect());
    assert.throws(() => demuxer.end(), {
      name: "ProtocolError",
      code: "truncated",
    }, wire);
  }
});

Deno.test("FlvDemuxer unwraps timestamps of the tags it reads only, not of skipped ones", () => {
  // §E.4.1: type 15 is reserved; its timestamp 0x81000000 would make the
  // next tag's 1 ms look like a wrap to 2^32 + 1
  const wire = hex(`${HEADER} | 00000000
    | 0f 000001 000000 81 000000 | 00 | 0000000c
    | 09 000001 000001 00 000000 | 17 | 0000000c`);
  assert.deepEqual(tagsOf(wire), [{ type: 9, timestamp: 1, data: hex("17") }]);
});

Deno.test("FlvDemuxer reads script data on the media clock without moving it: onMetaData at 0 before media at 0x90000000", () => {
  // an encoder whose clock has run past 2^31 ms stamps its media so, and
  // onMetaData 0; one shared unwrapping would make the media's times negative
  const wire = hex(`${HEADER} | 00000000
    | 12 000001 000000 00 000000 | 05 | 0000000c
    | 09 000001 000000 90 000000 | 17 | 0000000c
    | 12 000001 000010 90 000000 | 05 | 0000000c`);
  assert.deepEqual(tagsOf(wire).map((t) => t.timestamp), [
    0,
    0x90000000,
    0x90000010,
  ]);
});

Deno.test("FlvDemuxer unwraps timestamps past 2^32 ms", () => {
  const file = concat([
    flvHeader(true, false),
    encodeFlvTag({ type: 8, timestamp: 0xffffffff - 10, data: hex("af01") }),
    encodeFlvTag({ type: 8, timestamp: 0x100000000 + 10, data: hex("af01") }),
  ]);
  assert.deepEqual(tagsOf(file).map((t) => t.timestamp), [
    0xffffffff - 10,
    0x100000000 + 10,
  ]);
});

// Files ffmpeg wrote (tests/testdata/flv/README.md); counts from ffprobe -show_packets
const FILES = [
  {
    file: "h264_aac.flv",
    audio: 88 + 1,
    video: 50 + 2,
    script: 1,
    flags: { hasAudio: true, hasVideo: true },
  },
  {
    file: "h264_mp3.flv",
    audio: 41,
    video: 15 + 2,
    script: 1,
    flags: { hasAudio: true, hasVideo: true },
  },
  {
    file: "mp3_44k.flv",
    audio: 40,
    video: 0,
    script: 1,
    flags: { hasAudio: true, hasVideo: false },
  },
  {
    file: "pcma.flv",
    audio: 8,
    video: 0,
    script: 1,
    flags: { hasAudio: true, hasVideo: false },
  },
];
for (const c of FILES) {
  Deno.test(`FlvDemuxer reads every tag of ${c.file}, read in 1000-byte pieces`, () => {
    const file = testdata(`flv/${c.file}`);
    const demuxer = new FlvDemuxer();
    const out = collect<FlvTag>();
    for (let i = 0; i < file.length; i += 1000) {
      demuxer.push(file.subarray(i, i + 1000), out);
    }
    demuxer.end();
    const count = (type: number) =>
      out.items.filter((t) => t.type === type).length;
    assert.deepEqual([count(8), count(9), count(18)], [
      c.audio,
      c.video,
      c.script,
    ]);
    assert.deepEqual(demuxer.header, c.flags);
  });

  Deno.test(`FlvDemuxer → FlvMuxer returns ${c.file} byte for byte`, () => {
    const file = testdata(`flv/${c.file}`);
    const muxer = new FlvMuxer(c.flags);
    const out = collect<Uint8Array>();
    for (const tag of tagsOf(file)) muxer.push(tag, out);
    muxer.end(out);
    assert.deepEqual(concat(out.items), file);
  });
}

Deno.test("encodeFlvTag writes the tag header, the body and PreviousTagSize", () => {
  assert.deepEqual(
    encodeFlvTag({ type: 9, timestamp: 0x01234567, data: hex("1701") }),
    hex("09 000002 234567 01 000000 | 1701 | 0000000d"),
  );
  assert.deepEqual(
    flvHeader(false, true),
    hex("464c56 01 01 00000009 | 00000000"),
  );
});

Deno.test("FlvMuxer writes the header even for no tags", () => {
  const out = collect<Uint8Array>();
  new FlvMuxer({ hasVideo: false }).end(out);
  assert.deepEqual(out.items, [hex("464c56 01 04 00000009 00000000")]);
});

Deno.test("FlvDemuxerStream and FlvMuxerStream pipe a file through unchanged", async () => {
  const file = testdata("flv/h264_mp3.flv");
  const pieces = Array.from(
    { length: Math.ceil(file.length / 4096) },
    (_, i) => file.subarray(i * 4096, (i + 1) * 4096),
  );
  const chunks: Uint8Array[] = [];
  const stream = ReadableStream.from(pieces).pipeThrough(new FlvDemuxerStream())
    .pipeThrough(new FlvMuxerStream());
  for await (const chunk of stream) chunks.push(chunk);
  assert.deepEqual(concat(chunks), file);
});

/** A file of `tags` as FlvMuxer writes it, the header flags from the tag types. */
function muxFile(tags: FlvTag[]): Uint8Array {
  const muxer = new FlvMuxer({
    hasAudio: tags.some((t) => t.type === 8),
    hasVideo: tags.some((t) => t.type === 9),
  });
  const out = collect<Uint8Array>();
  for (const tag of tags) muxer.push(tag, out);
  muxer.end(out);
  return concat(out.items);
}

Deno.test("FlvDemuxer keeps the stage contract, FlvMuxer returning what it reads", () => {
  const pcma = testdata("flv/pcma.flv");
  // the first tags of ffmpeg's file up to 4000 bytes: small enough to split at every byte
  const tags = tagsOf(pcma);
  let n = 0;
  while (n < tags.length && muxFile(tags.slice(0, n + 1)).length <= 4000) n++;
  const fixtures = [
    ...CASES.map((c) => ({
      name: c.name,
      bytes: hex(c.wire),
      expect: c.tags,
      // §E.2: flags that say more than the tags, a longer DataOffset,
      // skipped tag types and a missing PreviousTagSize are read past, not kept
      roundTrip: c.name === "an audio and a video tag"
        ? "bytes" as const
        : "items" as const,
    })),
    {
      name: `ffmpeg's pcma.flv, its first ${n} tags`,
      bytes: pcma.subarray(0, muxFile(tags.slice(0, n)).length),
    },
    { name: "ffmpeg's pcma.flv", bytes: pcma },
    { name: "ffmpeg's h264_aac.flv", bytes: testdata("flv/h264_aac.flv") },
  ];
  checkStageContract(() => new FlvDemuxer(), { fixtures, encode: muxFile });
  // a small maxTagSize: bad input still ends in a ProtocolError
  checkStageContract(() => new FlvDemuxer({ maxTagSize: 16 }), {
    fixtures: fixtures.slice(0, CASES.length),
    encode: muxFile,
    roundTrip: "items",
  });
});
