import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import {
  encodeInterleaved,
  InterleavedFramer,
  InterleavedFramerStream,
  interleavedHeader,
} from "../../lib/rtsp/interleaved.ts";
import { ProtocolError } from "../../lib/errors.ts";
import type { StageCore } from "../../lib/stage.ts";
import { collect, hex, splitsOf } from "../_util/bytes.ts";
import { checkStageContract } from "../_util/stage_contract.ts";

// RFC 2326 §10.12: '$', channel, 16-bit length, payload
const CASES = [
  {
    name: "one RTP packet",
    wire: hex("24 00 0004 | 80 60 00 01"),
    frames: [{ channel: 0, payload: hex("80 60 00 01") }],
  },
  {
    name: "RTP then RTCP in one read",
    wire: hex("24 00 0001 aa | 24 01 0002 bb cc"),
    frames: [{ channel: 0, payload: hex("aa") }, {
      channel: 1,
      payload: hex("bb cc"),
    }],
  },
  {
    name: "an empty frame on channel 255",
    wire: hex("24 ff 0000 | 24 02 0001 dd"),
    frames: [{ channel: 255, payload: hex("") }, {
      channel: 2,
      payload: hex("dd"),
    }],
  },
];
for (const c of CASES) {
  Deno.test(`InterleavedFramer decodes ${c.name} at every split point`, () => {
    for (const parts of splitsOf(c.wire)) {
      const framer = new InterleavedFramer();
      const out = collect();
      for (const part of parts) framer.push(part, out);
      framer.end();
      assert.deepEqual(out.items, c.frames);
    }
  });
}

Deno.test("InterleavedFramer rejects a payload over maxPayloadSize", () => {
  const framer = new InterleavedFramer({ maxPayloadSize: 2 });
  assert.throws(() => framer.push(hex("24 00 0003 010203"), collect()), {
    name: "RtspError",
    code: "limit",
  });
});

Deno.test("InterleavedFramer rejects a byte other than '$' where a frame starts", () => {
  assert.throws(
    () => new InterleavedFramer().push(hex("52 54 53 50"), collect()),
    { name: "RtspError", code: "malformed" },
  );
});

Deno.test("InterleavedFramer rejects input ending inside a frame", () => {
  const framer = new InterleavedFramer();
  framer.push(hex("24 00 0004 01"), collect());
  assert.throws(() => framer.end(), { name: "RtspError", code: "truncated" });
});

Deno.test("InterleavedFramer copies what waits for the next read", () => {
  const read = hex("24 00 0002 aa bb | 24 01 0003 cc");
  const framer = new InterleavedFramer();
  const out = collect<{ channel: number; payload: Uint8Array }>();
  framer.push(read, out);
  read.fill(0); // the socket reuses its buffer
  framer.push(hex("dd ee"), out);
  assert.deepEqual(out.items[1], { channel: 1, payload: hex("cc dd ee") });
});

Deno.test("interleavedHeader and encodeInterleaved write '$', channel and length", () => {
  assert.deepEqual(interleavedHeader(3, 0x1234), hex("24 03 1234"));
  assert.deepEqual(
    encodeInterleaved(1, hex("c8 00 00 06")),
    hex("24 01 0004 c8 00 00 06"),
  );
  assert.throws(() => interleavedHeader(256, 1), RangeError);
  assert.throws(() => interleavedHeader(0, 65536), RangeError);
  assert.throws(() => encodeInterleaved(-1, hex("00")), RangeError);
});

Deno.test("encodeInterleaved → InterleavedFramerStream returns the frames", async () => {
  const frames = [{ channel: 0, payload: new Uint8Array(1400).fill(7) }, {
    channel: 1,
    payload: hex("81 c9 0001"),
  }];
  const wire = frames.map((f) => encodeInterleaved(f.channel, f.payload));
  const got = [];
  for await (
    const f of ReadableStream.from(wire).pipeThrough(
      new InterleavedFramerStream(),
    )
  ) got.push(f);
  assert.deepEqual(got, frames);
});

Deno.test("InterleavedFramer keeps the stage contract, encodeInterleaved returning every fixture", () => {
  checkStageContract(() => new InterleavedFramer(), {
    fixtures: CASES.map((c) => ({
      name: c.name,
      bytes: c.wire,
      expect: c.frames,
    })),
    // one encoding per frame: '$', channel, exact length
    encode: (frames) =>
      concat(frames.map((f) => encodeInterleaved(f.channel, f.payload))),
  });
});

// The contract itself, on broken variants of this framer: each must fail it,
// with an AssertionError or fast-check's report of one.
const contractFailure = (e: unknown) =>
  e instanceof assert.AssertionError ||
  (e as Error).cause instanceof assert.AssertionError;
const FIXTURES = CASES.map((c) => ({ name: c.name, bytes: c.wire }));
const encodeFrames = (frames: { channel: number; payload: Uint8Array }[]) =>
  concat(frames.map((f) => encodeInterleaved(f.channel, f.payload)));
const BROKEN: { name: string; core: () => StageCore<Uint8Array, unknown> }[] = [
  {
    name: "rejects everything",
    core: () => ({
      push: () => {
        throw new ProtocolError("Cannot read: no", {
          protocol: "rtsp",
          code: "malformed",
        });
      },
    }),
  },
  {
    name: "gives nothing",
    core: () => ({ push: () => {} }),
  },
  {
    name: "starts afresh at each read",
    core: () => ({
      push: (chunk, out) => new InterleavedFramer().push(chunk, out),
    }),
  },
  {
    name: "overwrites its input",
    core: () => {
      const framer = new InterleavedFramer();
      return {
        push: (chunk, out) => {
          framer.push(chunk.slice(), out);
          chunk.fill(0x24);
        },
        end: () => framer.end(),
      };
    },
  },
  {
    name: "throws a TypeError on a bad magic byte",
    core: () => {
      const framer = new InterleavedFramer();
      return {
        push: (chunk, out) => {
          try {
            framer.push(chunk, out);
          } catch {
            throw new TypeError("oops");
          }
        },
        end: () => framer.end(),
      };
    },
  },
];
for (const b of BROKEN) {
  Deno.test(`checkStageContract fails a framer that ${b.name}`, () => {
    assert.throws(
      () =>
        checkStageContract(b.core, {
          fixtures: FIXTURES,
          encode: encodeFrames as (items: unknown[]) => Uint8Array,
          runs: 50,
        }),
      contractFailure,
    );
  });
}

Deno.test("checkStageContract fails an encoder that does not give the fixture back", () => {
  assert.throws(
    () =>
      checkStageContract(() => new InterleavedFramer(), {
        fixtures: FIXTURES,
        // channel 0 for every frame: RTCP would go out as RTP
        encode: (frames) =>
          concat(frames.map((f) => encodeInterleaved(0, f.payload))),
        runs: 50,
      }),
    contractFailure,
  );
});
