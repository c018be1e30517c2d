import assert from "node:assert/strict";
import fc from "fast-check";
import type { AudioTrack, Frame } from "../../lib/media/mod.ts";
import {
  AacPacketizer,
  G711Packetizer,
  H264Packetizer,
  H265Packetizer,
  OpusPacketizer,
} from "../../lib/rtp/mod.ts";
import type { StageCore } from "../../lib/stage.ts";
import { packetize } from "./_payload.ts";

const AAC: AudioTrack = {
  kind: "audio",
  id: 0,
  codec: "AAC",
  clockRate: 48000,
  sampleRate: 48000,
  channels: 2,
  config: Uint8Array.of(0x11, 0x90),
};
const PCMA: AudioTrack = {
  kind: "audio",
  id: 0,
  codec: "PCMA",
  clockRate: 8000,
  sampleRate: 8000,
  channels: 1,
};
const OPUS: AudioTrack = {
  kind: "audio",
  id: 0,
  codec: "OPUS",
  clockRate: 48000,
  sampleRate: 48000,
  channels: 2,
};

type Packetizer = StageCore<Frame, Uint8Array>;
interface Start {
  ssrc: number;
  sequenceNumber: number;
  timestampOffset: number;
  maxPacketSize: number;
  headroom?: number;
}

/** Each packetizer with the NAL header byte its units start with. */
const MAKERS: [string, (o: Start) => Packetizer, number, number][] = [
  ["H264", (o) => new H264Packetizer(o), 0x65, 1],
  ["H265", (o) => new H265Packetizer(o), 0x26, 2],
  ["AAC", (o) => new AacPacketizer(AAC, o), -1, 0],
  ["G711", (o) => new G711Packetizer(PCMA, o), -1, 0],
  ["Opus", (o) => new OpusPacketizer(OPUS, o), -1, 0],
];

Deno.test("packetizers with headroom send the same packets, each behind that many free bytes of its own buffer", () => {
  for (const [name, make, nalType, nalHeader] of MAKERS) {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3000 }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 1, max: 64 }),
        (sizes, headroom) => {
          const frames: Frame[] = sizes.map((size, i) => {
            const unit = new Uint8Array(
              name === "Opus" ? Math.min(size, 1000) : size + nalHeader,
            ).fill(i + 1);
            if (nalType >= 0) unit[0] = nalType;
            return {
              trackId: 0,
              dts: i * 960,
              pts: i * 960,
              keyframe: i === 0,
              units: [unit],
            };
          });
          const start = {
            ssrc: 0x1234,
            sequenceNumber: 65530,
            timestampOffset: 7,
            maxPacketSize: 1400,
          };
          const plain = packetize(make(start), frames);
          const roomy = packetize(make({ ...start, headroom }), frames);
          assert.deepEqual(roomy, plain, name);
          for (const p of roomy) {
            assert.equal(p.byteOffset, headroom, name);
            assert.equal(p.buffer.byteLength, headroom + p.byteLength, name);
          }
        },
      ),
      { numRuns: 40 },
    );
  }
});

Deno.test("packetizers refuse a headroom that is not a small whole number", () => {
  const start = { ssrc: 1, sequenceNumber: 1, timestampOffset: 1 };
  for (const [name, make] of MAKERS) {
    for (const headroom of [-1, 1.5, 65, Number.NaN]) {
      assert.throws(
        () => make({ ...start, maxPacketSize: 1400, headroom }),
        RangeError,
        `${name} ${headroom}`,
      );
    }
  }
});
